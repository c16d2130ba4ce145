"""The directives that make the fake agents misbehave on purpose."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nightshift.core.agents import get_agent
from nightshift.core.agents.base import (
    Init,
    Result,
    Text,
    ToolCall,
    ToolResult,
    Usage,
)
from nightshift.core.models import Task

FAKES = ["claude", "codex", "gemini"]


@pytest.fixture
def start_agent(
    fake_agents_path: Path,
    make_task: Callable[..., Task],
    workdir: Path,
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start a fake in its own process group, as the runner does; kill it after."""
    started: list[subprocess.Popen[bytes]] = []

    def start(agent_name: str, prompt: str) -> subprocess.Popen[bytes]:
        invocation = get_agent(agent_name).invocation(make_task(agent_name, prompt))
        proc = subprocess.Popen(
            invocation.argv,
            stdin=subprocess.PIPE
            if invocation.stdin is not None
            else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=workdir,
            env={**os.environ, **invocation.env},
            start_new_session=True,
        )
        if proc.stdin is not None:
            proc.stdin.write((invocation.stdin or "").encode())
            proc.stdin.close()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def kinds(events: list[Any]) -> list[str]:
    return [type(event).__name__ for event in events]


@pytest.mark.parametrize("agent", FAKES)
def test_exit_n_exits_without_a_result(
    agent: str, run_agent: Callable[..., Any]
) -> None:
    run = run_agent(agent, "[[exit 7]]")

    assert run.returncode == 7
    assert run.of(Init)
    assert run.of(Result) == []
    assert not any(isinstance(u, Usage) and u.output_tokens == 340 for u in run.events)


@pytest.mark.parametrize("agent", FAKES)
def test_die_is_a_sigkill_in_the_middle_of_a_line(
    agent: str, run_agent: Callable[..., Any]
) -> None:
    run = run_agent(agent, "[[die]]")

    assert run.returncode == -signal.SIGKILL
    assert not run.stdout.endswith(b"\n")
    assert run.of(Result) == []
    assert run.of(ToolCall)


@pytest.mark.parametrize("agent", FAKES)
def test_garbage_hides_no_event(agent: str, run_agent: Callable[..., Any]) -> None:
    clean = run_agent(agent, "same prompt ..........")
    noisy = run_agent(agent, "same prompt [[garbage]]")

    ignored = [text for text in noisy.lines if not get_agent(agent).parse_line(text)]
    assert "Loading configuration..." in ignored
    assert '{"type": 42}' in ignored
    assert any(
        text.startswith('{"type": "assistant", "message": {"con') for text in ignored
    )
    assert len(noisy.lines) > len(clean.lines) + 5
    assert kinds(noisy.events) == kinds(clean.events)
    assert noisy.of(Usage) == clean.of(Usage)
    assert [r.is_error for r in noisy.of(Result)] == [
        r.is_error for r in clean.of(Result)
    ]


@pytest.mark.parametrize("agent", FAKES)
def test_flood_prints_megabytes_of_text(
    agent: str, run_agent: Callable[..., Any]
) -> None:
    run = run_agent(agent, "[[flood 2]]")

    assert run.returncode == 0
    assert len(run.stdout) >= 2 * 1024 * 1024
    assert sum(len(t.text) for t in run.of(Text)) >= 2 * 1024 * 1024
    if agent != "codex":
        assert run.of(Result)[-1].is_error is False


def test_sleep_delays_the_end(run_agent: Callable[..., Any]) -> None:
    started = time.monotonic()

    run = run_agent("claude", "[[sleep 0.5]]")

    assert time.monotonic() - started >= 0.5
    assert run.returncode == 0
    assert run.of(Result)[0].is_error is False


def test_hang_never_ends_on_its_own(run_agent: Callable[..., Any]) -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        run_agent("claude", "[[hang]]", timeout=1)


def test_output_streams_before_the_run_ends(
    start_agent: Callable[..., subprocess.Popen[bytes]],
) -> None:
    proc = start_agent("claude", "[[hang]]")
    assert proc.stdout is not None

    first = proc.stdout.readline()

    assert get_agent("claude").parse_line(first.decode())[0].__class__ is Init
    assert proc.poll() is None


def test_ignore_term_leaves_only_sigkill(
    start_agent: Callable[..., subprocess.Popen[bytes]],
) -> None:
    proc = start_agent("codex", "[[ignore-term]] [[hang]]")
    assert proc.stdout is not None
    proc.stdout.readline()

    os.killpg(proc.pid, signal.SIGTERM)
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=0.5)
    os.killpg(proc.pid, signal.SIGKILL)

    assert proc.wait(timeout=5) == -signal.SIGKILL


@pytest.mark.parametrize("agent", FAKES)
def test_spawn_child_leaves_a_child_in_the_same_group(
    agent: str,
    start_agent: Callable[..., subprocess.Popen[bytes]],
    workdir: Path,
) -> None:
    proc = start_agent(agent, "[[spawn-child 30]]")
    assert proc.wait(timeout=30) == 0

    child = int((workdir / "child.pid").read_text())
    try:
        assert os.getpgid(child) == proc.pid
        environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        assert b"NIGHTSHIFT_TASK_ID=t-0001" in environ
    finally:
        os.kill(child, signal.SIGKILL)


def test_killing_the_group_takes_the_child_too(
    start_agent: Callable[..., subprocess.Popen[bytes]], workdir: Path
) -> None:
    proc = start_agent("claude", "[[spawn-child 30]] [[hang]]")
    pid_file = workdir / "child.pid"
    deadline = time.monotonic() + 10
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    child = int(pid_file.read_text())

    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=5)

    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    # The child is not ours to reap, so a zombie counts as gone.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_the_log_records_how_each_fake_was_started(
    run_agent: Callable[..., Any],
    agent_log: Callable[[], list[dict[str, Any]]],
    workdir: Path,
) -> None:
    for agent in FAKES:
        run_agent(agent, f"hello {agent}")

    records = agent_log()
    assert [r["agent"] for r in records] == FAKES
    assert [r["argv"][0] for r in records] == FAKES
    assert {r["cwd"] for r in records} == {str(workdir)}
    assert all(isinstance(r["pid"], int) for r in records)
    assert records[0]["stdin"] == "hello claude"


def test_tool_results_answer_their_calls(run_agent: Callable[..., Any]) -> None:
    for agent in FAKES:
        run = run_agent(agent, "[[write a.txt]] [[delete a.txt]]")
        calls = [c.call_id for c in run.of(ToolCall)]
        results = [r.call_id for r in run.of(ToolResult)]
        assert calls == results
        assert len(set(calls)) == 2
