"""Executors in their own processes: dispatch, control, stop and status."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from nightshift.core.models import TaskStatus
from nightshift.core.store import Store
from tests.executor.support import CLI, alive, proc_state, wait_for, wait_status

S = TaskStatus


def test_idle_executor_starts_approved_task_without_waiting_a_poll(
    cli: CLI, submit, store: Store, executor_process
) -> None:
    executor_process("--workers", "2", "--poll-interval", "600")
    wait_for(lambda: store.executors(), message="executor registered")
    task_id = submit("hello [[tokens 3 4]]")

    assert cli("approve", task_id).returncode == 0

    # With a ten-minute poll interval, only the change feed can start it.
    task = wait_status(store, task_id, S.COMPLETED, timeout=20)
    assert task.tokens == 7
    assert task.executor_id == store.executors()[0].id


def test_two_executors_share_the_queue_and_run_each_task_once(
    cli: CLI, submit, store: Store, executor_process
) -> None:
    executor_process("--workers", "2")
    executor_process("--workers", "2")
    ids = [submit(f"echo {n}", "--auto-approve", agent="shell") for n in range(20)]

    for task_id in ids:
        wait_status(store, task_id, S.COMPLETED)

    claims = [e for t in ids for e in store.events(t) if e.action == "claim"]
    assert len(claims) == 20
    assert {store.get(t).attempts for t in ids} == {1}


def test_failing_task_does_not_stop_the_worker(
    submit, store: Store, executor_process
) -> None:
    executor_process("--workers", "1")
    bad = submit("x [[exit 9]]", "--auto-approve")
    good = submit("y", "--auto-approve", "--priority", "-1")

    assert wait_status(store, bad, S.FAILED).error.startswith(
        "the agent exited with code 9"
    )
    wait_status(store, good, S.COMPLETED)


def test_pause_and_resume_act_on_the_whole_process_tree(
    cli: CLI, submit, store: Store, workdir: Path, executor_process
) -> None:
    executor_process()
    task_id = submit("[[spawn-child 60]] [[sleep 60]]", "--auto-approve")
    task = wait_status(store, task_id, S.RUNNING)
    child = int(wait_for(lambda: _read_pid(workdir / "child.pid")))
    agent = int(wait_for(lambda: store.get(task_id).pgid))

    assert cli("pause", task_id).returncode == 0
    wait_for(
        lambda: proc_state(agent) == "T" and proc_state(child) == "T",
        timeout=5,
        message="agent and child stopped",
    )

    assert cli("resume", task_id).returncode == 0
    wait_for(
        lambda: proc_state(agent) != "T" and proc_state(child) != "T",
        timeout=5,
        message="agent and child continued",
    )
    assert store.get(task_id).status is S.RUNNING
    assert task.attempts == 1


def test_kill_cancels_and_leaves_no_process(
    cli: CLI, submit, store: Store, workdir: Path, executor_process
) -> None:
    executor_process()
    task_id = submit("[[spawn-child 60]] [[ignore-term]] [[hang]]", "--auto-approve")
    wait_status(store, task_id, S.RUNNING)
    child = int(wait_for(lambda: _read_pid(workdir / "child.pid")))
    agent = int(wait_for(lambda: store.get(task_id).pgid))

    result = cli("kill", task_id)

    assert result.returncode == 0 and result.stdout.split() == [task_id, "cancelled"]
    wait_for(
        lambda: not alive(agent) and not alive(child),
        timeout=15,
        message="agent and child gone",
    )
    task = wait_for(lambda: (t := store.get(task_id)).exit_code is not None and t)
    assert task.status is S.CANCELLED
    assert task.error == "killed by cli:" + task.submitted_by


def test_kill_of_paused_task(cli: CLI, submit, store: Store, executor_process) -> None:
    executor_process()
    task_id = submit("[[hang]]", "--auto-approve")
    wait_status(store, task_id, S.RUNNING)
    agent = int(wait_for(lambda: store.get(task_id).pgid))
    cli("pause", task_id)
    wait_for(lambda: proc_state(agent) == "T", timeout=5)

    assert cli("kill", task_id).returncode == 0

    wait_for(lambda: not alive(agent), timeout=15, message="paused agent killed")


def test_timeout_counts_running_time_not_paused_time(
    cli: CLI, submit, store: Store, executor_process
) -> None:
    executor_process()
    task_id = submit("sleep 1.5", "--auto-approve", "--timeout", "2", agent="shell")
    wait_for(lambda: store.get(task_id).pgid)

    cli("pause", task_id)
    wait_for(lambda: store.get(task_id).status is S.PAUSED)
    # Paused for longer than the whole timeout; it must not count.
    import time

    time.sleep(2.5)
    cli("resume", task_id)

    assert wait_status(store, task_id, S.COMPLETED, S.FAILED).status is S.COMPLETED


def test_status_and_stop_from_another_terminal(
    cli: CLI, submit, store: Store, executor_process
) -> None:
    proc = executor_process("--workers", "3")
    task_id = submit("[[hang]]", "--auto-approve")
    wait_status(store, task_id, S.RUNNING)

    status = json.loads(cli("executor", "status", "--json").stdout)
    [info] = status
    assert info["pid"] == proc.pid
    assert info["workers"] == 3
    assert info["tasks"] == [task_id]
    assert info["alive"] is True

    stop = cli("executor", "stop", "--timeout", "1")

    assert stop.returncode == 0, stop.stderr
    assert proc.wait(timeout=30) == 0
    task = store.get(task_id)
    assert task.status is S.FAILED
    assert "executor stopped" in (task.error or "")
    assert store.executors() == []
    assert store.list_tasks([S.RUNNING, S.PAUSED]) == []


def test_stop_lets_short_tasks_finish(
    cli: CLI, submit, store: Store, executor_process
) -> None:
    proc = executor_process()
    task_id = submit("sleep 1; echo done", "--auto-approve", agent="shell")
    wait_status(store, task_id, S.RUNNING)

    assert cli("executor", "stop", "--timeout", "20").returncode == 0

    assert proc.wait(timeout=30) == 0
    assert store.get(task_id).status is S.COMPLETED


def test_stop_with_no_executor_says_so(cli: CLI) -> None:
    result = cli("executor", "stop")

    assert result.returncode == 0
    assert result.stderr.strip() == "no executor is running"
    assert cli("executor", "status").stderr.strip() == "no executor is running"


def test_sigint_stops_the_foreground_executor_gracefully(
    submit, store: Store, executor_process
) -> None:
    proc = executor_process()
    task_id = submit("sleep 1", "--auto-approve", agent="shell")
    wait_status(store, task_id, S.RUNNING)

    os.kill(proc.pid, signal.SIGINT)

    assert proc.wait(timeout=30) == 0
    assert store.get(task_id).status is S.COMPLETED
    assert store.executors() == []


def test_logs_follow_streams_until_the_task_ends(
    cli: CLI, submit, store: Store, executor_process
) -> None:
    executor_process()
    task_id = submit(
        "for i in 1 2 3; do echo line$i; sleep 0.3; done",
        "--auto-approve",
        agent="shell",
    )

    result = cli("logs", "--follow", task_id, timeout=30)

    assert result.returncode == 0
    assert result.stdout == "line1\nline2\nline3\n"
    assert store.get(task_id).status is S.COMPLETED


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def test_stop_by_id_leaves_the_other_executor_running(
    cli: CLI, store: Store, executor_process
) -> None:
    first = executor_process()
    second = executor_process()
    wait_for(lambda: len(store.executors()) == 2, message="two executors")
    by_pid = {e.pid: e.id for e in store.executors()}

    result = cli("executor", "stop", "--id", by_pid[first.pid])

    assert result.returncode == 0, result.stderr
    assert first.wait(timeout=30) == 0
    assert second.poll() is None
    assert [e.id for e in store.executors()] == [by_pid[second.pid]]


def test_stop_of_an_unknown_executor_is_bad_input(cli: CLI) -> None:
    result = cli("executor", "stop", "--id", "exec_00000000")

    assert result.returncode == 2
    assert result.stderr == "error: no executor exec_00000000 is registered\n"


def test_progress_is_saved_while_the_task_runs(
    submit, store: Store, executor_process
) -> None:
    executor_process()
    task_id = submit("Work through the backlog [[sleep 4]]", "--auto-approve")

    # The fake prints a text, a Bash tool call and its result, then sleeps:
    # the latest event and the tokens so far must reach the queue meanwhile.
    live = wait_for(
        lambda: (
            (t := store.get(task_id)).status is S.RUNNING
            and t.activity == "Bash: ls"
            and t.input_tokens > 0
            and t
        ),
        timeout=10,
        message="live activity and tokens while the task runs",
    )

    assert live.session_id
    assert wait_status(store, task_id, S.COMPLETED).activity == "finished"
