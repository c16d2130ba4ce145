"""Claude Code in print mode, read through its stream-json events."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from nightshift.core.agents.base import (
    AgentEvent,
    Error,
    Init,
    Invocation,
    Result,
    Text,
    ToolCall,
    ToolResult,
    Usage,
    extra_writable_dirs,
    looks_like_auth_failure,
    task_env,
)
from nightshift.core.agents.jsonl import (
    dicts,
    get_count,
    get_dict,
    get_float,
    get_int,
    get_list,
    get_str,
    load_object,
)
from nightshift.core.models import Task

# Usage is remembered per message id; a run never interleaves more messages
# than this, so older ids can be forgotten.
_REMEMBERED_MESSAGES = 256

_ERROR_SUBTYPES = {
    "error_max_turns": "the agent reached its turn limit",
    "error_max_budget_usd": "the agent reached its budget limit",
    "error_during_execution": "the agent stopped with an error",
}


class ClaudeAgent:
    """The `claude` CLI, given the prompt on stdin.

    Permissions follow the reviewed plan. A plan with writable directories
    runs in "acceptEdits" mode, with every writable directory outside the
    workdir added by `--add-dir`, so edits go through without a prompt nobody
    is there to answer. A plan without them runs in "default" mode, named
    explicitly so that a `defaultMode` in the user's own settings cannot
    quietly grant more than the reviewer approved; in print mode that means
    anything not read-only and not in `--allowedTools` is refused.
    """

    name = "claude"
    binary = "claude"

    def __init__(self) -> None:
        self._counted: OrderedDict[str, tuple[int, int]] = OrderedDict()

    def invocation(self, task: Task) -> Invocation:
        argv = [self.binary, "-p", "--output-format", "stream-json", "--verbose"]
        plan = task.plan
        if plan is not None:
            for tool in plan.allowed_tools:
                argv += ["--allowedTools", tool]
            if plan.system_prompt:
                argv += ["--append-system-prompt", plan.system_prompt]
            if plan.model:
                argv += ["--model", plan.model]
        writable = plan is not None and bool(plan.writable_dirs)
        argv += ["--permission-mode", "acceptEdits" if writable else "default"]
        for directory in extra_writable_dirs(task):
            argv += ["--add-dir", directory]
        return Invocation(argv=argv, stdin=task.prompt, env=task_env(task))

    def parse_line(self, line: str) -> list[AgentEvent]:
        event = load_object(line)
        if event is None:
            return []
        kind = get_str(event, "type")
        if kind == "system":
            return _system(event)
        if kind == "assistant":
            return self._assistant(event)
        if kind == "user":
            return _user(event)
        if kind == "result":
            return _result(event)
        return []

    def _assistant(self, event: dict[str, Any]) -> list[AgentEvent]:
        message = get_dict(event, "message")
        events: list[AgentEvent] = []
        for block in dicts(get_list(message, "content")):
            kind = get_str(block, "type")
            if kind == "text" and get_str(block, "text"):
                events.append(Text(get_str(block, "text")))
            elif kind == "tool_use" and get_str(block, "name"):
                events.append(
                    ToolCall(
                        tool=get_str(block, "name"),
                        input=get_dict(block, "input"),
                        call_id=get_str(block, "id"),
                    )
                )
        usage = self._usage(get_str(message, "id"), get_dict(message, "usage"))
        if usage is not None:
            events.append(usage)
        return events

    def _usage(self, message_id: str, usage: dict[str, Any]) -> Usage | None:
        # Claude Code prints one event per content block, each repeating the
        # whole message's usage (output_tokens may grow between them), so only
        # the growth since the message's previous event is counted.
        if not usage:
            return None
        total_in = input_tokens(usage)
        total_out = get_count(usage, "output_tokens")
        seen_in, seen_out = self._counted.get(message_id, (0, 0))
        if message_id:
            self._counted[message_id] = (
                max(seen_in, total_in),
                max(seen_out, total_out),
            )
            self._counted.move_to_end(message_id)
            if len(self._counted) > _REMEMBERED_MESSAGES:
                self._counted.popitem(last=False)
        new_in = max(total_in - seen_in, 0)
        new_out = max(total_out - seen_out, 0)
        if not new_in and not new_out:
            return None
        return Usage(input_tokens=new_in, output_tokens=new_out)


def input_tokens(usage: dict[str, Any]) -> int:
    """All prompt tokens of a Claude usage object, cached ones included."""
    return (
        get_count(usage, "input_tokens")
        + get_count(usage, "cache_creation_input_tokens")
        + get_count(usage, "cache_read_input_tokens")
    )


def _system(event: dict[str, Any]) -> list[AgentEvent]:
    if get_str(event, "subtype") != "init":
        return []
    tools = tuple(t for t in get_list(event, "tools") if isinstance(t, str))
    return [
        Init(
            session_id=get_str(event, "session_id"),
            model=get_str(event, "model"),
            tools=tools,
        )
    ]


def _user(event: dict[str, Any]) -> list[AgentEvent]:
    # User events also carry the prompt itself (content as a plain string);
    # only tool results are news.
    message = get_dict(event, "message")
    results: list[AgentEvent] = []
    for block in dicts(get_list(message, "content")):
        if get_str(block, "type") != "tool_result" or not get_str(block, "tool_use_id"):
            continue
        results.append(
            ToolResult(
                output=_tool_output(block.get("content")),
                call_id=get_str(block, "tool_use_id"),
                is_error=block.get("is_error") is True,
            )
        )
    return results


def _tool_output(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = []
    for block in dicts(content):
        if get_str(block, "type") == "text":
            parts.append(get_str(block, "text"))
        elif get_str(block, "type") == "image":
            parts.append("[image]")
    return "\n".join(parts)


def _denied_tools(event: dict[str, Any]) -> tuple[str, ...]:
    # A refused tool call does not fail a print-mode run; it only shows here.
    names = (
        get_str(d, "tool_name") for d in dicts(get_list(event, "permission_denials"))
    )
    return tuple(dict.fromkeys(name for name in names if name))


def _result(event: dict[str, Any]) -> list[AgentEvent]:
    subtype = get_str(event, "subtype")
    # "Not logged in" and API errors arrive as subtype "success" with
    # is_error set, so both fields decide.
    is_error = event.get("is_error") is True or subtype.startswith("error")
    text = get_str(event, "result")
    if not text:
        errors = [e for e in get_list(event, "errors") if isinstance(e, str)]
        text = "\n".join(errors)
    if is_error and not text:
        text = _ERROR_SUBTYPES.get(subtype, f"Claude Code ended with {subtype!r}")
    usage = get_dict(event, "usage")
    result = Result(
        is_error=is_error,
        text=text,
        input_tokens=input_tokens(usage) if usage else None,
        output_tokens=get_count(usage, "output_tokens") if usage else None,
        cost_usd=get_float(event, "total_cost_usd"),
        turns=get_int(event, "num_turns"),
        session_id=get_str(event, "session_id"),
        denied_tools=_denied_tools(event),
    )
    if is_error and looks_like_auth_failure(text):
        return [Error(text, auth=True), result]
    return [result]
