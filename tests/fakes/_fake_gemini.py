"""The fake `gemini`: non-interactive runs in Gemini CLI's stream-json format."""

from __future__ import annotations

import os
import shlex
import sys
import time
import uuid
from typing import Any

from _fakeagent import (
    APPENDED_CONTENT,
    FILE_CONTENT,
    Directives,
    FileOp,
    Format,
    Output,
    last,
    log_start,
    parse_args,
    read_piped_stdin,
    run,
    timestamp,
    usage_error,
)

VALUE_FLAGS = {
    "-o",
    "--output-format",
    "-m",
    "--model",
    "-p",
    "--prompt",
    "--approval-mode",
    "--resume",
    "-r",
}
LIST_FLAGS = {"--allowed-tools", "--include-directories", "--extensions", "-e"}

DEFAULT_MODEL = "gemini-2.5-pro"
AUTH_EXIT_CODE = 41


def auth_message() -> str:
    settings = os.path.join(os.path.expanduser("~"), ".gemini", "settings.json")
    return (
        f"Please set an Auth method in your {settings} or specify one of the "
        "following environment variables before running: GEMINI_API_KEY, "
        "GOOGLE_GENAI_USE_VERTEXAI, GOOGLE_GENAI_USE_GCA"
    )


class GeminiFormat(Format):
    """Gemini CLI's init, message, tool_use, tool_result, error and result events."""

    def __init__(self, out: Output, model: str, prompt: str, tokens: tuple[int, int]):
        super().__init__(out, model, tokens)
        self.prompt = prompt
        self.started = time.monotonic()
        self.tool_calls = 0

    def _event(self, kind: str, flush: bool = True, **fields: Any) -> None:
        self.out.event({"type": kind, "timestamp": timestamp(), **fields}, flush=flush)

    def _stats(self) -> dict[str, Any]:
        tokens_in, tokens_out = self.tokens
        return {
            "total_tokens": tokens_in + tokens_out,
            "input_tokens": tokens_in,
            "output_tokens": tokens_out,
            "cached": tokens_in // 2,
            "input": tokens_in - tokens_in // 2,
            "duration_ms": int((time.monotonic() - self.started) * 1000),
            "tool_calls": self.tool_calls,
        }

    def _tool(
        self, name: str, parameters: dict[str, Any], output: str, error: str = ""
    ) -> None:
        self.tool_calls += 1
        tool_id = f"{name}-{int(time.time() * 1000)}-{uuid.uuid4().hex[:12]}"
        self._event("tool_use", tool_name=name, tool_id=tool_id, parameters=parameters)
        if error:
            failure = {"type": "file_not_found", "message": error}
            self._event("tool_result", tool_id=tool_id, status="error", error=failure)
        else:
            self._event("tool_result", tool_id=tool_id, status="success", output=output)

    def start(self) -> None:
        self._event("init", session_id=self.session_id, model=self.model)
        self._event("message", role="user", content=self.prompt)

    def say(self, text: str, flush: bool = True) -> None:
        # Gemini streams a reply in fragments; two per reply shows the joins.
        middle = len(text) // 2
        for part in (text[:middle], text[middle:]):
            if part:
                self._event(
                    "message", flush=flush, role="assistant", content=part, delta=True
                )

    def command(self, command: str, output: str) -> None:
        self._tool("run_shell_command", {"command": command}, output)

    def file(self, op: FileOp) -> None:
        if op.kind == "write":
            params = {"file_path": op.path, "content": FILE_CONTENT}
            output = f"Successfully created and wrote to new file: {op.path}."
            self._tool("write_file", params, output, op.error)
        elif op.kind == "modify":
            params = {
                "file_path": op.path,
                "old_string": "",
                "new_string": APPENDED_CONTENT,
            }
            output = f"Successfully modified file: {op.path} (1 replacements)."
            self._tool("replace", params, output, op.error)
        else:
            params = {"command": f"rm {shlex.quote(op.name)}"}
            self._tool("run_shell_command", params, "", op.error)

    def finish(self) -> None:
        self.say("Done.")
        self._event("result", status="success", stats=self._stats())

    def fail(self, message: str) -> int:
        self._event("error", severity="error", message=message)
        failure = {"type": "Error", "message": message}
        self._event("result", status="error", error=failure, stats=self._stats())
        return 1

    def not_logged_in(self) -> int:
        # Credentials are checked before the session starts: no init event.
        message = auth_message()
        self.tokens = (0, 0)
        failure = {"type": "FatalAuthenticationError", "message": message}
        self._event("result", status="error", error=failure, stats=self._stats())
        sys.stderr.write(message + "\n")
        return AUTH_EXIT_CODE

    def partial_line(self) -> str:
        return '{"type":"message","timestamp":"'


def play() -> int:
    options, positional = parse_args(sys.argv[1:], VALUE_FLAGS, LIST_FLAGS)
    output_format = last(options, "-o", "--output-format") or "text"
    if output_format != "stream-json":
        return usage_error("gemini", "the fake only prints -o stream-json")
    flag_prompt = last(options, "-p", "--prompt")
    if flag_prompt is None and positional:
        flag_prompt = " ".join(positional)
    stdin = read_piped_stdin()
    # Gemini puts piped input first and the -p text after it.
    parts = [part for part in (stdin, flag_prompt) if part]
    if not parts:
        return usage_error("gemini", "No input provided via stdin.")
    prompt = "\n\n".join(parts)
    log_start("gemini", stdin)
    directives = Directives(prompt)
    model = last(options, "-m", "--model") or DEFAULT_MODEL
    out = Output(directives.has("garbage"))
    fmt = GeminiFormat(out, model, prompt, directives.tokens())
    return run(fmt, prompt, directives)
