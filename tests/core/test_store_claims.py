"""Claiming, finishing and progress: what an executor does to a task it holds."""

from __future__ import annotations

import sqlite3

import pytest

from nightshift.core.errors import InvalidTransitionError
from nightshift.core.models import Action, TaskStatus
from nightshift.core.store import Store
from tests.queue_helpers import Peek, create, drive, plan, task_in

S = TaskStatus


def test_claim_takes_priority_first_then_age(store: Store) -> None:
    priorities = [0, 5, 0, 5, 10, -1]
    tasks = [
        create(store, description=f"p{p} #{n}", priority=p, plan=plan())
        for n, p in enumerate(priorities)
    ]
    # Approval order must not matter: age is when the task was submitted.
    for task in reversed(tasks):
        drive(store, task.id, Action.APPROVE)
    task_in(store, S.STAGED, priority=100)

    claimed = []
    while (next_task := store.claim("exec-1", "exec-1")) is not None:
        claimed.append(next_task.id)

    expected = [tasks[i].id for i in (4, 1, 3, 0, 2, 5)]
    assert claimed == expected


def test_claim_stamps_the_run(store: Store) -> None:
    task = task_in(store, S.COMMITTED)

    claimed = store.claim("exec-7", "executor:exec-7")

    assert claimed is not None
    assert claimed.id == task.id
    assert claimed.status is S.RUNNING
    assert claimed.executor_id == "exec-7"
    assert claimed.attempts == 1
    assert claimed.started_at is not None
    assert claimed.activity == "starting"
    last = store.events(task.id)[-1]
    assert (last.action, last.from_status, last.to_status) == (
        "claim",
        "committed",
        "running",
    )
    assert (last.actor, last.detail) == ("executor:exec-7", "exec-7")


def test_claim_with_nothing_committed_returns_none(store: Store) -> None:
    task_in(store, S.STAGED)
    task_in(store, S.RUNNING)
    revision = store.revision()

    assert store.claim("exec-2", "exec-2") is None
    assert store.revision() == revision


def test_claim_by_id_refuses_a_task_that_is_not_committed(
    store: Store, peek: Peek
) -> None:
    task = task_in(store, S.STAGED)
    before = peek.state(task.id)

    with pytest.raises(InvalidTransitionError, match="it is staged"):
        store.claim("exec-1", "exec-1", task_id=task.id)

    assert peek.state(task.id) == before


def test_claim_with_approval_approves_and_claims(store: Store) -> None:
    task = task_in(store, S.STAGED)

    claimed = store.claim("exec-1", "exec-1", task_id=task.id, approved_by="tui")

    assert claimed is not None
    assert claimed.status is S.RUNNING
    assert claimed.approved_by == "tui"
    assert claimed.executor_id == "exec-1"
    events = [
        (e.action, e.from_status, e.to_status, e.actor) for e in store.events(task.id)
    ]
    assert events[-2:] == [
        ("approve", "staged", "committed", "tui"),
        ("claim", "committed", "running", "exec-1"),
    ]


def test_claim_with_approval_is_one_transaction(store: Store, peek: Peek) -> None:
    """If the claim half fails, the approval half is undone with it."""
    task = task_in(store, S.STAGED)
    before = peek.state(task.id)
    peek.conn.execute(
        "CREATE TRIGGER refuse_running BEFORE UPDATE OF status ON tasks "
        "WHEN NEW.status = 'running' BEGIN SELECT RAISE(ABORT, 'no runs'); END"
    )
    peek.conn.commit()

    with pytest.raises(sqlite3.IntegrityError, match="no runs"):
        store.claim("exec-1", "exec-1", task_id=task.id, approved_by="tui")

    assert peek.state(task.id) == before
    assert store.get(task.id).approved_by is None


def test_claim_with_approval_refuses_a_committed_task(store: Store, peek: Peek) -> None:
    task = task_in(store, S.COMMITTED)
    before = peek.state(task.id)

    with pytest.raises(InvalidTransitionError, match="it is committed"):
        store.claim("exec-1", "exec-1", task_id=task.id, approved_by="tui")

    assert peek.state(task.id) == before


