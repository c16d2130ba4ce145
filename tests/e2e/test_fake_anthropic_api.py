"""The fake Messages API speaks the wire format the real CLI expects.

These need no CLI, so they run in every tier and keep the fake honest when
the end-to-end tests are skipped.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import anthropic_api
import pytest

BASH_TOOL = {"name": "Bash", "input_schema": {"type": "object"}}


@pytest.fixture
def api() -> Iterator[anthropic_api.FakeAnthropicAPI]:
    with anthropic_api.FakeAnthropicAPI() as server:
        yield server


def post(
    api: anthropic_api.FakeAnthropicAPI, path: str, body: dict[str, Any]
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        api.base_url + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "x-api-key": "sk-ant-test"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def sse_events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    """Split a server-sent event stream into (event name, data) pairs."""
    events = []
    for frame in raw.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in frame.splitlines())
        if fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


def assemble(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Rebuild the final message from stream events, as an SDK client does."""
    message: dict[str, Any] = {}
    partial: dict[int, str] = {}
    for name, data in events:
        if name == "message_start":
            message = data["message"]
        elif name == "content_block_start":
            message["content"].append(data["content_block"])
        elif name == "content_block_delta":
            block = message["content"][data["index"]]
            delta = data["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            else:
                partial[data["index"]] = (
                    partial.get(data["index"], "") + delta["partial_json"]
                )
        elif name == "content_block_stop" and data["index"] in partial:
            message["content"][data["index"]]["input"] = json.loads(
                partial[data["index"]]
            )
        elif name == "message_delta":
            message.update(data["delta"])
            message["usage"].update(data["usage"])
    return message


def test_plain_request_gets_a_complete_message(
    api: anthropic_api.FakeAnthropicAPI,
) -> None:
    body = {"model": "claude-x", "messages": [{"role": "user", "content": "hi"}]}

    status, headers, raw = post(api, "/v1/messages", body)

    assert status == 200
    message = json.loads(raw)
    assert message["type"] == "message"
    assert message["model"] == "claude-x"
    assert message["stop_reason"] == "end_turn"
    assert message["content"][0]["type"] == "text"
    assert message["usage"]["input_tokens"] > 0
    assert "request-id" in headers
    assert api.message_requests == [body]


def test_stream_follows_the_real_event_order(
    api: anthropic_api.FakeAnthropicAPI,
) -> None:
    prompt = f"go {anthropic_api.TOOL_MARKER}"
    body = {
        "model": "claude-x",
        "stream": True,
        "tools": [BASH_TOOL],
        "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}],
    }

    status, headers, raw = post(api, "/v1/messages?beta=true", body)

    assert status == 200
    assert headers["Content-Type"].startswith("text/event-stream")
    events = sse_events(raw)
    names = [name for name, _ in events]
    assert names[0] == "message_start"
    assert names[-2:] == ["message_delta", "message_stop"]
    assert {"content_block_start", "content_block_delta", "content_block_stop"} <= set(
        names
    )
    assert all(name == data["type"] for name, data in events)

    message = assemble(events)
    assert message["stop_reason"] == "tool_use"
    call = message["content"][-1]
    assert call["name"] == "Bash"
    assert call["input"]["command"] == anthropic_api.TOOL_COMMAND


def test_tool_result_is_answered_with_final_text(
    api: anthropic_api.FakeAnthropicAPI,
) -> None:
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}
    body = {
        "model": "claude-x",
        "tools": [BASH_TOOL],
        "messages": [
            {"role": "user", "content": anthropic_api.TOOL_MARKER},
            {"role": "assistant", "content": [{"type": "text", "text": "..."}]},
            {"role": "user", "content": [result]},
        ],
    }

    _, _, raw = post(api, "/v1/messages", body)

    assert json.loads(raw)["content"][0]["text"] == anthropic_api.FINAL_TEXT


def test_rejected_key_gets_the_real_error_and_no_retry(
    api: anthropic_api.FakeAnthropicAPI,
) -> None:
    api.required_api_key = "sk-ant-other"

    status, headers, raw = post(api, "/v1/messages", {"messages": []})

    assert status == 401
    assert headers["x-should-retry"] == "false"
    error = json.loads(raw)
    assert error["type"] == "error"
    assert error["error"] == {
        "type": "authentication_error",
        "message": "invalid x-api-key",
    }


def test_queued_replies_come_before_the_default(
    api: anthropic_api.FakeAnthropicAPI,
) -> None:
    api.enqueue(
        anthropic_api.text_reply("first"),
        anthropic_api.error_reply(529, "overloaded_error", "Overloaded"),
    )
    body = {"messages": [{"role": "user", "content": "hi"}]}

    replies = [post(api, "/v1/messages", body) for _ in range(3)]

    assert json.loads(replies[0][2])["content"][0]["text"] == "first"
    assert (replies[1][0], replies[1][1]["x-should-retry"]) == (529, "true")
    assert replies[2][0] == 200


def test_example_for_schema_satisfies_common_keywords() -> None:
    schema = {
        "type": "object",
        "$defs": {"mode": {"enum": ["acceptEdits", "plan"]}},
        "properties": {
            "name": {"type": "string", "minLength": 10},
            "mode": {"$ref": "#/$defs/mode"},
            "retries": {"type": "integer", "minimum": 3},
            "dirs": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "model": {"anyOf": [{"type": "null"}, {"type": "string"}]},
            "nested": {"type": ["object", "null"], "properties": {"ok": {}}},
        },
    }

    value = anthropic_api.example_for_schema(schema)

    assert len(value["name"]) >= 10
    assert value["mode"] == "acceptEdits"
    assert value["retries"] == 3
    assert len(value["dirs"]) == 2
    assert value["model"] is None
    assert value["nested"] == {"ok": "example"}
