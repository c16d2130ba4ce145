"""Helpers for tests that run tasks: waiting, process states, agent logs."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from nightshift.core.models import Task, TaskStatus
from nightshift.core.store import Store

CLI = Callable[..., subprocess.CompletedProcess[str]]


def wait_for(
    predicate: Callable[[], object], timeout: float = 30, message: str = ""
) -> object:
    """Poll until predicate() is truthy; fail the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {message or predicate}")


def wait_status(
    store: Store, task_id: str, *statuses: TaskStatus, timeout: float = 30
) -> Task:
    def reached() -> Task | None:
        task = store.get(task_id)
        return task if task.status in statuses else None

    found = wait_for(reached, timeout, f"{task_id} to become {statuses}")
    assert isinstance(found, Task)
    return found


def alive(pid: int) -> bool:
    """Whether pid is a live process (zombies count as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def proc_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def agent_log(env: dict[str, str]) -> list[dict[str, object]]:
    path = Path(env["FAKE_AGENT_LOG"])
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]
