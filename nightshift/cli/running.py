"""Commands that run tasks and watch them: executor, pause, kill, logs."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from nightshift.cli.common import (
    cli_actor,
    complete_task_ids,
    fail,
    print_json,
    run_async,
    settings_or_exit,
    warn,
    with_store,
)
from nightshift.cli.tasks import action_command
from nightshift.core.errors import BadInputError, NightShiftError
from nightshift.core.models import Action, Task, TaskStatus
from nightshift.core.settings import Settings

if TYPE_CHECKING:
    import asyncio

    from nightshift.core.async_store import AsyncStore
    from nightshift.core.executor import Executor
    from nightshift.core.store import Store

S = TaskStatus
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncResult:
    """A task run in the calling process, and whether it failed."""

    task: Task

    @property
    def failed(self) -> bool:
        return self.task.status is not TaskStatus.COMPLETED


async def run_here(
    store: AsyncStore, settings: Settings, task_id: str, approve_as: str | None = None
) -> SyncResult:
    """Run one task in this process, through the same claim executors use.

    With approve_as, the staged task is approved and claimed in one
    transaction, so no background executor can start it first. Ctrl-C kills
    the task (it ends cancelled).
    """
    import asyncio

    from nightshift.core.executor import run_one

    loop = asyncio.get_running_loop()
    kills: list[asyncio.Task[None]] = []

    def interrupt() -> None:
        warn(f"interrupted: killing {task_id}")
        kills.append(loop.create_task(_kill_quietly(store, task_id)))

    loop.add_signal_handler(signal.SIGINT, interrupt)
    loop.add_signal_handler(signal.SIGTERM, interrupt)
    try:
        return SyncResult(await run_one(store, settings, task_id, approve_as))
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)


async def _kill_quietly(store: AsyncStore, task_id: str) -> None:
    try:
        await store.apply(task_id, Action.KILL, cli_actor(), "interrupted")
    except NightShiftError as exc:
        warn(exc.message)


def ensure_executor(store: Store, settings: Settings) -> None:
    """Start a background executor when none is running (NIGHTSHIFT_AUTO_EXECUTOR)."""
    import subprocess

    from nightshift.core.executor import is_alive

    if not settings.auto_executor:
        return
    if any(is_alive(info, settings) for info in store.executors()):
        return
    log_path = settings.home / "executor.log"
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nightshift",
                "executor",
                "start",
                "--idle-exit",
                "300",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
        )
    warn(f"started a background executor (pid {proc.pid}, log {log_path})")


# -- executor ---------------------------------------------------------------


@click.group()
def executor() -> None:
    """Run, inspect and stop worker pools."""


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@executor.command("start")
@click.option("--workers", type=click.IntRange(min=1), help="Tasks run at once.")
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.01),
    help="Seconds between unprompted looks for work.",
)
@click.option(
    "--idle-exit",
    type=click.FloatRange(min=0),
    hidden=True,
    help="Stop after this many idle seconds (background executors).",
)
def executor_start(
    workers: int | None, poll_interval: float | None, idle_exit: float | None
) -> None:
    """Run a worker pool in the foreground until stopped (Ctrl-C stops it)."""
    import asyncio

    from nightshift.core.executor import Executor

    _configure_logging()

    async def job(store: AsyncStore, settings: Settings) -> None:
        pool = Executor(
            store,
            settings,
            workers=workers,
            poll_interval=poll_interval,
            idle_exit=idle_exit,
        )
        runner = asyncio.create_task(pool.run())
        await pool.wait_ready()
        _stop_on_signals(pool, settings)
        click.echo(f"{pool.id} running with {pool.workers} worker(s)", err=True)
        await runner

    run_async(job)


def _stop_on_signals(pool: Executor, settings: Settings) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    signals_seen = 0

    def on_signal() -> None:
        nonlocal signals_seen
        signals_seen += 1
        # The first signal lets running tasks finish; a second one kills them.
        pool.request_stop(settings.stop_timeout)
        if signals_seen > 1:
            pool.kill_all("killed: the executor was interrupted twice")

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)


@executor.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def executor_status(as_json: bool) -> None:
    """Show every registered executor, its workers, tasks and heartbeat."""
    from nightshift.core.executor import is_alive

    def job(store: Store, settings: Settings) -> Any:
        return [
            (
                info,
                [t.id for t in store.tasks_of_executor(info.id)],
                is_alive(info, settings),
            )
            for info in store.executors()
        ]

    rows = with_store(job)
    if as_json:
        print_json(
            [
                {**info.to_json_dict(tasks), "alive": alive}
                for info, tasks, alive in rows
            ]
        )
        return
    if not rows:
        click.echo("no executor is running", err=True)
        return
    from nightshift.cli.render import console, executors_table

    console().print(executors_table(rows))


@executor.command("stop")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds running tasks get to finish (default: stop_timeout).",
)
@click.option("--no-wait", is_flag=True, help="Ask, but do not wait for the stop.")
@click.option(
    "--id", "executor_id", metavar="EXECUTOR", help="Stop only this executor."
)
def executor_stop(
    timeout: float | None, no_wait: bool, executor_id: str | None
) -> None:
    """Stop executors: no new claims; running tasks finish or are killed."""
    from nightshift.core.executor import is_alive, recover

    settings = settings_or_exit()
    grace = timeout if timeout is not None else settings.stop_timeout

    async def job(store: AsyncStore, settings: Settings) -> list[str]:
        infos = await store.executors()
        if executor_id is not None:
            infos = [i for i in infos if i.id == executor_id]
            if not infos:
                raise BadInputError(f"no executor {executor_id} is registered")
        stale = [i for i in infos if not is_alive(i, settings)]
        live = [i for i in infos if is_alive(i, settings)]
        if stale:
            # A record left by a crashed executor: clean it up the way a live
            # executor would, so its tasks do not stay "running".
            await recover(store, settings, cli_actor())
            for info in stale:
                warn(f"removed the stale record of {info.id} (pid {info.pid})")
        if not live:
            return []
        for info in live:
            await store.request_stop(grace, info.id)
        return [info.id for info in live]

    asked = run_async(job, settings)
    if not asked:
        click.echo("no executor is running", err=True)
        return
    click.echo(f"asked {', '.join(asked)} to stop (timeout {grace:g} s)", err=True)
    if no_wait:
        return

    # Killing takes the grace period on top of the timeout; allow for both.
    deadline = time.monotonic() + grace + 15
    while time.monotonic() < deadline:
        remaining = {e.id for e in with_store(lambda s, _: s.executors(), settings)}
        if not remaining & set(asked):
            click.echo("stopped", err=True)
            return
        time.sleep(0.2)
    fail("executors did not stop in time; see `nightshift executor status`")


# -- controlling running tasks --------------------------------------------


pause = action_command(
    "pause",
    Action.PAUSE,
    "Pause a running task (its whole process tree).",
    frozenset({S.RUNNING}),
)
resume = action_command(
    "resume",
    Action.RESUME,
    "Resume a paused task.",
    frozenset({S.PAUSED}),
)
kill = action_command(
    "kill",
    Action.KILL,
    "Kill a running or paused task; it ends cancelled.",
    frozenset({S.RUNNING, S.PAUSED}),
)


# -- output -------------------------------------------------------------------


@click.command()
@click.argument("task_ref", metavar="TASK", shell_complete=complete_task_ids())
@click.option("--follow", "-f", is_flag=True, help="Keep printing until the task ends.")
@click.option(
    "--stderr",
    "which",
    flag_value="stderr.log",
    default="output.jsonl",
    help="Show stderr instead of stdout.",
)
def logs(task_ref: str, follow: bool, which: str) -> None:
    """Print a task's raw agent output (alias: watch)."""
    settings = settings_or_exit()
    task = with_store(lambda store, _: store.resolve(task_ref), settings)
    path = settings.task_dir(task.id) / which
    out = sys.stdout.buffer
    offset = 0

    task_id = task.id

    def current(store: Store, settings: Settings) -> Task:
        return store.get(task_id)

    while True:
        offset = _copy_from(path, offset, out)
        if not follow:
            return
        task = with_store(current, settings)
        if task.status.is_final or task.status in (S.STAGED, S.PLANNING):
            _copy_from(path, offset, out)
            return
        time.sleep(0.2)


def _copy_from(path: os.PathLike[str], offset: int, out: Any) -> int:
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            while chunk := fh.read(1 << 16):
                out.write(chunk)
                offset += len(chunk)
    except FileNotFoundError:
        return offset
    out.flush()
    return offset


@click.command()
@click.argument("task_ref", metavar="TASK", shell_complete=complete_task_ids())
def display(task_ref: str) -> None:
    """Render a task's transcript: text, tool calls, results and usage."""
    from rich.console import Console

    from nightshift.core.agents import get_agent
    from nightshift.core.transcript import read_events, render_transcript

    settings = settings_or_exit()
    task = with_store(lambda store, _: store.resolve(task_ref), settings)
    path = settings.task_dir(task.id) / "output.jsonl"
    if not path.exists():
        fail(f"{task.id} has no output yet (it is {task.status.value})")
    console = Console(highlight=False)
    for line in render_transcript(read_events(path, get_agent(task.agent))):
        console.print(line)
    if task.error:
        console.print(f"[red]error:[/] {task.error}", highlight=False)
