"""OpenAI Codex CLI in exec mode, read through its JSON Lines events."""

from __future__ import annotations

from typing import Any

from nightshift.core.agents.base import (
    MAX_ARGV_PROMPT,
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
    get_int,
    get_list,
    get_str,
    load_object,
)
from nightshift.core.models import Task


class CodexAgent:
    """The `codex exec` CLI.

    The sandbox follows the reviewed plan: "workspace-write" (plus `--add-dir`
    for writable directories outside the workdir) when the plan may write,
    "read-only" otherwise, named explicitly so the user's own config cannot
    widen it.

    Codex prints no final result event. A successful run ends with
    `turn.completed`, which only becomes Usage: the exit code says whether
    the run worked. A failed turn becomes an Error and an error Result, so
    the failure and its message are known even before the process exits.
    Reasoning summaries are dropped: they are the model thinking aloud, not
    what it did or answered, and Claude's thinking blocks are dropped alike.
    """

    name = "codex"
    binary = "codex"

    def invocation(self, task: Task) -> Invocation:
        argv = [self.binary, "exec", "--json", "--skip-git-repo-check"]
        plan = task.plan
        writable = plan is not None and bool(plan.writable_dirs)
        argv += ["--sandbox", "workspace-write" if writable else "read-only"]
        for directory in extra_writable_dirs(task):
            argv += ["--add-dir", directory]
        if plan is not None and plan.model:
            argv += ["--model", plan.model]
        prompt = task.prompt
        if len(prompt) < MAX_ARGV_PROMPT:
            # "--" keeps a prompt that starts with "-" from reading as a flag.
            return Invocation(argv=[*argv, "--", prompt], env=task_env(task))
        return Invocation(argv=[*argv, "-"], stdin=prompt, env=task_env(task))

    def parse_line(self, line: str) -> list[AgentEvent]:
        event = load_object(line)
        if event is None:
            return []
        kind = get_str(event, "type")
        if kind == "thread.started":
            return [Init(session_id=get_str(event, "thread_id"))]
        if kind == "item.started":
            return _item_started(get_dict(event, "item"))
        if kind == "item.completed":
            return _item_completed(get_dict(event, "item"))
        if kind == "turn.completed":
            return _usage(get_dict(event, "usage"))
        if kind == "turn.failed":
            message = get_str(get_dict(event, "error"), "message") or "turn failed"
            return [_error(message), Result(is_error=True, text=message)]
        if kind == "error" and get_str(event, "message"):
            return [_error(get_str(event, "message"))]
        return []


def _error(message: str) -> Error:
    return Error(message, auth=looks_like_auth_failure(message))


def _usage(usage: dict[str, Any]) -> list[AgentEvent]:
    # Codex counts cached tokens inside input_tokens already.
    spent = Usage(
        input_tokens=get_count(usage, "input_tokens"),
        output_tokens=get_count(usage, "output_tokens"),
    )
    return [spent] if spent.input_tokens or spent.output_tokens else []


def _item_started(item: dict[str, Any]) -> list[AgentEvent]:
    kind = get_str(item, "type")
    call_id = get_str(item, "id")
    if kind == "command_execution":
        command = get_str(item, "command")
        return [ToolCall(tool="shell", input={"command": command}, call_id=call_id)]
    if kind == "mcp_tool_call":
        return [
            ToolCall(
                tool=_mcp_name(item),
                input=get_dict(item, "arguments"),
                call_id=call_id,
            )
        ]
    return []


def _item_completed(item: dict[str, Any]) -> list[AgentEvent]:
    kind = get_str(item, "type")
    call_id = get_str(item, "id")
    failed = get_str(item, "status") in ("failed", "declined")
    if kind == "agent_message":
        text = get_str(item, "text")
        return [Text(text)] if text else []
    if kind == "command_execution":
        exit_code = get_int(item, "exit_code")
        return [
            ToolResult(
                output=get_str(item, "aggregated_output"),
                call_id=call_id,
                is_error=failed or exit_code not in (None, 0),
            )
        ]
    if kind == "file_change":
        # Patches are reported only once applied, so call and result arrive
        # together.
        changes = [
            {"path": get_str(c, "path"), "kind": get_str(c, "kind")}
            for c in dicts(get_list(item, "changes"))
        ]
        summary = "\n".join(f"{c['kind']} {c['path']}" for c in changes)
        return [
            ToolCall(tool="apply_patch", input={"changes": changes}, call_id=call_id),
            ToolResult(output=summary, call_id=call_id, is_error=failed),
        ]
    if kind == "mcp_tool_call":
        error = get_str(get_dict(item, "error"), "message")
        return [
            ToolResult(
                output=error or _mcp_output(get_dict(item, "result")),
                call_id=call_id,
                is_error=failed or bool(error),
            )
        ]
    if kind == "web_search":
        query = get_str(item, "query")
        return [ToolCall(tool="web_search", input={"query": query}, call_id=call_id)]
    if kind == "error" and get_str(item, "message"):
        return [_error(get_str(item, "message"))]
    return []


def _mcp_name(item: dict[str, Any]) -> str:
    server, tool = get_str(item, "server"), get_str(item, "tool")
    return f"{server}.{tool}" if server else tool or "mcp"


def _mcp_output(result: dict[str, Any]) -> str:
    texts = [get_str(block, "text") for block in dicts(get_list(result, "content"))]
    return "\n".join(text for text in texts if text)
