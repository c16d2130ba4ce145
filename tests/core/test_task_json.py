"""The task JSON rendered by SQLite agrees with the stored task, field by field."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from nightshift.core.models import Action, Plan, TaskStatus, isoformat
from nightshift.core.store import Store
from tests.queue_helpers import EXECUTOR, USER, create, plan, task_in

S = TaskStatus


def _expected(store: Store, task_id: str) -> dict[str, object]:
    task = store.get(task_id)
    return {
        "id": task.id,
        "status": task.status.value,
        "agent": task.agent,
        "description": task.description,
        "prompt": task.prompt,
        "plan": task.plan.to_dict() if task.plan else None,
        "plan_version": task.plan_version,
        "priority": task.priority,
        "timeout_seconds": task.effective_timeout,
        "workdir": task.workdir,
        "source": task.source,
        "submitted_by": task.submitted_by,
        "approved_by": task.approved_by,
        "attempts": task.attempts,
        "max_retries": task.max_retries,
        "created_at": isoformat(task.created_at),
        "updated_at": isoformat(task.updated_at),
        "started_at": isoformat(task.started_at),
        "finished_at": isoformat(task.finished_at),
        "exit_code": task.exit_code,
        "error": task.error,
        "tokens": {
            "input": task.input_tokens,
            "output": task.output_tokens,
            "total": task.tokens,
        },
        "cost_usd": task.cost_usd,
        "turns": task.turns,
        "activity": task.activity,
        "executor_id": task.executor_id,
        "session_id": task.session_id,
        "changes": task.changes,
        "revision": task.revision,
    }


def test_planning_task_without_plan(store: Store) -> None:
    task = create(store, 'ünïcode "quotes" \n\t and \x01 control')

    assert store.task_json(task.id) == _expected(store, task.id)
    assert store.task_json(task.id)["prompt"] == task.description
    assert store.task_json(task.id)["timeout_seconds"] == 3600


def test_finished_task_with_figures_and_changes(store: Store) -> None:
    task = task_in(store, S.RUNNING, description="a run", timeout_seconds=42)
    store.update_progress(
        task.id,
        EXECUTOR,
        input_tokens=1200,
        output_tokens=34,
        cost_usd=0.012345,
        turns=3,
        activity="Bash: ls",
        session_id="s-1",
        changes={"created": ["a.txt"], "modified": [], "deleted": ["b"]},
    )
    store.finish(task.id, EXECUTOR, Action.FAIL, USER, error="boom", exit_code=3)

    rendered = store.task_json(task.id)

    assert rendered == _expected(store, task.id)
    assert rendered["timeout_seconds"] == 42


def test_listing_keeps_submission_order_and_filters(store: Store) -> None:
    statuses = [S.PLANNING, S.STAGED, S.CANCELLED, S.STAGED, S.COMMITTED]
    ids = [task_in(store, status).id for status in statuses]

    everything = json.loads(store.tasks_json())
    staged = json.loads(store.tasks_json([S.STAGED]))

    assert [t["id"] for t in everything] == ids
    assert [t["id"] for t in staged] == [ids[1], ids[3]]
    assert json.loads(store.tasks_json([S.FAILED])) == []


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False))
def test_python_and_sqlite_timestamps_round_alike(ts: float) -> None:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    [(rendered,)] = conn.execute(
        "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ?, 'unixepoch')", (ts,)
    )
    conn.close()

    assert isoformat(ts) == rendered


def test_plan_keys_from_a_later_version_are_dropped_on_read(store: Store) -> None:
    task = create(store, "x")
    store.set_plan(task.id, plan("p"), USER)
    stored = store.get(task.id).plan
    assert stored == Plan.from_dict({**stored.to_dict(), "unknown_key": 1})
