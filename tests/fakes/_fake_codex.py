"""The fake `codex`: `codex exec --json` runs in Codex's JSON Lines format."""

from __future__ import annotations

import sys
from typing import Any

from _fakeagent import (
    Directives,
    FileOp,
    Format,
    Output,
    log_start,
    parse_args,
    read_piped_stdin,
    read_stdin,
    run,
    usage_error,
)

VALUE_FLAGS = {
    "--model",
    "-m",
    "--sandbox",
    "-s",
    "--add-dir",
    "--cd",
    "-C",
    "--config",
    "-c",
    "--profile",
    "-p",
    "--output-schema",
    "--output-last-message",
    "-o",
    "--color",
    "--image",
    "-i",
    "--local-provider",
}

UNAUTHORIZED = (
    "unexpected status 401 Unauthorized: "
    '{"error":{"message":"Missing bearer or basic authentication in header"}}'
)
FILE_KINDS = {"write": "add", "modify": "update", "delete": "delete"}


class CodexFormat(Format):
    """Codex exec's thread, turn and item events."""

    def __init__(self, out: Output, directives: Directives) -> None:
        super().__init__(out, "", directives.tokens())
        self.items = 0

    def _item(self, stage: str, item: dict[str, Any], flush: bool = True) -> None:
        self.out.event({"type": f"item.{stage}", "item": item}, flush=flush)

    def _next_id(self) -> str:
        self.items += 1
        return f"item_{self.items - 1}"

    def start(self) -> None:
        self.out.event({"type": "thread.started", "thread_id": self.session_id})
        self.out.event({"type": "turn.started"})
        reasoning = "**Reading the request**\n\nDeciding what to look at first."
        self._item(
            "completed",
            {"id": self._next_id(), "type": "reasoning", "text": reasoning},
        )

    def say(self, text: str, flush: bool = True) -> None:
        item = {"id": self._next_id(), "type": "agent_message", "text": text}
        self._item("completed", item, flush=flush)

    def command(self, command: str, output: str) -> None:
        item: dict[str, Any] = {
            "id": self._next_id(),
            "type": "command_execution",
            "command": f"bash -lc {command}",
            "aggregated_output": "",
            "exit_code": None,
            "status": "in_progress",
        }
        self._item("started", item)
        item.update(aggregated_output=output, exit_code=0, status="completed")
        self._item("completed", item)

    def file(self, op: FileOp) -> None:
        change = {"path": op.path, "kind": FILE_KINDS[op.kind]}
        item = {
            "id": self._next_id(),
            "type": "file_change",
            "changes": [change],
            "status": "failed" if op.error else "completed",
        }
        self._item("completed", item)

    def finish(self) -> None:
        self.say("Done.")
        tokens_in, tokens_out = self.tokens
        usage = {
            "input_tokens": tokens_in,
            "cached_input_tokens": tokens_in // 2,
            "output_tokens": tokens_out,
        }
        self.out.event({"type": "turn.completed", "usage": usage})

    def fail(self, message: str) -> int:
        self.out.event({"type": "error", "message": message})
        self.out.event({"type": "turn.failed", "error": {"message": message}})
        return 1

    def not_logged_in(self) -> int:
        self.out.event({"type": "thread.started", "thread_id": self.session_id})
        self.out.event({"type": "turn.started"})
        return self.fail(UNAUTHORIZED)

    def partial_line(self) -> str:
        return '{"type":"item.completed","item":{"id":"item_'


def play() -> int:
    options, positional = parse_args(sys.argv[1:], VALUE_FLAGS)
    if not positional or positional[0] != "exec":
        return usage_error("codex", "the fake only knows `codex exec`")
    if "--json" not in options:
        return usage_error("codex", "the fake only prints --json output")
    prompt = positional[1] if len(positional) > 1 else "-"
    stdin: str | None
    if prompt == "-":
        stdin = read_stdin()
        prompt = stdin
    else:
        # Codex appends piped stdin to an argv prompt.
        stdin = read_piped_stdin()
        if stdin:
            prompt = f"{prompt}\n\n<stdin>\n{stdin}\n</stdin>"
    log_start("codex", stdin)
    directives = Directives(prompt)
    fmt = CodexFormat(Output(directives.has("garbage")), directives)
    return run(fmt, prompt, directives)
