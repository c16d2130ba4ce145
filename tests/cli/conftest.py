"""Fixtures for the command-line tests: a queue in the CLI's own home."""

from __future__ import annotations

import getpass
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nightshift.core.models import TaskStatus
from nightshift.core.store import Store
from tests.queue_helpers import task_in

CLI = Callable[..., subprocess.CompletedProcess[str]]
USER = getpass.getuser()
ACTOR = f"cli:{USER}"

# The keys every JSON task object carries, as the CLI documents them.
TASK_KEYS = {
    "id",
    "status",
    "agent",
    "description",
    "prompt",
    "plan",
    "priority",
    "timeout_seconds",
    "workdir",
    "source",
    "submitted_by",
    "approved_by",
    "attempts",
    "created_at",
    "started_at",
    "finished_at",
    "exit_code",
    "error",
    "tokens",
    "cost_usd",
}


@pytest.fixture
def db(home: Path) -> Path:
    return home / "nightshift.db"


@pytest.fixture
def queue_store(db: Path) -> Iterator[Store]:
    """The CLI's own queue, opened in the test for seeding and checking."""
    with Store.open(db) as opened:
        yield opened


@pytest.fixture
def seed(queue_store: Store, workdir: Path) -> Callable[..., str]:
    """Put a task straight into a status; returns its id."""

    def make(status: TaskStatus, **kwargs: Any) -> str:
        kwargs.setdefault("workdir", str(workdir))
        return task_in(queue_store, status, **kwargs).id

    return make


@pytest.fixture
def show(run_cli: CLI) -> Callable[[str], dict[str, Any]]:
    """`nightshift show TASK --json`, parsed."""

    def get(task_id: str) -> dict[str, Any]:
        result = run_cli("show", task_id, "--json")
        assert result.returncode == 0, result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    return get
