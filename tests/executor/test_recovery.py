"""Executors that die: their tasks are taken over and nothing is orphaned."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from nightshift.core.models import TaskStatus
from nightshift.core.store import Store
from tests.executor.support import CLI, alive, wait_for, wait_status

S = TaskStatus


def _kill_hard(proc) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def test_sigkilled_executor_is_recovered_without_orphans(
    submit, store: Store, workdir: Path, executor_process
) -> None:
    doomed = executor_process()
    task_id = submit("[[spawn-child 120]] [[hang]]", "--auto-approve")
    wait_status(store, task_id, S.RUNNING)
    child = int(
        wait_for(
            lambda: (
                (workdir / "child.pid").exists() and (workdir / "child.pid").read_text()
            )
        )
    )
    agent = int(wait_for(lambda: store.get(task_id).pgid))
    lost_id = store.get(task_id).executor_id

    _kill_hard(doomed)
    assert alive(agent) and alive(child)  # agents outlive their executor...
    executor_process()

    task = wait_status(store, task_id, S.FAILED, timeout=15)
    assert task.error.startswith(f"executor lost ({lost_id}")
    # ...until the next executor takes over and kills them.
    wait_for(
        lambda: not alive(agent) and not alive(child),
        timeout=5,
        message="leftover agent processes killed",
    )
    assert [e.id for e in store.executors()] != [lost_id]
    assert (
        Path(os.environ["NIGHTSHIFT_HOME"]) / "tasks" / task_id / "output.jsonl"
    ).exists()


def test_lost_task_with_retries_left_is_requeued_and_runs_again(
    submit, store: Store, executor_process
) -> None:
    doomed = executor_process()
    task_id = submit("[[sleep 2]]", "--auto-approve", "--retries", "1")
    wait_status(store, task_id, S.RUNNING)

    _kill_hard(doomed)
    executor_process()

    task = wait_status(store, task_id, S.COMPLETED, timeout=30)
    assert task.attempts == 2
    actions = [e.action for e in store.events(task_id)]
    assert actions == ["submit", "approve", "claim", "requeue", "claim", "complete"]


def test_stop_cleans_a_stale_record_left_by_a_crash(
    cli: CLI, submit, store: Store, executor_process
) -> None:
    doomed = executor_process()
    task_id = submit("[[hang]]", "--auto-approve")
    wait_status(store, task_id, S.RUNNING)
    agent = int(wait_for(lambda: store.get(task_id).pgid))
    _kill_hard(doomed)
    wait_for(
        lambda: (
            json.loads(cli("executor", "status", "--json").stdout)[0]["alive"] is False
        ),
        timeout=10,
        message="the dead executor to show as lost",
    )

    result = cli("executor", "stop")

    assert result.returncode == 0
    assert "removed the stale record" in result.stderr
    assert "no executor is running" in result.stderr
    assert store.get(task_id).status is S.FAILED
    assert store.executors() == []
    wait_for(lambda: not alive(agent), timeout=5, message="agent killed")


def test_planning_left_by_a_dead_planner_is_staged_with_a_direct_plan(
    cli: CLI, store: Store, executor_process, workdir: Path
) -> None:
    import subprocess
    import sys

    planner = subprocess.Popen(
        [sys.executable, "-m", "nightshift", "submit", "[[plan-hang]] do it"],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    task = wait_for(lambda: store.list_tasks([S.PLANNING]))[0]
    _kill_hard(planner)
    executor_process()

    staged = wait_status(store, task.id, S.STAGED, timeout=15)
    assert staged.plan.planner == "direct"
    assert staged.plan.warning == "the planner process was lost"
