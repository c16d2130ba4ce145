"""NightShift planning and running a task with the real Claude Code CLI.

The CLI runs offline against the fake Messages API on 127.0.0.1; these tests
are skipped when it is not installed (scripts/install-claude-code).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anthropic_api
import pytest

from nightshift.core.planner import PLAN_SCHEMA

pytestmark = pytest.mark.e2e


@pytest.fixture
def nightshift(claude_bin: str, offline_env: dict[str, str], tmp_path: Path):
    """Run the nightshift CLI with only the real claude on PATH for agents."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = {
        **offline_env,
        "NIGHTSHIFT_HOME": str(tmp_path / "nightshift"),
        "NIGHTSHIFT_AUTO_EXECUTOR": "0",
        "PATH": f"{Path(claude_bin).parent}:{offline_env['PATH']}",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "nightshift", *args],
            env=env,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=120,
        )

    run.workdir = workdir  # type: ignore[attr-defined]
    return run


def _offered_tools(request: dict) -> dict[str, dict]:
    return {tool["name"]: tool for tool in request.get("tools", [])}


def test_planner_reads_structured_output_from_the_real_cli(
    nightshift, fake_api: anthropic_api.FakeAnthropicAPI
) -> None:
    result = nightshift("submit", "--json", "Summarise the README in three bullets")

    assert result.returncode == 0, result.stderr
    task = json.loads(result.stdout)
    assert task["status"] == "staged"
    assert task["plan"]["planner"] == "claude"
    assert task["plan"]["warning"] == ""
    [request] = fake_api.message_requests
    offered = _offered_tools(request)["StructuredOutput"]
    assert offered["input_schema"]["required"] == PLAN_SCHEMA["required"]
    assert "Summarise the README in three bullets" in anthropic_api.prompt_text(request)


def test_plan_approve_and_run_a_tool_call(
    nightshift, fake_api: anthropic_api.FakeAnthropicAPI
) -> None:
    plan = {
        "prompt": f"Write hello into e2e.txt {anthropic_api.TOOL_MARKER}",
        "allowed_tools": ["Bash"],
        "writable_dirs": [str(nightshift.workdir)],
        "system_prompt": "Keep answers short.",
        "estimated_tokens": 2000,
        "estimated_seconds": 30,
        "timeout_seconds": 120,
        "reasoning": "One shell command does it.",
    }
    fake_api.enqueue(anthropic_api.tool_use_reply("StructuredOutput", plan))

    submitted = nightshift("submit", "--json", "put hello in a file")
    task = json.loads(submitted.stdout)
    assert task["plan"]["allowed_tools"] == ["Bash"]

    ran = nightshift("approve", "--sync", "--json", task["id"])

    assert ran.returncode == 0, ran.stderr
    done = json.loads(ran.stdout)
    assert done["status"] == "completed"
    assert (nightshift.workdir / "e2e.txt").read_text() == "hello\n"
    assert done["tokens"]["total"] > 0
    assert done["turns"] >= 2
    assert done["changes"]["created"] == ["e2e.txt"]

    run_request = fake_api.message_requests[-2]
    assert "Keep answers short." in anthropic_api.system_text(run_request)
    assert "Bash" in _offered_tools(run_request)

    display = nightshift("display", task["id"])
    assert "echo hello > e2e.txt" in display.stdout
    assert anthropic_api.FINAL_TEXT in display.stdout


def test_rejected_api_key_fails_the_task_with_the_cli_words(
    nightshift, fake_api: anthropic_api.FakeAnthropicAPI
) -> None:
    fake_api.required_api_key = "a-key-nobody-has"

    result = nightshift(
        "submit", "--no-plan", "--auto-approve", "--sync", "--json", "say hi"
    )

    assert result.returncode == 1
    task = json.loads(result.stdout)
    assert task["status"] == "failed"
    assert "Invalid API key" in task["error"]
