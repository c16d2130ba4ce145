"""TaskRun on its own: control that arrives before the agent has started."""

from __future__ import annotations

import asyncio
from pathlib import Path

from nightshift.core.models import Action, Plan, Task, TaskStatus
from tests.executor.support import proc_state


def _shell_task(workdir: Path, command: str, timeout: int = 30) -> Task:
    return Task(
        id="task_0000abcd",
        status=TaskStatus.RUNNING,
        agent="shell",
        description=command,
        workdir=str(workdir),
        plan=Plan(prompt=command),
        timeout_seconds=timeout,
    )


async def _wait_for_state(pid: int, wanted: str) -> None:
    for _ in range(200):
        if proc_state(pid) == wanted:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"process {pid} never reached state {wanted}")


async def test_pause_requested_before_start_stops_the_agent_once_started(
    tmp_path: Path, env
) -> None:
    from nightshift.core.runner import TaskRun

    run = TaskRun(_shell_task(tmp_path, "echo started; sleep 0.3"), tmp_path / "log")
    run.pause()
    started: list[int] = []

    async def on_started(pgid: int) -> None:
        started.append(pgid)

    running = asyncio.create_task(run.run(on_started))
    while not started:
        await asyncio.sleep(0.01)
    await _wait_for_state(started[0], "T")
    assert run.paused

    run.resume()
    outcome = await asyncio.wait_for(running, 10)

    assert outcome.action is Action.COMPLETE
    assert (tmp_path / "log" / "output.jsonl").read_text() == "started\n"


async def test_kill_requested_before_start_ends_the_run_at_once(
    tmp_path: Path, env
) -> None:
    from nightshift.core.runner import TaskRun

    run = TaskRun(_shell_task(tmp_path, "sleep 30"), tmp_path / "log", 0.5)
    run.kill("killed by tui", cancelled=True)

    async def on_started(pgid: int) -> None:
        return None

    outcome = await asyncio.wait_for(run.run(on_started), 10)

    assert outcome.action is None
    assert outcome.error == "killed by tui"
