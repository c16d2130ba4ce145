"""Fixtures for running agent backends against the fake CLIs."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from nightshift.core.agents import get_agent
from nightshift.core.agents.base import AgentEvent
from nightshift.core.models import Plan, Task, TaskStatus

# Every task made here has this id; tests compare it with what agents see.
TASK_ID = "t-0001"
E = TypeVar("E")


@dataclass
class AgentRun:
    """What one run of an agent CLI printed, and the events read from it."""

    returncode: int
    stdout: bytes
    stderr: str
    events: list[AgentEvent] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return self.stdout.decode("utf-8", errors="replace").splitlines()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def make_task(workdir: Path) -> Callable[..., Task]:
    """Build a running task whose plan has the given prompt and fields."""

    def make(agent: str = "claude", prompt: str = "do the thing", **plan: Any) -> Task:
        return Task(
            id=TASK_ID,
            status=TaskStatus.RUNNING,
            agent=agent,
            description=prompt,
            workdir=str(workdir),
            plan=Plan(prompt=prompt, **plan),
        )

    return make


@pytest.fixture
def run_agent(
    fake_agents_path: Path, make_task: Callable[..., Task], workdir: Path
) -> Callable[..., AgentRun]:
    """Start an agent's invocation as a real process and parse what it prints."""

    def run(
        agent_name: str,
        prompt: str = "please summarise the repository",
        *,
        timeout: float = 30,
        **plan: Any,
    ) -> AgentRun:
        agent = get_agent(agent_name)
        invocation = agent.invocation(make_task(agent_name, prompt, **plan))
        stdin: dict[str, Any] = (
            {"stdin": subprocess.DEVNULL}
            if invocation.stdin is None
            else {"input": invocation.stdin.encode()}
        )
        proc = subprocess.run(
            invocation.argv,
            capture_output=True,
            cwd=workdir,
            env={**os.environ, **invocation.env},
            timeout=timeout,
            check=False,
            **stdin,
        )
        result = AgentRun(proc.returncode, proc.stdout, proc.stderr.decode())
        for line in result.lines:
            result.events.extend(agent.parse_line(line))
        return result

    return run


@pytest.fixture
def agent_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], list[dict[str, Any]]]:
    """Have the fakes log how they were started; returns a reader of that log."""
    path = tmp_path / "fake-agent.log"
    monkeypatch.setenv("FAKE_AGENT_LOG", str(path))

    def read() -> list[dict[str, Any]]:
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    return read
