"""Whatever an agent prints, reading it never raises."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nightshift.core.agents import get_agent

JSON_AGENTS = ["claude", "codex", "gemini"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=12,
)

ITEM_TYPES = [
    "agent_message",
    "reasoning",
    "command_execution",
    "file_change",
    "mcp_tool_call",
    "web_search",
    "error",
    "text",
    "tool_use",
    "tool_result",
    "image",
]
BLOCK_KEYS = [
    "id",
    "text",
    "name",
    "input",
    "tool_use_id",
    "content",
    "is_error",
    "command",
    "aggregated_output",
    "exit_code",
    "changes",
    "server",
    "tool",
    "arguments",
    "result",
    "error",
    "status",
    "query",
    "message",
]
USAGE_KEYS = [
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cached_input_tokens",
    "total_tokens",
]


def shaped(types: list[str], keys: list[str], inner: Any, **always: Any) -> Any:
    """Objects with a known type, some fields always there, a few more maybe."""
    return st.builds(
        lambda kind, fixed, extra: {**extra, **fixed, "type": kind},
        st.sampled_from(types),
        st.fixed_dictionaries(always),
        st.dictionaries(st.sampled_from(keys), inner, max_size=4),
    )


blocks = shaped(ITEM_TYPES, BLOCK_KEYS, values)
usages = st.one_of(values, st.dictionaries(st.sampled_from(USAGE_KEYS), values))
nested = st.one_of(
    values, blocks, usages, st.lists(st.one_of(blocks, values), max_size=3)
)
messages = st.fixed_dictionaries(
    {"content": nested},
    optional={"id": st.one_of(st.just("msg_1"), values), "usage": usages},
)
claude_events = shaped(
    ["system", "assistant", "user", "result"],
    [
        "subtype",
        "session_id",
        "model",
        "tools",
        "usage",
        "result",
        "is_error",
        "total_cost_usd",
        "num_turns",
        "errors",
    ],
    nested,
    message=st.one_of(messages, values),
)
codex_events = shaped(
    [
        "thread.started",
        "item.started",
        "item.completed",
        "turn.completed",
        "turn.failed",
        "error",
    ],
    ["thread_id", "usage", "error", "message"],
    nested,
    item=st.one_of(blocks, values),
)
gemini_events = shaped(
    ["init", "message", "tool_use", "tool_result", "error", "result"],
    [
        "session_id",
        "model",
        "role",
        "content",
        "delta",
        "tool_name",
        "tool_id",
        "parameters",
        "status",
        "output",
        "error",
        "stats",
        "severity",
        "message",
    ],
    nested,
)
events = st.one_of(claude_events, codex_events, gemini_events)


@settings(max_examples=400, deadline=None)
@given(event=events)
def test_any_event_shaped_object_parses_without_raising(event: dict[str, Any]) -> None:
    line = json.dumps(event)
    for name in JSON_AGENTS:
        get_agent(name).parse_line(line)


# One event of every kind each agent prints, as the real CLIs print them.
REAL_EVENTS: list[tuple[str, dict[str, Any]]] = [
    (
        "claude",
        {
            "type": "system",
            "subtype": "init",
            "session_id": "s",
            "model": "m",
            "tools": ["Bash"],
        },
    ),
    (
        "claude",
        {
            "type": "assistant",
            "message": {
                "id": "msg_1",
                "content": [
                    {"type": "text", "text": "hi"},
                    {"type": "thinking", "thinking": "hmm"},
                    {
                        "type": "tool_use",
                        "id": "t1",
                        "name": "Bash",
                        "input": {"c": "ls"},
                    },
                ],
                "usage": {
                    "input_tokens": 1,
                    "cache_creation_input_tokens": 2,
                    "cache_read_input_tokens": 3,
                    "output_tokens": 4,
                },
            },
        },
    ),
    (
        "claude",
        {
            "type": "user",
            "message": {
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "out"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "t2",
                        "is_error": True,
                        "content": [{"type": "text", "text": "x"}, {"type": "image"}],
                    },
                ]
            },
        },
    ),
    (
        "claude",
        {
            "type": "result",
            "subtype": "success",
            "is_error": True,
            "result": "Not logged in",
            "errors": ["e"],
            "total_cost_usd": 0.1,
            "num_turns": 2,
            "session_id": "s",
            "usage": {"input_tokens": 1, "output_tokens": 2},
        },
    ),
    ("codex", {"type": "thread.started", "thread_id": "th"}),
    (
        "codex",
        {
            "type": "item.started",
            "item": {
                "id": "i1",
                "type": "command_execution",
                "command": "ls",
                "aggregated_output": "",
                "exit_code": None,
                "status": "in_progress",
            },
        },
    ),
    (
        "codex",
        {
            "type": "item.completed",
            "item": {
                "id": "i1",
                "type": "command_execution",
                "command": "ls",
                "aggregated_output": "a",
                "exit_code": 0,
                "status": "completed",
            },
        },
    ),
    (
        "codex",
        {
            "type": "item.completed",
            "item": {
                "id": "i2",
                "type": "file_change",
                "status": "completed",
                "changes": [{"path": "/a", "kind": "add"}],
            },
        },
    ),
    (
        "codex",
        {
            "type": "item.started",
            "item": {
                "id": "i3",
                "type": "mcp_tool_call",
                "server": "s",
                "tool": "t",
                "arguments": {"q": 1},
                "status": "in_progress",
            },
        },
    ),
    (
        "codex",
        {
            "type": "item.completed",
            "item": {
                "id": "i3",
                "type": "mcp_tool_call",
                "server": "s",
                "tool": "t",
                "status": "failed",
                "error": {"message": "m"},
                "result": {"content": [{"type": "text", "text": "r"}]},
            },
        },
    ),
    (
        "codex",
        {
            "type": "item.completed",
            "item": {"id": "i4", "type": "agent_message", "text": "done"},
        },
    ),
    (
        "codex",
        {
            "type": "item.completed",
            "item": {"id": "i5", "type": "web_search", "query": "q"},
        },
    ),
    (
        "codex",
        {
            "type": "turn.completed",
            "usage": {"input_tokens": 1, "cached_input_tokens": 1, "output_tokens": 1},
        },
    ),
    ("codex", {"type": "turn.failed", "error": {"message": "m"}}),
    ("codex", {"type": "error", "message": "m"}),
    ("gemini", {"type": "init", "session_id": "s", "model": "m"}),
    ("gemini", {"type": "message", "role": "assistant", "content": "c", "delta": True}),
    (
        "gemini",
        {"type": "tool_use", "tool_name": "t", "tool_id": "i", "parameters": {"a": 1}},
    ),
    (
        "gemini",
        {
            "type": "tool_result",
            "tool_id": "i",
            "status": "error",
            "output": "o",
            "error": {"type": "x", "message": "m"},
        },
    ),
    ("gemini", {"type": "error", "severity": "warning", "message": "m"}),
    (
        "gemini",
        {
            "type": "result",
            "status": "error",
            "error": {"message": "m"},
            "stats": {"input_tokens": 1, "output_tokens": 2},
        },
    ),
]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place inside a JSON value, the value itself included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


def replaced(value: Any, path: tuple[Any, ...], replacement: Any) -> Any:
    if not path:
        return replacement
    copy = json.loads(json.dumps(value))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = replacement
    return copy


ODD_VALUES: list[Any] = [None, True, 0, -1, 2.5, "", "text", [], [1, "a"], {}, {"a": 1}]


def test_any_field_of_a_real_event_may_hold_anything() -> None:
    for name, event in REAL_EVENTS:
        agent = get_agent(name)
        for path in paths(event):
            for odd in ODD_VALUES:
                agent.parse_line(json.dumps(replaced(event, path, odd)))


def test_the_real_events_all_mean_something() -> None:
    for name, event in REAL_EVENTS:
        assert get_agent(name).parse_line(json.dumps(event)), event


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_parses_without_raising(text: str) -> None:
    for name in [*JSON_AGENTS, "shell"]:
        get_agent(name).parse_line(text)


@pytest.mark.parametrize("name", JSON_AGENTS)
def test_every_truncated_line_of_a_real_run_gives_nothing(
    name: str, run_agent: Callable[..., Any]
) -> None:
    run = run_agent(name, "[[write a.txt]] [[modify a.txt]]")
    agent = get_agent(name)

    assert run.lines
    for text in run.lines:
        for cut in range(0, len(text) - 1, 7):
            assert agent.parse_line(text[:cut]) == [], text[:cut]


def test_deeply_nested_json_gives_nothing() -> None:
    text = '{"type": "assistant", "message": ' + "[" * 100_000 + "]" * 100_000 + "}"

    for name in JSON_AGENTS:
        assert get_agent(name).parse_line(text) == []
