"""The revision stamped on every change, and the change feed built on it."""

from __future__ import annotations

import pytest

from nightshift.core.errors import BadInputError, InvalidTransitionError
from nightshift.core.models import Action, TaskStatus
from nightshift.core.store import Store
from tests.queue_helpers import EXECUTOR, USER, Peek, create, drive, task_in

S = TaskStatus


def test_revision_strictly_increases_with_every_change(store: Store) -> None:
    seen = [store.revision()]
    task = create(store)
    seen.append(task.revision)
    for action in (Action.PLANNED, Action.APPROVE, Action.CLAIM, Action.PAUSE):
        task = drive(store, task.id, action)
        seen.append(task.revision)
    assert store.update_progress(task.id, EXECUTOR, activity="reading")
    seen.append(store.get(task.id).revision)
    task = drive(store, task.id, Action.RESUME)
    seen.append(task.revision)

    assert seen == sorted(set(seen))
    assert seen[0] == 0
    assert store.revision() == seen[-1]


def test_a_refused_change_does_not_advance_the_revision(store: Store) -> None:
    task = task_in(store, S.STAGED)
    revision = store.revision()

    with pytest.raises(InvalidTransitionError):
        store.apply(task.id, Action.RESUME, USER)
    with pytest.raises(BadInputError):
        create(store, description="  ")

    assert store.revision() == revision
    assert store.get(task.id).revision == task.revision


def test_changes_since_returns_exactly_the_tasks_changed_after(
    store: Store,
) -> None:
    untouched = task_in(store, S.STAGED)
    approved = task_in(store, S.STAGED)
    cancelled = task_in(store, S.STAGED)
    mark = store.revision()

    drive(store, approved.id, Action.APPROVE)
    drive(store, cancelled.id, Action.CANCEL)
    changes = store.changes_since(mark)

    assert [t.id for t in changes.tasks] == [approved.id, cancelled.id]
    assert [t.status for t in changes.tasks] == [S.COMMITTED, S.CANCELLED]
    assert changes.deleted == []
    assert changes.revision == store.revision()
    assert untouched.id not in {t.id for t in changes.tasks}

    # Everything since the start, and nothing since now.
    assert {t.id for t in store.changes_since(0).tasks} == {
        untouched.id,
        approved.id,
        cancelled.id,
    }
    latest = store.changes_since(changes.revision)
    assert (latest.tasks, latest.deleted, latest.revision) == (
        [],
        [],
        changes.revision,
    )


def test_a_task_changed_twice_appears_once_with_its_latest_state(
    store: Store,
) -> None:
    task = task_in(store, S.STAGED)
    mark = store.revision()
    drive(store, task.id, Action.APPROVE)
    drive(store, task.id, Action.CLAIM)

    changes = store.changes_since(mark)

    assert [(t.id, t.status) for t in changes.tasks] == [(task.id, S.RUNNING)]


def test_progress_updates_show_in_the_change_feed(store: Store) -> None:
    task = task_in(store, S.RUNNING)
    mark = store.revision()

    assert store.update_progress(task.id, EXECUTOR, input_tokens=42)

    changes = store.changes_since(mark)
    assert [(t.id, t.input_tokens) for t in changes.tasks] == [(task.id, 42)]


def test_clear_reports_deleted_ids_in_the_change_feed(store: Store, peek: Peek) -> None:
    staged = task_in(store, S.STAGED)
    completed = task_in(store, S.COMPLETED)
    failed = task_in(store, S.FAILED)
    cancelled = task_in(store, S.CANCELLED)
    before_changes = store.revision()
    drive(store, staged.id, Action.APPROVE)
    before_clear = store.revision()

    cleared = store.clear()

    assert sorted(cleared) == sorted([completed.id, failed.id, cancelled.id])
    assert [t.id for t in store.list_tasks()] == [staged.id]
    after_clear = store.changes_since(before_clear)
    assert after_clear.tasks == []
    assert sorted(after_clear.deleted) == sorted(cleared)
    assert after_clear.revision == before_clear + 1
    earlier = store.changes_since(before_changes)
    assert [t.id for t in earlier.tasks] == [staged.id]
    assert sorted(earlier.deleted) == sorted(cleared)
    for task_id in cleared:
        for table in ("task_events", "task_plans", "outbox"):
            assert peek.count(table, task_id) == 0


def test_clear_with_nothing_finished_changes_nothing(store: Store) -> None:
    task_in(store, S.STAGED)
    revision = store.revision()

    assert store.clear() == []
    assert store.revision() == revision


def test_clear_refuses_unfinished_statuses(store: Store) -> None:
    task = task_in(store, S.STAGED)

    with pytest.raises(BadInputError):
        store.clear([S.STAGED])

    assert store.get(task.id).status is S.STAGED
