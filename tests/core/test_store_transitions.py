"""Every edge of the state machine, and every edge that is not one."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from nightshift.core.errors import (
    BadInputError,
    InvalidTransitionError,
    TaskNotFoundError,
)
from nightshift.core.models import TRANSITIONS, Action, TaskStatus
from nightshift.core.store import Store
from tests.queue_helpers import PATHS, USER, Peek, create, drive, plan, task_in

S = TaskStatus
NOTIFYING = {S.STAGED, S.COMPLETED, S.FAILED, S.CANCELLED}
CASES = [(status, action) for status in TaskStatus for action in Action]
ALLOWED = [(s, a) for s, a in CASES if s in TRANSITIONS[a].sources]
FORBIDDEN = [(s, a) for s, a in CASES if s not in TRANSITIONS[a].sources]


def _id(case: tuple[TaskStatus, Action]) -> str:
    return f"{case[0].value}-{case[1].value}"


def test_the_table_has_both_kinds_of_case() -> None:
    assert len(ALLOWED) == sum(len(t.sources) for t in TRANSITIONS.values())
    assert len(ALLOWED) + len(FORBIDDEN) == 8 * 12


@pytest.mark.parametrize("case", ALLOWED, ids=map(_id, ALLOWED))
def test_allowed_transition_moves_and_records(
    store: Store, peek: Peek, case: tuple[TaskStatus, Action]
) -> None:
    status, action = case
    task = task_in(store, status)
    events_before = store.events(task.id)
    outbox_before = peek.outbox(task.id)
    started = time.time()

    moved = drive(store, task.id, action, actor="tui")

    target = TRANSITIONS[action].target
    assert moved.status is target
    assert store.get(task.id).status is target
    assert moved.revision > task.revision

    events = store.events(task.id)
    assert len(events) == len(events_before) + 1
    last = events[-1]
    assert (last.action, last.from_status, last.to_status, last.actor) == (
        action.value,
        status.value,
        target.value,
        "tui",
    )
    assert started <= last.at <= time.time()

    added = peek.outbox(task.id)[len(outbox_before) :]
    if target in NOTIFYING:
        assert [kind for kind, _ in added] == [f"task.{target.value}"]
        payload = json.loads(added[0][1])
        assert payload["action"] == action.value
        assert (payload["from"], payload["to"]) == (status.value, target.value)
        assert payload["actor"] == "tui"
    else:
        assert added == []


@pytest.mark.parametrize("case", FORBIDDEN, ids=map(_id, FORBIDDEN))
def test_forbidden_transition_raises_and_changes_nothing(
    store: Store, peek: Peek, case: tuple[TaskStatus, Action]
) -> None:
    status, action = case
    task = task_in(store, status)
    before = peek.state(task.id)

    with pytest.raises(InvalidTransitionError) as caught:
        drive(store, task.id, action, actor="tui")

    assert task.id in caught.value.message
    assert action.value in caught.value.message
    assert peek.state(task.id) == before
    assert store.get(task.id).status is status


def test_every_status_is_reachable_by_its_path(store: Store) -> None:
    for status, path in PATHS.items():
        task = create(store)
        for action in path:
            task = drive(store, task.id, action)
        assert task.status is status


def test_submit_records_an_event_and_notifies_only_when_staged(
    store: Store, peek: Peek
) -> None:
    planning = create(store)
    staged = create(store, plan=plan())

    assert planning.status is S.PLANNING
    assert staged.status is S.STAGED
    first = store.events(planning.id)
    assert [(e.action, e.from_status, e.to_status, e.actor) for e in first] == [
        ("submit", None, "planning", USER)
    ]
    assert peek.outbox(planning.id) == []
    assert [kind for kind, _ in peek.outbox(staged.id)] == ["task.staged"]
    assert [v.version for v in store.plan_history(staged.id)] == [1]


def test_unknown_task_is_not_found(store: Store) -> None:
    with pytest.raises(TaskNotFoundError):
        store.apply("task_00000000", Action.APPROVE, USER)


def test_claim_and_finish_are_not_user_actions(store: Store, peek: Peek) -> None:
    task = task_in(store, S.COMMITTED)
    before = peek.state(task.id)

    with pytest.raises(BadInputError):
        store.apply(task.id, Action.CLAIM, USER)
    with pytest.raises(BadInputError):
        store.apply(task.id, Action.COMPLETE, USER)

    assert peek.state(task.id) == before


def test_outbox_row_is_written_in_the_same_transaction(
    store: Store, peek: Peek
) -> None:
    """When the outbox insert fails, the transition it belongs to is undone."""
    staged = task_in(store, S.STAGED)
    committed = task_in(store, S.COMMITTED)
    before = peek.state(staged.id)
    peek.conn.execute(
        "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox "
        "BEGIN SELECT RAISE(ABORT, 'outbox refused'); END"
    )
    peek.conn.commit()

    with pytest.raises(sqlite3.IntegrityError, match="outbox refused"):
        store.apply(staged.id, Action.CANCEL, USER)
    assert peek.state(staged.id) == before

    # A transition that notifies nobody is untouched by the trigger.
    claimed = drive(store, committed.id, Action.CLAIM)
    assert claimed.status is S.RUNNING


def test_cancel_and_kill_record_who_and_when(store: Store) -> None:
    staged = task_in(store, S.STAGED)
    running = task_in(store, S.RUNNING)

    cancelled = store.apply(staged.id, Action.CANCEL, "slack:U123")
    killed = store.apply(running.id, Action.KILL, "tui", "too slow")

    assert cancelled.error is not None and "slack:U123" in cancelled.error
    assert cancelled.finished_at is not None
    assert killed.error == "too slow"
    assert store.events(running.id)[-1].detail == "too slow"


def test_retry_clears_the_last_run_but_keeps_the_attempts(store: Store) -> None:
    failed = task_in(store, S.FAILED)
    assert failed.error == "it broke"
    assert failed.attempts == 1

    retried = store.apply(failed.id, Action.RETRY, USER)

    assert retried.status is S.COMMITTED
    assert (retried.error, retried.exit_code, retried.executor_id) == (
        None,
        None,
        None,
    )
    assert (retried.started_at, retried.finished_at) == (None, None)
    assert retried.attempts == 1
    again = store.claim("exec-2", "exec-2")
    assert again is not None and again.id == failed.id
    assert again.attempts == 2
    assert again.executor_id == "exec-2"


def test_revise_needs_feedback(store: Store, peek: Peek) -> None:
    task = task_in(store, S.STAGED)
    before = peek.state(task.id)

    with pytest.raises(BadInputError):
        store.revise(task.id, "   ", USER)

    assert peek.state(task.id) == before


def test_set_plan_keeps_every_version(store: Store) -> None:
    task = task_in(store, S.STAGED)
    store.revise(task.id, "smaller steps", USER)
    store.set_plan(task.id, plan("second"), USER, "smaller steps")

    history = store.plan_history(task.id)

    assert [(v.version, v.feedback, v.plan.prompt) for v in history] == [
        (1, "", "planned"),
        (2, "smaller steps", "second"),
    ]
    assert store.get(task.id).plan_version == 2
    assert store.events(task.id)[-2].detail == "smaller steps"
