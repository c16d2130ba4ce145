"""The Codex backend: its command line, and reading `codex exec --json`."""

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
    Usage,
)
from nightshift.core.agents.codex import CodexAgent
from nightshift.core.models import Task

BASE_ARGV = ["codex", "exec", "--json", "--skip-git-repo-check"]


def line(obj: dict[str, Any]) -> str:
    return json.dumps(obj) + "\n"


def item(stage: str, **fields: Any) -> str:
    return line({"type": f"item.{stage}", "item": fields})


# Invocation


def test_a_short_prompt_is_the_last_argument_and_stdin_is_closed(
    make_task: Callable[..., Task],
) -> None:
    invocation = CodexAgent().invocation(make_task("codex", "-v is not a flag here"))

    assert invocation.argv == [
        *BASE_ARGV,
        "--sandbox",
        "read-only",
        "--",
        "-v is not a flag here",
    ]
    assert invocation.stdin is None
    assert invocation.env == {"NIGHTSHIFT_TASK_ID": "t-0001"}


def test_writable_dirs_open_the_sandbox_and_the_model_is_passed(
    make_task: Callable[..., Task], workdir: Path
) -> None:
    task = make_task(
        "codex", "fix it", writable_dirs=[".", "/tmp/out"], model="gpt-5-codex"
    )

    invocation = CodexAgent().invocation(task)

    assert invocation.argv == [
        *BASE_ARGV,
        "--sandbox",
        "workspace-write",
        "--add-dir",
        "/tmp/out",
        "--model",
        "gpt-5-codex",
        "--",
        "fix it",
    ]


def test_a_long_prompt_goes_on_stdin(make_task: Callable[..., Task]) -> None:
    prompt = "z" * MAX_ARGV_PROMPT

    invocation = CodexAgent().invocation(make_task("codex", prompt))

    assert invocation.argv[-1] == "-"
    assert "--" not in invocation.argv
    assert invocation.stdin == prompt


# Parsing


def test_thread_start_is_init() -> None:
    assert CodexAgent().parse_line(
        line({"type": "thread.started", "thread_id": "th-1"})
    ) == [Init(session_id="th-1")]


def test_messages_are_text_and_reasoning_is_dropped() -> None:
    agent = CodexAgent()

    assert agent.parse_line(
        item("completed", id="item_1", type="agent_message", text="Hi.")
    ) == [Text("Hi.")]
    assert (
        agent.parse_line(
            item("completed", id="item_0", type="reasoning", text="**Thinking**")
        )
        == []
    )


def test_a_command_is_a_call_when_started_and_a_result_when_done() -> None:
    agent = CodexAgent()
    started = item(
        "started",
        id="item_2",
        type="command_execution",
        command="bash -lc 'pytest -q'",
        aggregated_output="",
        exit_code=None,
        status="in_progress",
    )
    done = item(
        "completed",
        id="item_2",
        type="command_execution",
        command="bash -lc 'pytest -q'",
        aggregated_output="1 failed\n",
        exit_code=1,
        status="failed",
    )

    assert agent.parse_line(started) == [
        ToolCall(
            tool="shell", input={"command": "bash -lc 'pytest -q'"}, call_id="item_2"
        )
    ]
    assert agent.parse_line(done) == [
        ToolResult(output="1 failed\n", call_id="item_2", is_error=True)
    ]


def test_a_nonzero_exit_code_is_an_error_even_if_marked_completed() -> None:
    done = item(
        "completed",
        id="item_3",
        type="command_execution",
        command="false",
        aggregated_output="",
        exit_code=2,
        status="completed",
    )

    [result] = CodexAgent().parse_line(done)

    assert isinstance(result, ToolResult)
    assert result.is_error


def test_a_file_change_is_a_call_and_its_result() -> None:
    changes = [
        {"path": "/w/src/app.py", "kind": "update"},
        {"path": "/w/src/b.py", "kind": "add"},
    ]

    events = CodexAgent().parse_line(
        item(
            "completed",
            id="item_4",
            type="file_change",
            changes=changes,
            status="completed",
        )
    )

    assert events == [
        ToolCall(tool="apply_patch", input={"changes": changes}, call_id="item_4"),
        ToolResult(output="update /w/src/app.py\nadd /w/src/b.py", call_id="item_4"),
    ]


def test_mcp_tool_calls_and_their_results() -> None:
    agent = CodexAgent()
    common = {
        "id": "item_5",
        "type": "mcp_tool_call",
        "server": "docs",
        "tool": "search",
        "arguments": {"q": "asyncio"},
    }
    ok = {
        **common,
        "status": "completed",
        "result": {"content": [{"type": "text", "text": "found 3"}]},
        "error": None,
    }
    failed = {**common, "status": "failed", "result": None, "error": {"message": "x"}}

    assert agent.parse_line(item("started", **common, status="in_progress")) == [
        ToolCall(tool="docs.search", input={"q": "asyncio"}, call_id="item_5")
    ]
    assert agent.parse_line(item("completed", **ok)) == [
        ToolResult(output="found 3", call_id="item_5")
    ]
    assert agent.parse_line(item("completed", **failed)) == [
        ToolResult(output="x", call_id="item_5", is_error=True)
    ]


