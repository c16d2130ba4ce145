"""Google's Gemini CLI in non-interactive mode, read through stream-json."""

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
    extra_writable_dirs,
    looks_like_auth_failure,
    task_env,
)
from nightshift.core.agents.jsonl import (
    get_count,
    get_dict,
    get_str,
    load_object,
)
from nightshift.core.models import Task

# Gemini puts piped stdin before the -p text, so a long prompt travels on
# stdin and -p only points at it.
STDIN_POINTER = "Carry out the task described above."


class GeminiAgent:
    """The `gemini` CLI.

    A plan with writable directories runs with `--approval-mode auto_edit`
    (file edits need no confirmation, which nobody could give) and extra
    directories from `--include-directories`; the plan's tools are passed as
    `--allowed-tools`. The prompt is given as `--prompt=TEXT` so that text
    starting with "-" is not taken for a flag.
    """

    name = "gemini"
    binary = "gemini"

    def invocation(self, task: Task) -> Invocation:
        argv = [self.binary, "-o", "stream-json"]
        plan = task.plan
        if plan is not None:
            if plan.model:
                argv += ["-m", plan.model]
            for tool in plan.allowed_tools:
                argv += ["--allowed-tools", tool]
            if plan.writable_dirs:
                argv += ["--approval-mode", "auto_edit"]
        for directory in extra_writable_dirs(task):
            argv += ["--include-directories", directory]
        prompt = task.prompt
        if len(prompt) < MAX_ARGV_PROMPT:
            return Invocation(argv=[*argv, f"--prompt={prompt}"], env=task_env(task))
        return Invocation(
            argv=[*argv, f"--prompt={STDIN_POINTER}"],
            stdin=prompt,
            env=task_env(task),
        )

    def parse_line(self, line: str) -> list[AgentEvent]:
        event = load_object(line)
        if event is None:
            return []
        kind = get_str(event, "type")
        if kind == "init":
            return [
                Init(
                    session_id=get_str(event, "session_id"),
                    model=get_str(event, "model"),
                )
            ]
        if kind == "message":
            return _message(event)
        if kind == "tool_use" and get_str(event, "tool_name"):
            return [
                ToolCall(
                    tool=get_str(event, "tool_name"),
                    input=get_dict(event, "parameters"),
                    call_id=get_str(event, "tool_id"),
                )
            ]
        if kind == "tool_result" and get_str(event, "tool_id"):
            return [_tool_result(event)]
        if kind == "error" and get_str(event, "message"):
            return [_error(event)]
        if kind == "result":
            return _result(event)
        return []


def _message(event: dict[str, Any]) -> list[AgentEvent]:
    # The user's own prompt is echoed back as a message too.
    content = get_str(event, "content")
    if get_str(event, "role") != "assistant" or not content:
        return []
    return [Text(content, delta=event.get("delta") is True)]


def _tool_result(event: dict[str, Any]) -> ToolResult:
    call_id = get_str(event, "tool_id")
    if get_str(event, "status") == "error":
        message = get_str(get_dict(event, "error"), "message")
        return ToolResult(
            output=message or get_str(event, "output"),
            call_id=call_id,
            is_error=True,
        )
    return ToolResult(output=get_str(event, "output"), call_id=call_id)


def _error(event: dict[str, Any]) -> Error:
    message = get_str(event, "message")
    auth = looks_like_auth_failure(message)
    if get_str(event, "severity") == "warning":
        message = f"Warning: {message}"
    return Error(message, auth=auth)


def _result(event: dict[str, Any]) -> list[AgentEvent]:
    is_error = get_str(event, "status") != "success"
    text = get_str(get_dict(event, "error"), "message")
    if is_error and not text:
        text = "Gemini CLI reported an error"
    stats = get_dict(event, "stats")
    result = Result(
        is_error=is_error,
        text=text,
        input_tokens=get_count(stats, "input_tokens") if stats else None,
        output_tokens=get_count(stats, "output_tokens") if stats else None,
    )
    if is_error and looks_like_auth_failure(text):
        return [Error(text, auth=True), result]
    return [result]
