"""The real Claude Code CLI plans and runs against the fake Messages API.

These tests pin down the command lines and output shapes NightShift relies
on, straight from the CLI, before any NightShift code is involved.
"""

from __future__ import annotations

import json
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic_api
import pytest

from nightshift.core.planner import PLAN_SCHEMA

pytestmark = pytest.mark.e2e

RUN_ARGS = [
    "-p",
    "--output-format",
    "stream-json",
    "--verbose",
    "--allowedTools",
    "Bash",
    "Write",
    "--permission-mode",
    "acceptEdits",
]

JSON_TYPES = {
    "string": str,
    "array": list,
    "integer": int,
    "object": dict,
    "boolean": bool,
}


def run_claude(
    claude_bin: str, args: list[str], prompt: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with the prompt on stdin, the way NightShift does."""
    return subprocess.run(
        [claude_bin, *args],
        input=prompt,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=90,
    )


def stream_events(stdout: str) -> list[dict[str, Any]]:
    """Parse stream-json output, one event per non-empty line."""
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def content_blocks(events: list[dict[str, Any]], event_type: str) -> list[dict]:
    """Every content block of the messages in events of one type."""
    return [
        block
        for event in events
        if event["type"] == event_type
        for block in event["message"]["content"]
        if isinstance(block, dict)
    ]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


class _ProxyTrap(socketserver.ThreadingTCPServer):
    """An HTTP proxy that refuses everything and remembers what was asked."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyTrapHandler)
        self.seen: list[str] = []


class _ProxyTrapHandler(socketserver.StreamRequestHandler):
    server: _ProxyTrap

    def handle(self) -> None:
        self.server.seen.append(self.rfile.readline().decode(errors="replace"))
        self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def proxy_trap() -> Iterator[_ProxyTrap]:
    trap = _ProxyTrap()
    thread = threading.Thread(
        target=trap.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield trap
    trap.shutdown()
    trap.server_close()


def test_plan_call_returns_structured_output(
    claude_bin: str,
    fake_api: anthropic_api.FakeAnthropicAPI,
    offline_env: dict[str, str],
    workdir: Path,
) -> None:
    """--json-schema makes the model call StructuredOutput; the CLI returns it."""
    args = ["-p", "--output-format", "json", "--json-schema", json.dumps(PLAN_SCHEMA)]

    done = run_claude(claude_bin, args, "Plan: add a README", offline_env, workdir)

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["type"] == "result"
    assert result["is_error"] is False
    plan = result["structured_output"]
    assert set(plan) <= set(PLAN_SCHEMA["properties"])
    for name in PLAN_SCHEMA["required"]:
        expected = JSON_TYPES[PLAN_SCHEMA["properties"][name]["type"]]
        assert isinstance(plan[name], expected), name
    assert json.loads(result["result"]) == plan

    first = fake_api.message_requests[0]
    offered = {tool["name"]: tool for tool in first["tools"]}
    assert offered["StructuredOutput"]["input_schema"] == PLAN_SCHEMA
    assert "Plan: add a README" in anthropic_api.prompt_text(first)
    assert fake_api.requests[0].headers["x-api-key"] == anthropic_api.DUMMY_API_KEY


def test_run_call_uses_a_tool_and_reports_cost(
    claude_bin: str,
    fake_api: anthropic_api.FakeAnthropicAPI,
    offline_env: dict[str, str],
    workdir: Path,
) -> None:
    """A Bash call runs unattended and every event NightShift reads is there."""
    args = [*RUN_ARGS, "--append-system-prompt", "Stay inside the work directory."]
    prompt = f"Create e2e.txt. {anthropic_api.TOOL_MARKER}"

    done = run_claude(claude_bin, args, prompt, offline_env, workdir)

    assert done.returncode == 0, done.stderr
    assert (workdir / "e2e.txt").read_text() == "hello\n"

    events = stream_events(done.stdout)
    init = events[0]
    assert (init["type"], init["subtype"]) == ("system", "init")
    assert init["permissionMode"] == "acceptEdits"

    calls = [b for b in content_blocks(events, "assistant") if b["type"] == "tool_use"]
    assert [(call["name"], call["input"]["command"]) for call in calls] == [
        ("Bash", anthropic_api.TOOL_COMMAND)
    ]
    results = [b for b in content_blocks(events, "user") if b["type"] == "tool_result"]
    assert [r["tool_use_id"] for r in results] == [calls[0]["id"]]
    assert results[0]["is_error"] is False

    result = events[-1]
    assert result["type"] == "result"
    assert (result["subtype"], result["is_error"]) == ("success", False)
    assert result["result"] == anthropic_api.FINAL_TEXT
    assert result["total_cost_usd"] > 0
    assert result["usage"]["input_tokens"] > 0
    assert result["usage"]["output_tokens"] > 0
    assert result["num_turns"] >= 2
    assert result["permission_denials"] == []

    first = fake_api.message_requests[0]
    assert "Stay inside the work directory." in anthropic_api.system_text(first)
    assert "Create e2e.txt." in anthropic_api.prompt_text(first)


def test_rejected_api_key_ends_with_is_error(
    claude_bin: str,
    fake_api: anthropic_api.FakeAnthropicAPI,
    offline_env: dict[str, str],
    workdir: Path,
) -> None:
    """A 401 ends the run at once with is_error and the API's status."""
    fake_api.required_api_key = "sk-ant-a-key-nobody-has"

    done = run_claude(claude_bin, RUN_ARGS, "Say hello.", offline_env, workdir)

    assert done.returncode == 1
    result = stream_events(done.stdout)[-1]
    assert result["type"] == "result"
    assert result["is_error"] is True
    assert result["api_error_status"] == 401
    assert "API key" in result["result"]
    # The fake says a 401 is not worth retrying, as the real API does.
    assert fake_api.paths == ["POST /v1/messages"]


def test_cli_sends_nothing_past_the_fake(
    claude_bin: str,
    fake_api: anthropic_api.FakeAnthropicAPI,
    offline_env: dict[str, str],
    workdir: Path,
    proxy_trap: _ProxyTrap,
) -> None:
    """With OFFLINE_ENV, every request goes to ANTHROPIC_BASE_URL.

    Anything else the CLI tried would go through the proxy, which
    ``offline_env`` exempts 127.0.0.1 from.
    """
    proxy = f"http://127.0.0.1:{proxy_trap.server_address[1]}"
    env = dict(offline_env, HTTPS_PROXY=proxy, HTTP_PROXY=proxy)
    prompt = f"Create e2e.txt. {anthropic_api.TOOL_MARKER}"

    done = run_claude(claude_bin, RUN_ARGS, prompt, env, workdir)

    assert done.returncode == 0, done.stderr
    assert proxy_trap.seen == []
    assert set(fake_api.paths) == {"POST /v1/messages"}
