"""Dispatch latency and throughput of the executor.

    python bench/bench_executor.py [--tasks 1000] [--workers 8] [--samples 40]

Dispatch: an idle executor runs in another process (with a ten-minute poll
interval, so only the change feed can wake it); this process approves a task
and measures until the fake claude agent has started (its first line of
Python runs and logs the time). Targets: p95 under 100 ms.

Control: pause, resume and kill written to the queue by this process, timed
until the agent's process is stopped, continued, or gone (target: within a
second). Flood: the executor's peak memory while an agent prints 100 MB.

Throughput: 1,000 trivial shell tasks (`true`) committed up front, one
executor with 8 workers; tasks per second from the first claim to the last
finish. Target: over 100 per second on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import compile_package, describe_ms, nightshift_command, scratch_env
from nightshift.core.models import Action, Plan, Task, TaskStatus
from nightshift.core.store import Store


def start_executor(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*nightshift_command(), "executor", "start", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)


def _new_task(
    store: Store, workdir: Path, description: str, prompt: str, agent: str
) -> Task:
    """A staged task with a ready-made plan, as if planned and reviewed."""
    return store.create_task(
        description=description,
        agent=agent,
        workdir=str(workdir),
        actor="bench",
        submitted_by="bench",
        plan=Plan(prompt=prompt),
    )


def wait_until(predicate, timeout: float = 60.0, step: float = 0.001):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError("benchmark step did not finish")


def dispatch_latency(samples: int) -> None:
    log = Path(tempfile.mkdtemp()) / "agents.jsonl"
    env, home = scratch_env(FAKE_AGENT_LOG=str(log))
    workdir = Path(tempfile.mkdtemp())
    with Store.open(home / "nightshift.db") as store:
        proc = start_executor(env, "--workers", "2", "--poll-interval", "600")
        try:
            wait_until(store.executors)
            latencies = []
            for n in range(samples):
                task = _new_task(store, workdir, f"bench {n}", f"bench {n}", "claude")
                time.sleep(0.2)  # let the executor go idle again
                approved = time.time()
                store.apply(task.id, Action.APPROVE, "bench")
                started = wait_until(lambda t=task.id: _agent_started(log, t))
                latencies.append(started - approved)
                wait_until(
                    lambda t=task.id: store.get(t).status is TaskStatus.COMPLETED,
                    step=0.01,
                )
        finally:
            stop(proc)
    print(f"dispatch, approve -> fake claude running: {describe_ms(latencies)}")


def _agent_started(log: Path, task_id: str) -> float | None:
    try:
        lines = log.read_text().splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        record = json.loads(line)
        if record.get("task_id") == task_id:
            return float(record["time"])
    return None


def throughput(tasks: int, workers: int) -> None:
    env, home = scratch_env()
    workdir = Path(tempfile.mkdtemp())
    with Store.open(home / "nightshift.db") as store:
        for _ in range(tasks):
            task = _new_task(store, workdir, "true", "true", "shell")
            store.apply(task.id, Action.APPROVE, "bench")

        began = time.monotonic()
        proc = start_executor(env, "--workers", str(workers))
        try:
            wait_until(
                lambda: (
                    not store.list_tasks([TaskStatus.COMMITTED, TaskStatus.RUNNING])
                ),
                timeout=600,
                step=0.1,
            )
        finally:
            stop(proc)
        wall = time.monotonic() - began
        done = store.list_tasks()
        completed = sum(t.status is TaskStatus.COMPLETED for t in done)
        first = min(t.started_at or 0 for t in done)
        last = max(t.finished_at or 0 for t in done)
    print(
        f"throughput, {tasks} shell tasks, {workers} workers: "
        f"{completed / (last - first):.0f} tasks/s from first claim to last finish "
        f"({completed} completed, {tasks - completed} not; "
        f"{wall:.1f} s including executor start-up)"
    )


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return "gone"
    state = stat.rsplit(")", 1)[1].split()[0]
    return "gone" if state == "Z" else state


def control_latency(samples: int) -> None:
    """Pause, resume and kill written by this process, acted on by the executor."""
    env, home = scratch_env()
    workdir = Path(tempfile.mkdtemp())
    pauses, resumes, kills = [], [], []
    with Store.open(home / "nightshift.db") as store:
        proc = start_executor(env, "--workers", "2")
        try:
            wait_until(store.executors)
            for n in range(samples):
                task = _new_task(store, workdir, f"control {n}", "[[hang]]", "claude")
                store.apply(task.id, Action.APPROVE, "bench")
                pid = wait_until(lambda t=task.id: store.get(t).pgid, step=0.005)
                for action, wanted, sink in (
                    (Action.PAUSE, lambda s: s == "T", pauses),
                    (Action.RESUME, lambda s: s not in ("T", "gone"), resumes),
                    (Action.KILL, lambda s: s == "gone", kills),
                ):
                    began = time.perf_counter()
                    store.apply(task.id, action, "bench")
                    wait_until(lambda p=pid, w=wanted: w(_state(p)), step=0.001)
                    sink.append(time.perf_counter() - began)
        finally:
            stop(proc)
    print(f"pause, write -> agent stopped: {describe_ms(pauses)}")
    print(f"resume, write -> agent continued: {describe_ms(resumes)}")
    print(f"kill, write -> agent gone: {describe_ms(kills)}")


def flood_memory(megabytes: int) -> None:
    """Peak memory of an executor while one agent prints a flood of output."""
    env, home = scratch_env()
    workdir = Path(tempfile.mkdtemp())
    with Store.open(home / "nightshift.db") as store:
        task = _new_task(store, workdir, "flood", f"[[flood {megabytes}]]", "claude")
        store.apply(task.id, Action.APPROVE, "bench")
        began = time.monotonic()
        proc = start_executor(env, "--workers", "1")
        try:
            done = wait_until(
                lambda: store.get(task.id).status.is_final, timeout=600, step=0.05
            )
            assert done
            peak = _peak_rss_mb(proc.pid)
        finally:
            stop(proc)
        elapsed = time.monotonic() - began
        final = store.get(task.id)
        size = (home / "tasks" / task.id / "output.jsonl").stat().st_size
    print(
        f"flood, {megabytes} MB of agent output: {final.status.value}, "
        f"{size / 2**20:.0f} MB logged in {elapsed:.1f} s, "
        f"executor peak RSS {peak:.0f} MB"
    )


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    compile_package()
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    dispatch_latency(args.samples)
    control_latency(max(5, args.samples // 2))
    flood_memory(100)
    throughput(args.tasks, args.workers)


if __name__ == "__main__":
    main()
