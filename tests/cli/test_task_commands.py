"""queue, show (results), approve, cancel, retry and clear from the shell."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nightshift.core.models import TaskStatus
from nightshift.core.store import Store
from tests.cli.conftest import ACTOR, CLI, TASK_KEYS

S = TaskStatus
Seed = Callable[..., str]


def _ids(output: str) -> list[str]:
    return [task["id"] for task in json.loads(output)]


def test_queue_lists_every_task_oldest_first(run_cli: CLI, seed: Seed) -> None:
    ids = [seed(S.STAGED), seed(S.COMMITTED), seed(S.CANCELLED)]

    result = run_cli("queue", "--json")

    assert result.returncode == 0
    assert _ids(result.stdout) == ids
    for task in json.loads(result.stdout):
        assert TASK_KEYS - task.keys() == set()


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (["staged"], [0]),
        (["committed"], [1]),
        (["staged", "cancelled"], [0, 2]),
        (["running"], []),
    ],
)
def test_queue_filters_by_status(
    run_cli: CLI, seed: Seed, wanted: list[str], expected: list[int]
) -> None:
    ids = [seed(S.STAGED), seed(S.COMMITTED), seed(S.CANCELLED)]
    args = [arg for status in wanted for arg in ("--status", status)]

    result = run_cli("queue", *args, "--json")

    assert result.returncode == 0
    assert _ids(result.stdout) == [ids[i] for i in expected]


def test_queue_table_and_empty_queue(run_cli: CLI, seed: Seed) -> None:
    empty = run_cli("queue")
    assert (empty.returncode, empty.stdout, empty.stderr) == (0, "", "no tasks\n")
    assert json.loads(run_cli("queue", "--json").stdout) == []

    task_id = seed(S.STAGED, description="tidy the logs")
    table = run_cli("queue")
    listed = run_cli("ls")

    assert table.returncode == 0
    assert task_id in table.stdout
    assert "tidy the logs" in table.stdout
    assert "staged" in table.stdout
    assert listed.stdout == table.stdout


def test_show_and_its_results_alias(run_cli: CLI, seed: Seed) -> None:
    task_id = seed(S.FAILED, description="compile everything")

    shown = run_cli("show", task_id[:9], "--json")
    results = run_cli("results", task_id, "--json")
    human = run_cli("show", task_id)

    assert shown.returncode == results.returncode == human.returncode == 0
    data = json.loads(shown.stdout)
    assert json.loads(results.stdout) == data
    assert TASK_KEYS - data.keys() == set()
    assert (data["id"], data["status"], data["error"]) == (
        task_id,
        "failed",
        "it broke",
    )
    assert [e["action"] for e in data["events"]] == [
        "submit",
        "planned",
        "approve",
        "claim",
        "fail",
    ]
    assert [p["version"] for p in data["plans"]] == [1]
    assert task_id in human.stdout
    assert "compile everything" in human.stdout
    assert "it broke" in human.stdout


def test_approve_commits_and_records_the_user(
    run_cli: CLI, seed: Seed, queue_store: Store
) -> None:
    task_id = seed(S.STAGED)

    result = run_cli("approve", task_id[5:])

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{task_id} committed\n"
    assert result.stderr == ""
    task = queue_store.get(task_id)
    assert (task.status, task.approved_by) == (S.COMMITTED, ACTOR)
    assert queue_store.events(task_id)[-1].actor == ACTOR


def test_cancel_then_retry(run_cli: CLI, seed: Seed, queue_store: Store) -> None:
    task_id = seed(S.COMMITTED)

    cancelled = run_cli("cancel", task_id, "--json")
    retried = run_cli("retry", task_id, "--json")

    assert cancelled.returncode == retried.returncode == 0
    first, second = json.loads(cancelled.stdout), json.loads(retried.stdout)
    assert TASK_KEYS - first.keys() == TASK_KEYS - second.keys() == set()
    assert (first["status"], second["status"]) == ("cancelled", "committed")
    assert first["finished_at"] is not None and second["finished_at"] is None
    assert [(e.action, e.actor) for e in queue_store.events(task_id)][-2:] == [
        ("cancel", ACTOR),
        ("retry", ACTOR),
    ]


def test_retry_a_failed_task(run_cli: CLI, seed: Seed, queue_store: Store) -> None:
    task_id = seed(S.FAILED)

    result = run_cli("retry", task_id)

    assert result.returncode == 0
    assert result.stdout == f"{task_id} committed\n"
    task = queue_store.get(task_id)
    assert (task.status, task.error, task.attempts) == (S.COMMITTED, None, 1)


def test_clear_deletes_finished_tasks_and_their_logs(
    run_cli: CLI, seed: Seed, home: Path
) -> None:
    keep = [seed(S.STAGED), seed(S.COMMITTED), seed(S.RUNNING)]
    finished = [seed(S.COMPLETED), seed(S.FAILED), seed(S.CANCELLED)]
    for task_id in (keep[0], finished[0]):
        logs = home / "tasks" / task_id
        logs.mkdir(parents=True)
        (logs / "output.jsonl").write_text("{}\n")

    result = run_cli("clear", "--yes")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "cleared 3 tasks\n"
    assert sorted(_ids(run_cli("queue", "--json").stdout)) == sorted(keep)
    assert (home / "tasks" / keep[0] / "output.jsonl").exists()
    assert not (home / "tasks" / finished[0]).exists()
    again = run_cli("clear", "--yes")
    assert again.stdout == "cleared 0 tasks\n"


def test_clear_without_yes_and_without_a_terminal_refuses(
    run_cli: CLI, seed: Seed, db: Path, db_dump: Callable[[Path], list[str]]
) -> None:
    seed(S.CANCELLED)
    before = db_dump(db)

    result = run_cli("clear", stdin=b"y\n")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert "--yes" in result.stderr
    assert result.stderr.count("\n") == 1
    assert db_dump(db) == before


def test_approve_json_carries_every_field(run_cli: CLI, seed: Seed) -> None:
    task_id = seed(S.STAGED, priority=3)

    result = run_cli("approve", task_id, "--json")

    data: dict[str, Any] = json.loads(result.stdout)
    assert TASK_KEYS - data.keys() == set()
    assert (data["id"], data["status"], data["priority"]) == (task_id, "committed", 3)
