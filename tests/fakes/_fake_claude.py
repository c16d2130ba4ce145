"""The fake `claude`: print-mode runs in stream-json, and the planner's json mode."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
import uuid
from typing import Any

from _fakeagent import (
    APPENDED_CONTENT,
    FILE_CONTENT,
    Budget,
    Directives,
    FileOp,
    Format,
    Output,
    hang,
    last,
    log_start,
    parse_args,
    read_stdin,
    run,
    usage_error,
)

VALUE_FLAGS = {
    "--output-format",
    "--input-format",
    "--json-schema",
    "--model",
    "--fallback-model",
    "--append-system-prompt",
    "--system-prompt",
    "--permission-mode",
    "--max-turns",
    "--max-budget-usd",
    "--session-id",
    "--resume",
    "-r",
    "--settings",
    "--setting-sources",
    "--mcp-config",
    "--permission-prompt-tool",
    "--agents",
}
LIST_FLAGS = {
    "--allowedTools",
    "--allowed-tools",
    "--disallowedTools",
    "--disallowed-tools",
    "--add-dir",
    "--tools",
    "--betas",
}

DEFAULT_MODEL = "claude-sonnet-4-5-20250929"
DEFAULT_COST = 0.0123
NOT_LOGGED_IN = "Not logged in · Please run /login"
TOOLS = ["Task", "Bash", "Glob", "Grep", "Read", "Edit", "Write", "WebFetch"]


def usage_object(tokens_in: int, tokens_out: int) -> dict[str, Any]:
    """A Messages API usage object whose three input counts add up to tokens_in."""
    cache_read = tokens_in // 2
    cache_creation = tokens_in // 4
    return {
        "input_tokens": tokens_in - cache_read - cache_creation,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
        "output_tokens": tokens_out,
        "service_tier": "standard",
    }


def cost_of(tokens: tuple[int, int], directives: Directives) -> float:
    if directives.args("tokens") is None:
        return DEFAULT_COST
    return round(tokens[0] * 3e-6 + tokens[1] * 15e-6, 6)


class ClaudeFormat(Format):
    """Claude Code's stream-json: system, assistant, user and result events."""

    def __init__(self, out: Output, model: str, directives: Directives) -> None:
        super().__init__(out, model, directives.tokens())
        self.cost = cost_of(self.tokens, directives)
        self.budget = Budget(self.tokens)
        self.started = time.monotonic()
        self.turns = 1
        # The assistant message a tool call may still join, as Claude Code
        # prints each content block of one message as its own event.
        self.open: tuple[str, dict[str, Any]] | None = None

    def _envelope(self, kind: str, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": kind,
            "message": message,
            "parent_tool_use_id": None,
            "session_id": self.session_id,
            "uuid": str(uuid.uuid4()),
        }

    def _assistant(
        self,
        blocks: list[dict[str, Any]],
        join: bool = False,
        flush: bool = True,
        final: bool = False,
    ) -> None:
        if join and self.open is not None:
            message_id, usage = self.open
        else:
            message_id = f"msg_{uuid.uuid4().hex[:24]}"
            share = self.budget.rest() if final else self.budget.take()
            usage = usage_object(*share)
        self.open = (message_id, usage)
        message = {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": blocks,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        self.out.event(self._envelope("assistant", message), flush=flush)

    def _tool(self, name: str, tool_input: dict[str, Any], output: str, error: bool):
        tool_id = f"toolu_{uuid.uuid4().hex[:24]}"
        block = {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}
        self._assistant([block], join=True)
        self.open = None
        self.turns += 1
        result: dict[str, Any] = {
            "tool_use_id": tool_id,
            "type": "tool_result",
            "content": output,
        }
        if error:
            result["is_error"] = True
        self.out.event(self._envelope("user", {"role": "user", "content": [result]}))

    def _timing(self) -> dict[str, Any]:
        elapsed = int((time.monotonic() - self.started) * 1000)
        return {"duration_ms": elapsed, "duration_api_ms": elapsed}

    def start(self) -> None:
        self.out.event(
            {
                "type": "system",
                "subtype": "init",
                "cwd": os.getcwd(),
                "session_id": self.session_id,
                "tools": TOOLS,
                "mcp_servers": [],
                "model": self.model,
                "permissionMode": "default",
                "apiKeySource": "none",
                "uuid": str(uuid.uuid4()),
            }
        )

    def say(self, text: str, flush: bool = True) -> None:
        self._assistant([{"type": "text", "text": text}], flush=flush)

    def command(self, command: str, output: str) -> None:
        tool_input = {"command": command, "description": "List files"}
        self._tool("Bash", tool_input, output, False)

    def file(self, op: FileOp) -> None:
        if op.kind == "write":
            tool_input = {"file_path": op.path, "content": FILE_CONTENT}
            output = f"File created successfully at: {op.path}"
            self._tool("Write", tool_input, output, False)
        elif op.kind == "modify":
            tool_input = {
                "file_path": op.path,
                "old_string": "",
                "new_string": APPENDED_CONTENT,
            }
            output = (
                "<tool_use_error>File does not exist.</tool_use_error>"
                if op.error
                else f"The file {op.path} has been updated."
            )
            self._tool("Edit", tool_input, output, bool(op.error))
        else:
            command = f"rm {shlex.quote(op.name)}"
            output = f"rm: cannot remove '{op.name}': {op.error}" if op.error else ""
            tool_input = {"command": command, "description": f"Delete {op.name}"}
            self._tool("Bash", tool_input, output, bool(op.error))

    def finish(self) -> None:
        self.open = None
        self._assistant([{"type": "text", "text": "Done."}], final=True)
        self.out.event(self._result("success", False, result="Done."))

    def fail(self, message: str) -> int:
        self.out.event(self._result("error_during_execution", True, errors=[message]))
        return 1

    def not_logged_in(self) -> int:
        self.start()
        self.model = "<synthetic>"
        self.budget = Budget((0, 0))
        message = {
            "id": str(uuid.uuid4()),
            "type": "message",
            "role": "assistant",
            "model": "<synthetic>",
            "content": [{"type": "text", "text": NOT_LOGGED_IN}],
            "stop_reason": "stop_sequence",
            "usage": usage_object(0, 0),
        }
        self.out.event(
            {
                **self._envelope("assistant", message),
                "error": "authentication_failed",
                "is_api_error_message": True,
            }
        )
        self.cost = 0.0
        result = self._result("success", True, result=NOT_LOGGED_IN, spent=(0, 0))
        self.out.event({**result, "terminal_reason": "api_error"})
        return 1

    def _result(
        self,
        subtype: str,
        is_error: bool,
        result: str | None = None,
        errors: list[str] | None = None,
        spent: tuple[int, int] | None = None,
    ) -> dict[str, Any]:
        if spent is None:
            spent = (
                self.budget.total_in - self.budget.left_in,
                self.budget.total_out - self.budget.left_out,
            )
        event: dict[str, Any] = {
            "type": "result",
            "subtype": subtype,
            "is_error": is_error,
            **self._timing(),
            "num_turns": self.turns,
            "session_id": self.session_id,
            "total_cost_usd": self.cost,
            "usage": usage_object(*spent),
            "permission_denials": [],
            "uuid": str(uuid.uuid4()),
        }
        if result is not None:
            event["result"] = result
        if errors is not None:
            event["errors"] = errors
        return event


def plan_result(options: dict[str, list[str]], prompt: str, d: Directives) -> int:
    """Answer the planner: one JSON result object, as `--output-format json` does."""
    if d.has("plan-hang"):
        hang()
    pause = d.number("plan-slow")
    if pause:
        time.sleep(pause)
    session_id = str(uuid.uuid4())
    base = {
        "type": "result",
        "duration_ms": 1200,
        "duration_api_ms": 1100,
        "num_turns": 1,
        "session_id": session_id,
        "total_cost_usd": 0.0042,
        "usage": usage_object(2000 + len(prompt) // 4, 150),
        "permission_denials": [],
        "uuid": str(uuid.uuid4()),
    }
    if d.has("not-logged-in"):
        print(
            json.dumps(
                {
                    **base,
                    "subtype": "success",
                    "is_error": True,
                    "result": NOT_LOGGED_IN,
                    "total_cost_usd": 0,
                }
            )
        )
        return 1
    if d.has("plan-fail"):
        message = 'API Error: 500 {"type":"error","error":{"type":"api_error"}}'
        print(
            json.dumps(
                {**base, "subtype": "success", "is_error": True, "result": message}
            )
        )
        return 1
    if d.has("plan-garbage"):
        print("Let me think about this task...")
        print("<html><body>502 Bad Gateway</body></html>")
        return 0
    result: dict[str, Any] = {
        **base,
        "subtype": "success",
        "is_error": False,
        "result": "",
    }
    schema = last(options, "--json-schema")
    if schema is not None and not d.has("plan-no-structured"):
        # The real CLI answers through a tool call: one more turn, and the
        # plan's JSON repeated as the result text.
        structured = fit_schema(make_plan(prompt), schema)
        result["structured_output"] = structured
        result["result"] = json.dumps(structured, separators=(",", ":"))
        result["num_turns"] = 2
    print(json.dumps(result, ensure_ascii=False))
    return 0


def make_plan(prompt: str) -> dict[str, Any]:
    """A plan that runs the submitted description as written."""
    description, feedback = split_planner_prompt(prompt)
    plan_prompt = description
    if feedback:
        plan_prompt += f"\n\nReviewer feedback: {feedback}"
    return {
        "prompt": plan_prompt,
        "allowed_tools": ["Read", "Edit", "Write", "Bash"],
        "writable_dirs": [os.getcwd()],
        "system_prompt": "",
        "model": "",
        "estimated_tokens": 2000 + len(description) // 4,
        "estimated_seconds": 60,
        "timeout_seconds": 900,
        "reasoning": (
            f"Fake planner: received {len(description)} characters of description"
            f" in a prompt of {len(prompt)} characters."
        ),
    }


def split_planner_prompt(prompt: str) -> tuple[str, str]:
    """The task description and reviewer feedback inside the planner's prompt.

    The description sits between <task> tags; without them the whole prompt
    is taken as the description.
    """
    start = prompt.rfind("<task>\n")
    end = prompt.rfind("\n</task>")
    if start == -1 or end < start:
        return prompt, ""
    description = prompt[start + len("<task>\n") : end]
    feedback = ""
    marker = "The reviewer's feedback:\n"
    at = prompt.find(marker, 0, start)
    if at != -1:
        feedback = prompt[at + len(marker) : start].split("\n\n")[0].strip()
    return description, feedback


def fit_schema(plan: dict[str, Any], schema_text: str) -> dict[str, Any]:
    """The plan trimmed and filled so that it satisfies the given JSON schema."""
    try:
        schema = json.loads(schema_text)
    except ValueError:
        return plan
    if not isinstance(schema, dict):
        return plan
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return plan
    if schema.get("additionalProperties") is False:
        plan = {k: v for k, v in plan.items() if k in properties}
    defaults = {"string": "", "integer": 0, "number": 0, "array": [], "object": {}}
    for key in schema.get("required", []):
        if key not in plan:
            spec = properties.get(key)
            kind = spec.get("type") if isinstance(spec, dict) else None
            plan[key] = defaults.get(kind, "") if isinstance(kind, str) else ""
    return plan


def play() -> int:
    options, positional = parse_args(sys.argv[1:], VALUE_FLAGS, LIST_FLAGS)
    if "-p" not in options and "--print" not in options:
        return usage_error("claude", "the fake only knows print mode (-p)")
    if positional:
        stdin = None
        prompt = positional[0]
    else:
        stdin = read_stdin()
        prompt = stdin
    log_start("claude", stdin)
    directives = Directives(prompt)
    output_format = last(options, "--output-format") or "text"
    if output_format == "json":
        return plan_result(options, prompt, directives)
    if output_format != "stream-json":
        return usage_error("claude", f"the fake cannot print {output_format!r}")
    if "--verbose" not in options:
        sys.stderr.write(
            "Error: When using --print, --output-format=stream-json requires"
            " --verbose\n"
        )
        return 1
    model = last(options, "--model") or DEFAULT_MODEL
    fmt = ClaudeFormat(Output(directives.has("garbage")), model, directives)
    return run(fmt, prompt, directives)
