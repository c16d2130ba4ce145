"""Finding a task by what a user typed: whole id, unique prefix, or not."""

from __future__ import annotations

import pytest

from nightshift.core.errors import TaskNotFoundError
from nightshift.core.store import Store
from tests.queue_helpers import create


def _shortest_unique_prefix(task_id: str, others: list[str]) -> str:
    hexpart = task_id[len("task_") :]
    for length in range(1, 9):
        prefix = hexpart[:length]
        if not any(o != task_id and o[5:].startswith(prefix) for o in others):
            return prefix
    raise AssertionError("ids are unique")


def test_whole_id_and_unique_prefixes_resolve(store: Store) -> None:
    ids = [create(store, description=f"task {n}").id for n in range(5)]
    target = ids[2]
    prefix = _shortest_unique_prefix(target, ids)

    for ref in (
        target,
        target[5:],
        target.upper(),
        f"  {target}\n",
        prefix,
        f"task_{prefix}",
        f"TASK_{prefix.upper()}",
    ):
        assert store.resolve(ref).id == target, ref


def test_a_shared_prefix_is_ambiguous(store: Store) -> None:
    # Seventeen ids cannot all start with different hex digits.
    ids = [create(store, description=f"task {n}").id for n in range(17)]
    by_first: dict[str, list[str]] = {}
    for task_id in ids:
        by_first.setdefault(task_id[5], []).append(task_id)
    shared = next(first for first, group in by_first.items() if len(group) > 1)

    for ref in (shared, f"task_{shared}"):
        with pytest.raises(TaskNotFoundError, match="matches several"):
            store.resolve(ref)


def test_unknown_id_is_not_found(store: Store) -> None:
    ids = {create(store).id for _ in range(3)}
    missing = next(f"task_{n:08x}" for n in range(1, 100) if f"task_{n:08x}" not in ids)

    with pytest.raises(TaskNotFoundError, match="no task matches"):
        store.resolve(missing)


@pytest.mark.parametrize(
    "ref", ["", "   ", "task_", "xyz", "task_xyz", "123456789", "task_12 34", "-1"]
)
def test_malformed_id_is_refused(store: Store, ref: str) -> None:
    create(store)

    with pytest.raises(TaskNotFoundError, match="is not a task id"):
        store.resolve(ref)
