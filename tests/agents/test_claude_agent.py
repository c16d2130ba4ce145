"""The Claude Code backend: its command line, and reading stream-json."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

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
from nightshift.core.agents.claude import ClaudeAgent
from nightshift.core.models import Task
from nightshift.core.progress import Progress

BASE_ARGV = ["claude", "-p", "--output-format", "stream-json", "--verbose"]
NOT_LOGGED_IN = "Not logged in · Please run /login"
TASK_ID = "t-0001"


def line(obj: dict[str, Any]) -> str:
    return json.dumps(obj) + "\n"


def assistant(
    message_id: str, content: list[dict[str, Any]], **usage: int
) -> dict[str, Any]:
    return {
        "type": "assistant",
        "message": {"id": message_id, "content": content, "usage": usage},
        "session_id": "sess-1",
    }


# Invocation


def test_a_plan_without_writable_dirs_runs_in_default_permission_mode(
    make_task: Callable[..., Task],
) -> None:
    invocation = ClaudeAgent().invocation(make_task(prompt="summarise README"))

    assert invocation.argv == [*BASE_ARGV, "--permission-mode", "default"]
    assert invocation.stdin == "summarise README"
    assert invocation.env == {"NIGHTSHIFT_TASK_ID": TASK_ID}


def test_the_whole_plan_becomes_flags(
    make_task: Callable[..., Task], workdir: Path
) -> None:
    task = make_task(
        prompt="fix the bug",
        allowed_tools=["Read", "Bash(git log:*)"],
        system_prompt="Be brief.",
        model="claude-opus-4-1",
        writable_dirs=[str(workdir), "docs", "/srv/shared", "docs/"],
    )

    invocation = ClaudeAgent().invocation(task)

    assert invocation.argv == [
        *BASE_ARGV,
        "--allowedTools",
        "Read",
        "--allowedTools",
        "Bash(git log:*)",
        "--append-system-prompt",
        "Be brief.",
        "--model",
        "claude-opus-4-1",
        "--permission-mode",
        "acceptEdits",
        "--add-dir",
        str(workdir / "docs"),
        "--add-dir",
        "/srv/shared",
    ]
    assert invocation.stdin == "fix the bug"


def test_a_task_without_a_plan_sends_its_description(
    make_task: Callable[..., Task],
) -> None:
    task = make_task(prompt="ignored")
    task.plan = None
    task.description = "the description itself"

    invocation = ClaudeAgent().invocation(task)

    assert invocation.stdin == "the description itself"
    assert "--add-dir" not in invocation.argv


def test_a_long_prompt_stays_out_of_argv(make_task: Callable[..., Task]) -> None:
    prompt = "x" * (MAX_ARGV_PROMPT * 3)

    invocation = ClaudeAgent().invocation(make_task(prompt=prompt))

    assert invocation.stdin == prompt
    assert max(len(arg) for arg in invocation.argv) < 100


# Parsing


def test_init_names_session_model_and_tools() -> None:
    event = {
        "type": "system",
        "subtype": "init",
        "session_id": "sess-1",
        "model": "claude-sonnet-4-5",
        "tools": ["Bash", "Read", 7],
    }

    assert ClaudeAgent().parse_line(line(event)) == [
        Init(session_id="sess-1", model="claude-sonnet-4-5", tools=("Bash", "Read"))
    ]


def test_other_system_events_are_ignored() -> None:
    event = {"type": "system", "subtype": "compact_boundary", "session_id": "s"}
    assert ClaudeAgent().parse_line(line(event)) == []


def test_assistant_blocks_become_text_tool_calls_and_usage() -> None:
    content = [
        {"type": "thinking", "thinking": "hmm", "signature": "abc"},
        {"type": "text", "text": "Let me look."},
        {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "Bash",
            "input": {"command": "ls"},
        },
    ]
    event = assistant(
        "msg_1",
        content,
        input_tokens=3,
        cache_creation_input_tokens=1200,
        cache_read_input_tokens=800,
        output_tokens=45,
    )

    assert ClaudeAgent().parse_line(line(event)) == [
        Text("Let me look."),
        ToolCall(tool="Bash", input={"command": "ls"}, call_id="toolu_1"),
        Usage(input_tokens=2003, output_tokens=45),
    ]


def test_usage_repeated_on_each_block_of_a_message_is_counted_once() -> None:
    agent = ClaudeAgent()
    usage = {"input_tokens": 10, "cache_read_input_tokens": 90, "output_tokens": 1}
    first = assistant("msg_1", [{"type": "text", "text": "a"}], **usage)
    same = assistant("msg_1", [{"type": "text", "text": "b"}], **usage)
    grown = assistant(
        "msg_1", [{"type": "text", "text": "c"}], **{**usage, "output_tokens": 30}
    )
    other = assistant("msg_2", [], **usage)

    assert agent.parse_line(line(first)) == [Text("a"), Usage(100, 1)]
    assert agent.parse_line(line(same)) == [Text("b")]
    assert agent.parse_line(line(grown)) == [Text("c"), Usage(0, 29)]
    assert agent.parse_line(line(other)) == [Usage(100, 1)]


def test_tool_results_with_text_or_block_content() -> None:
    event = {
        "type": "user",
        "message": {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a\nb"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": [
                        {"type": "text", "text": "first"},
                        {"type": "image", "source": {}},
                        {"type": "text", "text": "second"},
                    ],
                    "is_error": True,
                },
            ],
        },
    }

    assert ClaudeAgent().parse_line(line(event)) == [
        ToolResult(output="a\nb", call_id="toolu_1"),
        ToolResult(output="first\n[image]\nsecond", call_id="toolu_2", is_error=True),
    ]


def test_a_user_prompt_echo_is_not_a_tool_result() -> None:
    event = {"type": "user", "message": {"role": "user", "content": "hello"}}
    assert ClaudeAgent().parse_line(line(event)) == []


def test_a_successful_result_carries_totals() -> None:
    event = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "result": "All done.",
        "total_cost_usd": 0.0456,
        "num_turns": 4,
        "session_id": "sess-1",
        "duration_ms": 5000,
        "usage": {
            "input_tokens": 20,
            "cache_creation_input_tokens": 1000,
            "cache_read_input_tokens": 5000,
            "output_tokens": 700,
        },
    }

    assert ClaudeAgent().parse_line(line(event)) == [
        Result(
            is_error=False,
            text="All done.",
            input_tokens=6020,
            output_tokens=700,
            cost_usd=0.0456,
            turns=4,
            session_id="sess-1",
        )
    ]


def test_not_logged_in_is_an_error_result_and_an_auth_error() -> None:
    event = {
        "type": "result",
        "subtype": "success",
        "is_error": True,
        "result": NOT_LOGGED_IN,
        "total_cost_usd": 0,
        "num_turns": 1,
        "session_id": "sess-1",
    }

    events = ClaudeAgent().parse_line(line(event))

    assert events == [
        Error(NOT_LOGGED_IN, auth=True),
        Result(
            is_error=True,
            text=NOT_LOGGED_IN,
            cost_usd=0.0,
            turns=1,
            session_id="sess-1",
        ),
    ]


def test_an_error_subtype_fails_even_without_is_error() -> None:
    event = {"type": "result", "subtype": "error_max_turns", "num_turns": 30}

    [result] = ClaudeAgent().parse_line(line(event))

    assert result == Result(
        is_error=True, text="the agent reached its turn limit", turns=30
    )


def test_an_error_result_lists_its_errors() -> None:
    event = {
        "type": "result",
        "subtype": "error_during_execution",
        "is_error": True,
        "errors": ["Tool crashed", "Gave up"],
    }

    [result] = ClaudeAgent().parse_line(line(event))

    assert isinstance(result, Result)
    assert result.is_error
    assert result.text == "Tool crashed\nGave up"


def test_refused_tools_are_named_on_a_successful_result() -> None:
    event = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "result": "I could not run the command.",
        "permission_denials": [
            {"tool_name": "Bash", "tool_use_id": "t1", "tool_input": {}},
            {"tool_name": "Write", "tool_use_id": "t2", "tool_input": {}},
            {"tool_name": "Bash", "tool_use_id": "t3", "tool_input": {}},
            {"tool_use_id": "t4"},
        ],
    }

    [result] = ClaudeAgent().parse_line(line(event))
    progress = Progress()
    progress.apply(result)

    assert isinstance(result, Result)
    assert not result.is_error
    assert result.denied_tools == ("Bash", "Write")
    assert progress.activity == "finished; refused tools: Bash, Write"
    assert progress.failure() is None


def test_lines_that_are_not_events_give_nothing() -> None:
    agent = ClaudeAgent()
    for text in [
        "",
        "Loading...",
        '{"type": "assistant", "message": {"content": [',
        "[1, 2]",
        '{"type": 5}',
        '{"type": "assistant", "message": "oops"}',
        '{"type": "assistant", "message": {"content": {"type": "text"}}}',
        '{"type": "user", "message": {"content": [{"type": "tool_result"}, 3]}}',
    ]:
        assert agent.parse_line(text) == []


def test_a_result_with_odd_fields_still_reads() -> None:
    text = '{"type": "result", "usage": [], "total_cost_usd": "free", "num_turns": 1.0}'

    assert ClaudeAgent().parse_line(text) == [Result(is_error=False, turns=1)]


# Output captured from the real CLI (against a fake Messages API)

SAMPLES = Path(__file__).parent.parent / "fakes" / "samples"


def parse_sample(name: str) -> list[Any]:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"no captured sample {name}")
    agent = ClaudeAgent()
    return [e for text in path.read_text().splitlines() for e in agent.parse_line(text)]


def test_a_captured_real_run() -> None:
    events = parse_sample("claude_run_output.jsonl")

    assert [type(e).__name__ for e in events] == [
        "Init",
        "Text",
        "Usage",
        "ToolCall",
        "ToolResult",
        "Text",
        "Usage",
        "Result",
    ]
    usages = [e for e in events if isinstance(e, Usage)]
    [result] = [e for e in events if isinstance(e, Result)]
    # Block events repeat a message's usage; counted once, they add up to the
    # input total of the result.
    assert sum(u.input_tokens for u in usages) == result.input_tokens == 5224
    assert result.output_tokens == 63
    assert result.turns == 2
    assert not result.is_error


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("claude_not_logged_in_output.jsonl", NOT_LOGGED_IN),
        ("claude_auth_error_output.jsonl", "Invalid API key · Fix external API key"),
    ],
)
def test_captured_auth_failures(name: str, message: str) -> None:
    events = parse_sample(name)

    assert Error(message, auth=True) in events
    [result] = [e for e in events if isinstance(e, Result)]
    assert result.is_error
    assert result.text == message


# The fake CLI, end to end


def test_a_default_run_reads_as_a_complete_session(
    run_agent: Callable[..., Any],
) -> None:
    run = run_agent("claude", "please summarise the repository")

    assert run.returncode == 0
    [init] = run.of(Init)
    assert init.model == "claude-sonnet-4-5-20250929"
    assert init.session_id
    assert [t.text for t in run.of(Text)] == [
        "Working on: please summarise the repository",
        "Done.",
    ]
    [call] = run.of(ToolCall)
    assert call.tool == "Bash"
    assert call.input["command"] == "ls"
    [tool_result] = run.of(ToolResult)
    assert tool_result.call_id == call.call_id
    assert not tool_result.is_error
    assert sum(u.input_tokens for u in run.of(Usage)) == 12_000
    assert sum(u.output_tokens for u in run.of(Usage)) == 340
    assert run.of(Result) == [
        Result(
            is_error=False,
            text="Done.",
            input_tokens=12_000,
            output_tokens=340,
            cost_usd=0.0123,
            turns=2,
            session_id=init.session_id,
        )
    ]
    assert run.of(Error) == []


def test_token_counts_come_from_the_prompt(run_agent: Callable[..., Any]) -> None:
    run = run_agent("claude", "count [[tokens 5000 77]]")

    [result] = run.of(Result)
    assert (result.input_tokens, result.output_tokens) == (5000, 77)
    assert result.cost_usd == round(5000 * 3e-6 + 77 * 15e-6, 6)
    assert sum(u.input_tokens for u in run.of(Usage)) == 5000
    assert sum(u.output_tokens for u in run.of(Usage)) == 77


def test_not_logged_in_reads_as_an_auth_failure(
    run_agent: Callable[..., Any],
) -> None:
    run = run_agent("claude", "anything [[not-logged-in]]")

    assert run.returncode == 1
    assert run.of(Error) == [Error(NOT_LOGGED_IN, auth=True)]
    [result] = run.of(Result)
    assert result.is_error
    assert result.text == NOT_LOGGED_IN


def test_a_failed_run_is_an_error_result_without_auth(
    run_agent: Callable[..., Any],
) -> None:
    run = run_agent("claude", "try [[fail]]")

    assert run.returncode == 1
    [result] = run.of(Result)
    assert result.is_error
    assert result.text == "The fake agent failed, as the prompt asked."
    assert run.of(Error) == []


def test_the_plan_model_reaches_the_cli(run_agent: Callable[..., Any]) -> None:
    run = run_agent("claude", "hi", model="claude-opus-4-1")

    assert run.of(Init)[0].model == "claude-opus-4-1"


def test_file_changes_are_made_and_reported(
    run_agent: Callable[..., Any], workdir: Path
) -> None:
    (workdir / "notes.txt").write_text("notes\n")
    (workdir / "old.txt").write_text("old\n")

    run = run_agent(
        "claude",
        "[[write out/report.md]] [[modify notes.txt]] [[delete old.txt]]"
        " [[modify missing.txt]]",
        writable_dirs=[str(workdir)],
    )

    assert run.returncode == 0
    assert (workdir / "out" / "report.md").read_text() == "Written by the fake agent.\n"
    assert (workdir / "notes.txt").read_text() == "notes\nModified by the fake agent.\n"
    assert not (workdir / "old.txt").exists()
    calls = run.of(ToolCall)
    assert [c.tool for c in calls] == ["Write", "Edit", "Bash", "Edit"]
    assert calls[0].input["file_path"] == str(workdir / "out" / "report.md")
    assert calls[2].input["command"] == "rm old.txt"
    results = run.of(ToolResult)
    assert [r.call_id for r in results] == [c.call_id for c in calls]
    assert [r.is_error for r in results] == [False, False, False, True]


def test_the_task_id_is_in_the_agent_environment(
    run_agent: Callable[..., Any],
) -> None:
    run = run_agent("claude", "[[echo-env NIGHTSHIFT_TASK_ID NO_SUCH_VARIABLE]]")

    texts = [t.text for t in run.of(Text)]
    assert f"NIGHTSHIFT_TASK_ID={TASK_ID}" in texts
    assert "NO_SUCH_VARIABLE is not set" in texts


def test_the_fake_sees_the_exact_argv_and_stdin(
    run_agent: Callable[..., Any],
    agent_log: Callable[[], list[dict[str, Any]]],
    make_task: Callable[..., Task],
    workdir: Path,
) -> None:
    prompt = "line one\n" + "y" * (MAX_ARGV_PROMPT * 2) + "\n[[tokens 1 1]]"
    plan = {"allowed_tools": ["Read"], "writable_dirs": ["build"]}

    run = run_agent("claude", prompt, **plan)

    assert run.returncode == 0
    [record] = agent_log()
    expected = ClaudeAgent().invocation(make_task("claude", prompt, **plan))
    assert record["argv"] == expected.argv
    assert record["stdin"] == prompt
    assert record["cwd"] == str(workdir)


def test_stream_json_without_verbose_is_refused_like_the_real_cli(
    fake_agents_path: Path, workdir: Path
) -> None:
    proc = subprocess.run(
        ["claude", "-p", "--output-format", "stream-json"],
        input=b"hello",
        capture_output=True,
        cwd=workdir,
        check=False,
    )

    assert proc.returncode == 1
    assert b"requires --verbose" in proc.stderr
