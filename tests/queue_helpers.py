"""Moving tasks around a real Store, shared by the core queue tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from nightshift.core.models import Action, Plan, Task, TaskStatus
from nightshift.core.store import Store

S = TaskStatus
A = Action

USER = "cli:alice"
EXECUTOR = "exec-1"

# The shortest way from a fresh planning task to each status.
PATHS: dict[TaskStatus, list[Action]] = {
    S.PLANNING: [],
    S.STAGED: [A.PLANNED],
    S.COMMITTED: [A.PLANNED, A.APPROVE],
    S.RUNNING: [A.PLANNED, A.APPROVE, A.CLAIM],
    S.PAUSED: [A.PLANNED, A.APPROVE, A.CLAIM, A.PAUSE],
    S.COMPLETED: [A.PLANNED, A.APPROVE, A.CLAIM, A.COMPLETE],
    S.FAILED: [A.PLANNED, A.APPROVE, A.CLAIM, A.FAIL],
    S.CANCELLED: [A.CANCEL],
}


def plan(prompt: str = "do the thing") -> Plan:
    return Plan(prompt=prompt, allowed_tools=["Read"], reasoning="test plan")


def create(store: Store, description: str = "a task", **kwargs: Any) -> Task:
    """A task in planning, as a front door creates it before planning."""
    values: dict[str, Any] = {
        "agent": "claude",
        "workdir": "/tmp",
        "actor": USER,
        "submitted_by": "alice",
    }
    values.update(kwargs)
    return store.create_task(description=description, **values)


def drive(
    store: Store,
    task_id: str,
    action: Action,
    actor: str = USER,
    executor: str = EXECUTOR,
) -> Task:
    """Take one action on a task through the Store method a caller would use."""
    if action is A.PLANNED:
        return store.set_plan(task_id, plan("planned"), actor)
    if action is A.REVISE:
        return store.revise(task_id, "try again", actor)
    if action is A.CLAIM:
        claimed = store.claim(executor, actor, task_id=task_id)
        assert claimed is not None
        return claimed
    if action in (A.COMPLETE, A.FAIL, A.REQUEUE):
        error = "it broke" if action is A.FAIL else None
        return store.finish(task_id, executor, action, actor, error=error)
    return store.apply(task_id, action, actor)


def task_in(store: Store, status: TaskStatus, **kwargs: Any) -> Task:
    """A fresh task moved to the given status along its shortest path."""
    task = create(store, **kwargs)
    for action in PATHS[status]:
        task = drive(store, task.id, action)
    assert task.status is status
    return task


class Peek:
    """A second connection to the same file, to read rows as stored."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)
        self.conn.row_factory = sqlite3.Row

    def close(self) -> None:
        self.conn.close()

    def row(self, task_id: str) -> dict[str, Any]:
        found = self.conn.execute(
            "SELECT * FROM tasks WHERE id = ?", (task_id,)
        ).fetchone()
        assert found is not None, task_id
        return dict(found)

    def count(self, table: str, task_id: str) -> int:
        return int(
            self.conn.execute(
                f"SELECT count(*) FROM {table} WHERE task_id = ?", (task_id,)
            ).fetchone()[0]
        )

    def revision(self) -> int:
        return int(
            self.conn.execute(
                "SELECT value FROM counters WHERE name = 'revision'"
            ).fetchone()[0]
        )

    def outbox(self, task_id: str) -> list[tuple[str, str]]:
        rows = self.conn.execute(
            "SELECT kind, payload FROM outbox WHERE task_id = ? ORDER BY id",
            (task_id,),
        ).fetchall()
        return [(r["kind"], r["payload"]) for r in rows]

    def state(self, task_id: str) -> tuple[Any, ...]:
        """The row plus its history counts and the revision counter."""
        return (
            self.row(task_id),
            self.count("task_events", task_id),
            self.count("outbox", task_id),
            self.count("task_plans", task_id),
            self.revision(),
        )
