"""Turning agent events into a transcript a person reads."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text as RichText

from nightshift.core import transcript
from nightshift.core.agents import get_agent
from nightshift.core.agents.base import (
    AgentEvent,
    Error,
    Init,
    Result,
    Text,
    ToolCall,
    ToolResult,
    Usage,
)
from nightshift.core.transcript import (
    TranscriptRenderer,
    read_events,
    render_transcript,
)


def render(events: Iterable[AgentEvent]) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    for line in render_transcript(events):
        console.print(line)
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue()


def styles(line: RichText) -> set[str]:
    return {str(line.style)} | {str(span.style) for span in line.spans}


def test_every_kind_of_event_is_shown() -> None:
    events: list[AgentEvent] = [
        Init(session_id="sess-1", model="claude-sonnet-4-5"),
        Text("I will list the files."),
        ToolCall(tool="Bash", input={"command": "ls -la"}, call_id="t1"),
        ToolResult(output="a.py\nb.py", call_id="t1"),
        ToolResult(output="permission denied", call_id="t2", is_error=True),
        Usage(input_tokens=11_000, output_tokens=300),
        Error("rate limited, retrying"),
        Error("Not logged in · Please run /login", auth=True),
        Result(
            is_error=False,
            text="Done.",
            input_tokens=12_000,
            output_tokens=340,
            cost_usd=0.0123,
            turns=2,
        ),
    ]

    assert render(events).splitlines() == [
        "Session started · sess-1 · model claude-sonnet-4-5",
        "I will list the files.",
        '→ Bash {"command":"ls -la"}',
        "  ← a.py",
        "    b.py",
        "  ← permission denied",
        "Error: rate limited, retrying",
        "Login needed: Not logged in · Please run /login",
        "✓ Finished",
        "12,000 tokens in · 340 out · 2 turns · $0.0123",
    ]


def test_errors_are_red() -> None:
    lines = list(
        render_transcript(
            [
                ToolResult(output="boom", is_error=True),
                ToolResult(output="fine"),
                Error("bad"),
                Result(is_error=True, text="it broke"),
            ]
        )
    )

    assert "red" in styles(lines[0])
    assert "red" not in styles(lines[1])
    assert "bold red" in styles(lines[2])
    assert "bold red" in styles(lines[3])
    assert lines[3].plain == "✗ Failed: it broke"


def test_long_tool_inputs_are_shortened() -> None:
    call = ToolCall(
        tool="Write",
        input={"file_path": "/a.py", "content": "x" * 1000, "tags": list(range(30))},
    )

    [line] = TranscriptRenderer().feed(call)

    assert line.plain.startswith('→ Write {"file_path":"/a.py","content":"xxx')
    assert "… (800 more characters)" in line.plain
    assert "… 10 more" in line.plain
    assert len(line.plain) < 700


def test_long_tool_results_are_cut_to_their_first_lines() -> None:
    output = "\n".join(f"line {n}" for n in range(50))

    [line] = TranscriptRenderer().feed(ToolResult(output=output))

    shown = line.plain.splitlines()
    assert shown[0] == "  ← line 0"
    assert shown[9] == "    line 9"
    assert shown[10] == "    … 40 more lines"
    assert len(shown) == 11


def test_an_empty_result_says_so() -> None:
    [line] = TranscriptRenderer().feed(ToolResult(output=""))

    assert line.plain == "  ← (no output)"


def test_streamed_fragments_are_joined_into_one_block() -> None:
    events: list[AgentEvent] = [
        Text("Hel", delta=True),
        Text("lo, ", delta=True),
        Text("world.", delta=True),
        ToolCall(tool="read_file", input={}),
        Text("Bye", delta=True),
    ]

    assert render(events).splitlines() == [
        "Hello, world.",
        "→ read_file {}",
        "Bye",
    ]


def test_fragments_wait_for_the_end_of_their_block() -> None:
    renderer = TranscriptRenderer()

    assert renderer.feed(Text("par", delta=True)) == []
    assert [line.plain for line in renderer.feed(Text("Next."))] == ["par", "Next."]


def test_usage_adds_up_until_the_result_replaces_it() -> None:
    renderer = TranscriptRenderer()
    renderer.feed(Usage(100, 10, cost_usd=0.01))
    renderer.feed(Usage(50, 5, cost_usd=0.02))

    assert renderer.summary().plain == "150 tokens in · 15 out · $0.0300"

    renderer.feed(Result(is_error=False, input_tokens=1000, output_tokens=20, turns=1))

    assert renderer.summary().plain == "1,000 tokens in · 20 out · 1 turn · $0.0300"


def test_a_run_without_usage_has_no_summary() -> None:
    assert render([Text("hello"), Text("world")]).splitlines() == ["hello", "world"]


def test_terminal_escapes_are_removed() -> None:
    raw = "\x1b[31mred\x1b[0m and\x07 \x1b]0;title\x07plain\ttab\x1b[2J\r"

    assert transcript.clean(raw) == "red and plain\ttab"
    assert render([Text(raw)]) == "red and plain   tab\n"


# Reading an output log


@pytest.fixture
def claude_log(run_agent: Callable[..., Any], tmp_path: Path) -> Path:
    run = run_agent("claude", "[[write a.txt]] [[garbage]]")
    path = tmp_path / "output.jsonl"
    path.write_bytes(run.stdout)
    return path


def test_read_events_gives_what_the_agent_parses(claude_log: Path) -> None:
    agent = get_agent("claude")
    expected = [
        e
        for line in claude_log.read_text().splitlines()
        for e in agent.parse_line(line)
    ]

    events = list(read_events(claude_log, get_agent("claude")))

    assert events == expected
    assert isinstance(events[0], Init)
    assert isinstance(events[-1], Result)


def test_a_whole_log_renders(claude_log: Path) -> None:
    output = render(read_events(claude_log, get_agent("claude")))

    assert "→ Write" in output
    assert "  ← File created successfully at:" in output
    assert "✓ Finished" in output
    assert output.rstrip().endswith("12,000 tokens in · 340 out · 2 turns · $0.0123")


def test_bad_bytes_and_overlong_lines_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transcript, "MAX_LINE_BYTES", 200)
    message = {
        "type": "item.completed",
        "item": {"type": "agent_message", "text": "ok"},
    }
    huge = {
        "type": "item.completed",
        "item": {"type": "agent_message", "text": "x" * 500},
    }
    path = tmp_path / "output.jsonl"
    path.write_bytes(
        b"\xff\xfe not utf-8\n"
        + json.dumps(huge).encode()
        + b"\n"
        + json.dumps(message).encode()
        + b"\n"
        + b'{"type":"item.completed","item":{"type":"agent_message","text":"tail"}}'
    )

    events = list(read_events(path, get_agent("codex")))

    assert events == [Text("ok"), Text("tail")]


def test_a_missing_log_has_no_events(tmp_path: Path) -> None:
    assert list(read_events(tmp_path / "nope.jsonl", get_agent("claude"))) == []
    assert list(read_events(tmp_path, get_agent("claude"))) == []
