"""How fast the CLI reads the queue, and how 200 simultaneous submits fare.

    python bench/bench_queue.py

Targets: `queue --json` under 100 ms on an empty queue and under 300 ms with
10,000 tasks; 200 concurrent submits with no errors.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import compile_package, describe_ms, nightshift_command, scratch_env
from nightshift.core.models import Plan
from nightshift.core.store import Store

RUNS = 15


def time_command(command: list[str], env: dict[str, str]) -> list[float]:
    subprocess.run(command, env=env, capture_output=True, check=True)  # warm-up
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def time_queue_json(env: dict[str, str]) -> list[float]:
    return time_command([*nightshift_command(), "queue", "--json"], env)


def fill(home: Path, count: int) -> None:
    with Store.open(home / "nightshift.db") as store:
        for n in range(count):
            store.create_task(
                description=f"Summarise paper number {n} and list its claims",
                agent="claude",
                workdir=str(home),
                actor="bench",
                submitted_by="bench",
                plan=Plan(prompt=f"Summarise paper number {n}", allowed_tools=["Read"]),
            )


def concurrent_submits(env: dict[str, str], count: int) -> None:
    command = [*nightshift_command(), "submit", "--no-plan", "--agent", "shell"]
    started = time.perf_counter()
    procs = []
    for n in range(count):
        procs.append(
            (
                time.perf_counter(),
                subprocess.Popen(
                    [*command, f"echo {n}"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                ),
            )
        )
    latencies, errors, locked, ids = [], 0, 0, set()
    for began, proc in procs:
        out, err = proc.communicate()
        latencies.append(time.perf_counter() - began)
        if proc.returncode != 0:
            errors += 1
        if b"locked" in err:
            locked += 1
        ids.add(out.strip())
    wall = time.perf_counter() - started
    print(
        f"{count} concurrent submits: {errors} errors, {locked} 'locked', "
        f"{len(ids)} distinct ids, wall {wall:.1f} s"
    )
    print(f"  per-submit latency: {describe_ms(latencies)}")


def main() -> None:
    compile_package()
    env, home = scratch_env()
    # What any Python CLI with these libraries pays before doing anything: a
    # yardstick for the figures below on a machine as noisy as this one.
    floor = [sys.executable, "-c", "import click, logging, sqlite3, json"]
    print(f"floor, python importing click: {describe_ms(time_command(floor, env))}")
    print(f"queue --json, empty queue: {describe_ms(time_queue_json(env))}")
    fill(home, 10_000)
    print(f"queue --json, 10,000 tasks: {describe_ms(time_queue_json(env))}")

    env, _ = scratch_env()
    concurrent_submits(env, 200)


if __name__ == "__main__":
    main()
