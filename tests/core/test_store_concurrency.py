"""Many claimers and many submitters on one database file at once."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from nightshift.core.models import Action
from nightshift.core.store import Store
from tests.queue_helpers import create, plan

TASKS = 200
CLAIMERS = 4

CLAIM_LOOP = """
import json, sys
from pathlib import Path
from nightshift.core.store import Store

store = Store.open(Path(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
claimed = []
while (task := store.claim(sys.argv[2], sys.argv[2])) is not None:
    claimed.append(task.id)
print(json.dumps(claimed), flush=True)
"""


def _committed_tasks(path: Path, count: int) -> list[str]:
    with Store.open(path) as store:
        ids = []
        for n in range(count):
            task = create(store, description=f"job {n}", plan=plan())
            store.apply(task.id, Action.APPROVE, "cli:alice")
            ids.append(task.id)
    return ids


def _check_each_claimed_once(
    path: Path, ids: list[str], claims: dict[str, list[str]]
) -> None:
    everything = [task_id for claimed in claims.values() for task_id in claimed]
    assert sorted(everything) == sorted(ids)
    assert len(set(everything)) == len(everything)

    conn = sqlite3.connect(path)
    try:
        events = Counter(
            row[0]
            for row in conn.execute(
                "SELECT task_id FROM task_events WHERE action = 'claim'"
            )
        )
        holders = dict(conn.execute("SELECT id, executor_id FROM tasks").fetchall())
    finally:
        conn.close()
    assert events == Counter(ids)
    for executor, claimed in claims.items():
        for task_id in claimed:
            assert holders[task_id] == executor


def test_claiming_processes_never_share_a_task(tmp_path: Path) -> None:
    path = tmp_path / "nightshift.db"
    ids = _committed_tasks(path, TASKS)
    procs = {
        f"exec-{n}": subprocess.Popen(
            [sys.executable, "-c", CLAIM_LOOP, str(path), f"exec-{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(CLAIMERS)
    }
    for proc in procs.values():
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    # Everyone starts together, so the claims really do contend.
    for proc in procs.values():
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()

    claims = {}
    for executor, proc in procs.items():
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0
        claims[executor] = json.loads(out)

    _check_each_claimed_once(path, ids, claims)


def test_claiming_threads_never_share_a_task(tmp_path: Path) -> None:
    path = tmp_path / "nightshift.db"
    ids = _committed_tasks(path, TASKS)
    claims: dict[str, list[str]] = {f"exec-{n}": [] for n in range(CLAIMERS)}
    errors: list[BaseException] = []
    start = threading.Barrier(CLAIMERS)

    def claim_all(executor: str) -> None:
        try:
            with Store.open(path) as store:
                start.wait()
                while (task := store.claim(executor, executor)) is not None:
                    claims[executor].append(task.id)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=claim_all, args=(e,)) for e in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    _check_each_claimed_once(path, ids, claims)


@pytest.mark.slow
def test_two_hundred_submits_at_once(home: Path, workdir: Path) -> None:
    assert not (home / "nightshift.db").exists()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nightshift",
                "submit",
                "--no-plan",
                "--agent",
                "shell",
                f"echo {n}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=workdir,
            env=dict(os.environ),
        )
        for n in range(TASKS)
    ]
    results = [(proc, *proc.communicate(timeout=600)) for proc in procs]

    failures = [(p.returncode, err) for p, _, err in results if p.returncode != 0]
    assert failures == []
    assert [err for _, _, err in results if "locked" in err.lower()] == []
    ids = [out.strip() for _, out, _ in results]
    assert all(re.fullmatch(r"task_[0-9a-f]{8}", i) for i in ids)
    assert len(set(ids)) == TASKS
    with Store.open(home / "nightshift.db") as store:
        tasks = store.list_tasks()
    assert sorted(t.id for t in tasks) == sorted(ids)
    assert sorted(t.description for t in tasks) == sorted(
        f"echo {n}" for n in range(TASKS)
    )
