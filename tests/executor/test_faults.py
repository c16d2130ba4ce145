"""Faults around a run: floods, a locked database, the auto-started executor."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

from nightshift.core.models import TaskStatus
from nightshift.core.settings import Settings
from nightshift.core.store import Store
from tests.executor.support import CLI, wait_for, wait_status

S = TaskStatus


def test_flood_past_the_output_allowance_fails_and_the_worker_goes_on(
    cli: CLI, submit, store: Store, settings: Settings, env, executor_process
) -> None:
    env["NIGHTSHIFT_MAX_OUTPUT_MB"] = "4"
    executor_process("--workers", "1")
    flood = submit("[[flood 40]]", "--auto-approve")
    after = submit("quiet", "--auto-approve", "--priority", "-1")

    task = wait_status(store, flood, S.FAILED, timeout=60)

    assert task.error == "the agent printed more than 4 MB of output"
    size = (settings.task_dir(flood) / "output.jsonl").stat().st_size
    assert 4 * 1024 * 1024 <= size < 5 * 1024 * 1024
    wait_status(store, after, S.COMPLETED)


def test_a_100_mb_flood_fails_under_the_default_allowance(
    cli: CLI, settings: Settings
) -> None:
    result = cli(
        "submit", "--no-plan", "--auto-approve", "--sync", "--json", "[[flood 100]]"
    )

    assert result.returncode == 1
    task = json.loads(result.stdout)
    assert task["error"] == "the agent printed more than 64 MB of output"
    size = (settings.task_dir(task["id"]) / "output.jsonl").stat().st_size
    assert size < 65 * 1024 * 1024


def test_flood_within_the_allowance_is_logged_in_full(
    cli: CLI, settings: Settings
) -> None:
    result = cli(
        "submit",
        "--no-plan",
        "--auto-approve",
        "--sync",
        "--json",
        "[[flood 30]] [[tokens 5 5]]",
    )

    assert result.returncode == 0, result.stderr
    task = json.loads(result.stdout)
    assert task["tokens"]["total"] == 10
    size = (settings.task_dir(task["id"]) / "output.jsonl").stat().st_size
    assert size > 30 * 1024 * 1024


def _hold_write_lock(path: str, seconds: float, held: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    held.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


def test_briefly_locked_database_is_waited_for(cli: CLI, submit, store: Store) -> None:
    task_id = submit("echo hi", agent="shell")
    held = threading.Event()
    locker = threading.Thread(
        target=_hold_write_lock, args=(str(store.path), 1.5, held)
    )
    locker.start()
    held.wait()

    result = cli("approve", task_id)

    locker.join()
    assert result.returncode == 0, result.stderr
    assert store.get(task_id).status is S.COMMITTED


def test_database_locked_too_long_is_a_clear_error(
    cli: CLI, submit, store: Store, env
) -> None:
    task_id = submit("echo hi", agent="shell")
    env["NIGHTSHIFT_BUSY_TIMEOUT"] = "0.3"
    held = threading.Event()
    locker = threading.Thread(target=_hold_write_lock, args=(str(store.path), 3, held))
    locker.start()
    held.wait()

    result = cli("approve", task_id)

    locker.join()
    assert result.returncode == 2
    assert result.stderr.startswith("error: the queue database")
    assert "locked" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert store.get(task_id).status is S.STAGED


def test_approval_starts_a_background_executor_when_none_runs(
    cli: CLI, submit, store: Store, env
) -> None:
    env["NIGHTSHIFT_AUTO_EXECUTOR"] = "1"
    task_id = submit("echo auto", agent="shell")

    result = cli("approve", task_id)

    assert result.returncode == 0
    assert "started a background executor" in result.stderr
    wait_status(store, task_id, S.COMPLETED, timeout=30)
    [info] = store.executors()

    second = submit("echo again", "--auto-approve", agent="shell")
    wait_status(store, second, S.COMPLETED, timeout=30)
    assert [e.id for e in store.executors()] == [info.id]

    assert cli("executor", "stop", "--timeout", "5").returncode == 0
    wait_for(lambda: not store.executors(), timeout=20)