@pytest.mark.parametrize("action", [Action.COMPLETE, Action.FAIL, Action.REQUEUE])
def test_finish_is_guarded_by_the_executor(
    store: Store, peek: Peek, action: Action
) -> None:
    task = create(store, plan=plan())
    drive(store, task.id, Action.APPROVE)
    store.claim("exec-A", "exec-A", task_id=task.id)
    before = peek.state(task.id)

    with pytest.raises(InvalidTransitionError, match="no longer held"):
        store.finish(task.id, "exec-B", action, "exec-B")

    assert peek.state(task.id) == before


def test_finish_complete_and_fail_record_the_outcome(store: Store) -> None:
    done = task_in(store, S.RUNNING)
    broken = task_in(store, S.RUNNING)

    completed = store.finish(
        done.id, "exec-1", Action.COMPLETE, "exec-1", exit_code=0, turns=3
    )
    failed = store.finish(
        broken.id, "exec-1", Action.FAIL, "exec-1", error="timed out", exit_code=-9
    )

    assert (completed.status, completed.exit_code, completed.turns) == (
        S.COMPLETED,
        0,
        3,
    )
    assert completed.error is None
    assert completed.finished_at is not None
    assert (failed.status, failed.error, failed.exit_code) == (
        S.FAILED,
        "timed out",
        -9,
    )
    assert store.events(broken.id)[-1].detail == "timed out"


def test_requeue_releases_the_task_for_another_claim(store: Store) -> None:
    task = task_in(store, S.RUNNING)

    requeued = store.finish(task.id, "exec-1", Action.REQUEUE, "recovery")

    assert requeued.status is S.COMMITTED
    assert requeued.executor_id is None
    again = store.claim("exec-2", "exec-2")
    assert again is not None
    assert (again.id, again.executor_id, again.attempts) == (task.id, "exec-2", 2)


def test_finish_refuses_actions_that_do_not_end_a_run(store: Store) -> None:
    task = task_in(store, S.RUNNING)

    with pytest.raises(ValueError, match="does not end a run"):
        store.finish(task.id, "exec-1", Action.PAUSE, "exec-1")
    with pytest.raises(ValueError, match="not progress columns"):
        store.finish(task.id, "exec-1", Action.COMPLETE, "exec-1", status="done")

    assert store.get(task.id).status is S.RUNNING


def test_update_progress_touches_only_the_holders_task(
    store: Store, peek: Peek
) -> None:
    mine = create(store, plan=plan())
    theirs = create(store, plan=plan())
    for task in (mine, theirs):
        drive(store, task.id, Action.APPROVE)
    store.claim("exec-A", "exec-A", task_id=mine.id)
    store.claim("exec-B", "exec-B", task_id=theirs.id)
    theirs_before = peek.row(theirs.id)

    updated = store.update_progress(
        mine.id,
        "exec-A",
        input_tokens=1200,
        output_tokens=34,
        cost_usd=0.25,
        activity="editing main.py",
        changes={"created": ["a.txt"], "modified": [], "deleted": []},
    )

    assert updated is True
    task = store.get(mine.id)
    assert (task.input_tokens, task.output_tokens, task.tokens) == (1200, 34, 1234)
    assert (task.cost_usd, task.activity) == (0.25, "editing main.py")
    assert task.changes == {"created": ["a.txt"], "modified": [], "deleted": []}
    assert task.status is S.RUNNING
    assert peek.row(theirs.id) == theirs_before


def test_update_progress_by_another_executor_changes_nothing(
    store: Store, peek: Peek
) -> None:
    task = task_in(store, S.RUNNING)
    before = peek.row(task.id)

    assert store.update_progress(task.id, "exec-other", activity="hijack") is False

    assert peek.row(task.id) == before


@pytest.mark.parametrize("column", ["status", "revision", "attempts", "plan"])
def test_update_progress_rejects_other_columns(
    store: Store, peek: Peek, column: str
) -> None:
    task = task_in(store, S.RUNNING)
    before = peek.state(task.id)

    with pytest.raises(ValueError, match="not progress columns"):
        store.update_progress(task.id, "exec-1", **{column: "x"})

    assert peek.state(task.id) == before


def test_approve_records_the_approver(store: Store) -> None:
    task = task_in(store, S.STAGED)

    approved = store.apply(task.id, Action.APPROVE, "slack:U42")

    assert approved.approved_by == "slack:U42"
    assert store.events(task.id)[-1].actor == "slack:U42"
