"""The Gemini backend: its command line, and reading stream-json."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nightshift.core.agents.base import (
    MAX_ARGV_PROMPT,
    Error,
    Init,
    Result,
    Text,
    ToolCall,
    ToolResult,
)
from nightshift.core.agents.gemini import STDIN_POINTER, GeminiAgent
from nightshift.core.models import Task


def line(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, "timestamp": "2025-01-01T00:00:00Z", **fields})


# Invocation


def test_a_short_prompt_is_given_with_the_prompt_flag(
    make_task: Callable[..., Task],
) -> None:
    invocation = GeminiAgent().invocation(make_task("gemini", "--help me"))

    assert invocation.argv == ["gemini", "-o", "stream-json", "--prompt=--help me"]
    assert invocation.stdin is None
    assert invocation.env == {"NIGHTSHIFT_TASK_ID": "t-0001"}


def test_the_plan_becomes_flags(make_task: Callable[..., Task], workdir: Path) -> None:
    task = make_task(
        "gemini",
        "edit",
        model="gemini-2.5-flash",
        allowed_tools=["read_file", "run_shell_command(git)"],
        writable_dirs=[str(workdir), "/data"],
    )

    invocation = GeminiAgent().invocation(task)

    assert invocation.argv == [
        "gemini",
        "-o",
        "stream-json",
        "-m",
        "gemini-2.5-flash",
        "--allowed-tools",
        "read_file",
        "--allowed-tools",
        "run_shell_command(git)",
        "--approval-mode",
        "auto_edit",
        "--include-directories",
        "/data",
        "--prompt=edit",
    ]


def test_a_long_prompt_goes_on_stdin_with_a_pointer_to_it(
    make_task: Callable[..., Task],
) -> None:
    prompt = "w" * MAX_ARGV_PROMPT

    invocation = GeminiAgent().invocation(make_task("gemini", prompt))

    assert invocation.argv[-1] == f"--prompt={STDIN_POINTER}"
    assert invocation.stdin == prompt


# Parsing


def test_init() -> None:
    assert GeminiAgent().parse_line(
        line("init", session_id="s-1", model="gemini-2.5-pro")
    ) == [Init(session_id="s-1", model="gemini-2.5-pro")]


def test_assistant_messages_are_text_and_the_prompt_echo_is_not() -> None:
    agent = GeminiAgent()

    assert agent.parse_line(line("message", role="user", content="do it")) == []
    assert agent.parse_line(
        line("message", role="assistant", content="Hel", delta=True)
    ) == [Text("Hel", delta=True)]
    assert agent.parse_line(line("message", role="assistant", content="Whole.")) == [
        Text("Whole.")
    ]


def test_tool_use_and_its_results() -> None:
    agent = GeminiAgent()

    assert agent.parse_line(
        line(
            "tool_use",
            tool_name="read_file",
            tool_id="read_file-1",
            parameters={"file_path": "a.py"},
        )
    ) == [
        ToolCall(tool="read_file", input={"file_path": "a.py"}, call_id="read_file-1")
    ]
    assert agent.parse_line(
        line("tool_result", tool_id="read_file-1", status="success", output="x = 1")
    ) == [ToolResult(output="x = 1", call_id="read_file-1")]
    assert agent.parse_line(
        line(
            "tool_result",
            tool_id="read_file-2",
            status="error",
            error={"type": "file_not_found", "message": "File not found: b.py"},
        )
    ) == [
        ToolResult(output="File not found: b.py", call_id="read_file-2", is_error=True)
    ]


def test_error_events_keep_their_severity() -> None:
    agent = GeminiAgent()

    assert agent.parse_line(line("error", severity="warning", message="Loop")) == [
        Error("Warning: Loop")
    ]
    assert agent.parse_line(
        line("error", severity="error", message="API key not valid.")
    ) == [Error("API key not valid.", auth=True)]


def test_a_successful_result_carries_token_totals() -> None:
    stats = {
        "total_tokens": 1500,
        "input_tokens": 1200,
        "output_tokens": 300,
        "cached": 100,
        "input": 1100,
        "duration_ms": 900,
        "tool_calls": 2,
    }

    assert GeminiAgent().parse_line(line("result", status="success", stats=stats)) == [
        Result(is_error=False, input_tokens=1200, output_tokens=300)
    ]


def test_an_auth_failure_result() -> None:
    message = "Please set an Auth method in your settings.json"
    event = line("result", status="error", error={"type": "Error", "message": message})

    assert GeminiAgent().parse_line(event) == [
        Error(message, auth=True),
        Result(is_error=True, text=message),
    ]


def test_lines_that_are_not_events_give_nothing() -> None:
    agent = GeminiAgent()
    for text in [
        "",
        "Loaded cached credentials.",
        '{"type":"message","timestamp":"',
        line("message", role="assistant", content=42),
        line("tool_use", parameters=[1]),
        line("tool_result", status="success"),
        line("error", severity="error"),
        "true",
    ]:
        assert agent.parse_line(text) == []


# The fake CLI, end to end


def test_a_default_run_reads_as_a_complete_session(
    run_agent: Callable[..., Any],
) -> None:
    run = run_agent("gemini", "explain the build")

    assert run.returncode == 0
    assert run.of(Init)[0].model == "gemini-2.5-pro"
    texts = run.of(Text)
    assert all(t.delta for t in texts)
    assert "".join(t.text for t in texts) == "Working on: explain the buildDone."
    [call] = run.of(ToolCall)
    assert call.tool == "run_shell_command"
    assert call.input == {"command": "ls"}
    [tool_result] = run.of(ToolResult)
    assert tool_result.call_id == call.call_id
    assert run.of(Result) == [
        Result(is_error=False, input_tokens=12_000, output_tokens=340)
    ]


def test_a_long_prompt_reaches_gemini_through_stdin(
    run_agent: Callable[..., Any], agent_log: Callable[[], list[dict[str, Any]]]
) -> None:
    prompt = (
        "g" * (MAX_ARGV_PROMPT * 2) + " [[tokens 40 4]] [[echo-env NIGHTSHIFT_TASK_ID]]"
    )

    run = run_agent("gemini", prompt, model="gemini-2.5-flash")

    assert run.returncode == 0
    [record] = agent_log()
    assert record["stdin"] == prompt
    assert record["argv"] == [
        "gemini",
        "-o",
        "stream-json",
        "-m",
        "gemini-2.5-flash",
        f"--prompt={STDIN_POINTER}",
    ]
    [result] = run.of(Result)
    assert (result.input_tokens, result.output_tokens) == (40, 4)
    assert "NIGHTSHIFT_TASK_ID=t-0001" in "".join(t.text for t in run.of(Text))


def test_not_logged_in_exits_with_gemini_auth_code(
    run_agent: Callable[..., Any],
) -> None:
    run = run_agent("gemini", "[[not-logged-in]]")

    assert run.returncode == 41
    assert run.of(Init) == []
    [error] = run.of(Error)
    assert error.auth
    assert "Please set an Auth method" in error.message
    [result] = run.of(Result)
    assert result.is_error


def test_a_failed_run(run_agent: Callable[..., Any]) -> None:
    run = run_agent("gemini", "[[fail]]")

    message = "The fake agent failed, as the prompt asked."
    assert run.returncode == 1
    assert run.of(Error) == [Error(message)]
    assert run.of(Result)[0] == Result(
        is_error=True, text=message, input_tokens=12_000, output_tokens=340
    )


def test_file_changes_are_made_and_reported(
    run_agent: Callable[..., Any], workdir: Path
) -> None:
    run = run_agent("gemini", "[[write d.md]] [[modify d.md]] [[delete d.md]]")

    assert not (workdir / "d.md").exists()
    assert [c.tool for c in run.of(ToolCall)] == [
        "write_file",
        "replace",
        "run_shell_command",
    ]
    assert [r.is_error for r in run.of(ToolResult)] == [False, False, False]