def test_a_web_search_is_a_tool_call() -> None:
    event = item("completed", id="item_6", type="web_search", query="codex docs")

    assert CodexAgent().parse_line(event) == [
        ToolCall(tool="web_search", input={"query": "codex docs"}, call_id="item_6")
    ]


def test_turn_usage_counts_cached_tokens_once() -> None:
    event = {
        "type": "turn.completed",
        "usage": {
            "input_tokens": 1200,
            "cached_input_tokens": 200,
            "output_tokens": 345,
        },
    }

    assert CodexAgent().parse_line(line(event)) == [Usage(1200, 345)]


def test_a_failed_turn_is_an_error_and_an_error_result() -> None:
    event = {"type": "turn.failed", "error": {"message": "stream disconnected"}}

    assert CodexAgent().parse_line(line(event)) == [
        Error("stream disconnected"),
        Result(is_error=True, text="stream disconnected"),
    ]


def test_a_401_is_an_auth_error() -> None:
    event = {"type": "error", "message": "unexpected status 401 Unauthorized: ..."}

    assert CodexAgent().parse_line(line(event)) == [
        Error("unexpected status 401 Unauthorized: ...", auth=True)
    ]


def test_an_error_item_is_an_error() -> None:
    event = item("completed", id="item_7", type="error", message="file too large")

    assert CodexAgent().parse_line(event) == [Error("file too large")]


def test_lines_that_are_not_events_give_nothing() -> None:
    agent = CodexAgent()
    for text in [
        "",
        "Reading prompt from stdin...",
        '{"type":"item.completed","item":{"id":"item_',
        '{"type":"item.completed","item":null}',
        '{"type":"item.completed","item":{"type":"agent_message","text":7}}',
        '{"type":"turn.completed","usage":"lots"}',
        '{"type":"turn.started"}',
        '{"type":"item.updated","item":{"type":"todo_list","items":[]}}',
        "null",
    ]:
        assert agent.parse_line(text) == []


# The fake CLI, end to end


def test_a_default_run_reads_as_a_complete_session(
    run_agent: Callable[..., Any],
) -> None:
    run = run_agent("codex", "tidy the imports")

    assert run.returncode == 0
    [init] = run.of(Init)
    assert init.session_id
    assert [t.text for t in run.of(Text)] == ["Working on: tidy the imports", "Done."]
    [call] = run.of(ToolCall)
    assert call == ToolCall(
        tool="shell", input={"command": "bash -lc ls"}, call_id="item_2"
    )
    [result] = run.of(ToolResult)
    assert result.call_id == "item_2"
    assert run.of(Usage) == [Usage(12_000, 340)]
    # Codex has no result event; the exit code decides.
    assert run.of(Result) == []


def test_a_long_prompt_reaches_codex_through_stdin(
    run_agent: Callable[..., Any], agent_log: Callable[[], list[dict[str, Any]]]
) -> None:
    prompt = "q" * (MAX_ARGV_PROMPT + 10) + " [[tokens 9 8]]"

    run = run_agent("codex", prompt)

    assert run.returncode == 0
    assert run.of(Usage) == [Usage(9, 8)]
    [record] = agent_log()
    assert record["argv"][-1] == "-"
    assert record["stdin"] == prompt


def test_a_short_prompt_reaches_codex_as_an_argument(
    run_agent: Callable[..., Any], agent_log: Callable[[], list[dict[str, Any]]]
) -> None:
    run_agent("codex", "short and sweet")

    [record] = agent_log()
    assert record["argv"][-2:] == ["--", "short and sweet"]
    assert record["stdin"] == ""


def test_a_failed_run(run_agent: Callable[..., Any]) -> None:
    run = run_agent("codex", "[[fail]]")

    assert run.returncode == 1
    message = "The fake agent failed, as the prompt asked."
    assert run.of(Error) == [Error(message), Error(message)]
    assert run.of(Result) == [Result(is_error=True, text=message)]


def test_not_logged_in(run_agent: Callable[..., Any]) -> None:
    run = run_agent("codex", "[[not-logged-in]]")

    assert run.returncode == 1
    assert run.of(Error)
    assert all(e.auth for e in run.of(Error))
    [result] = run.of(Result)
    assert result.is_error
    assert "401 Unauthorized" in result.text


def test_file_changes_are_made_and_reported(
    run_agent: Callable[..., Any], workdir: Path
) -> None:
    (workdir / "keep.txt").write_text("k\n")

    run = run_agent("codex", "[[write a.txt]] [[modify keep.txt]] [[delete nope.txt]]")

    assert (workdir / "a.txt").exists()
    assert (workdir / "keep.txt").read_text().endswith("Modified by the fake agent.\n")
    calls = run.of(ToolCall)
    assert [c.input["changes"][0]["kind"] for c in calls] == ["add", "update", "delete"]
    assert [r.is_error for r in run.of(ToolResult)] == [False, False, True]
