"""The worker pool: claims committed tasks, runs them, and recovers lost ones."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from nightshift.core.async_store import AsyncStore
from nightshift.core.errors import (
    InvalidTransitionError,
    NightShiftError,
    StoreBusyError,
)
from nightshift.core.models import (
    ACTIVE_STATUSES,
    Action,
    ExecutorInfo,
    Task,
    TaskStatus,
    now,
)
from nightshift.core.processes import kill_task_processes
from nightshift.core.progress import Progress
from nightshift.core.runner import RunOutcome, TaskRun
from nightshift.core.settings import Settings
from nightshift.core.store import boot_id, host_name
from nightshift.core.submission import recover_stalled_plans

log = logging.getLogger(__name__)

T = TypeVar("T")

# How often the change counter is read. It is one cheap query, and it bounds
# how soon a pause, kill or approval made by another process takes effect.
WATCH_TICK = 0.05
PROGRESS_EVERY = 1.0


async def _patiently(write: Callable[[], Awaitable[T]], attempts: int = 5) -> T:
    """Retry a write that found the database locked for a whole busy timeout.

    Losing a run's outcome to a writer that held the lock too long would
    leave the task running forever, so the outcome is worth waiting for.
    """
    for attempt in range(attempts):
        try:
            return await write()
        except StoreBusyError:
            if attempt == attempts - 1:
                raise
            log.warning("database busy; retrying the write")
            await asyncio.sleep(1.0 + attempt)
    raise AssertionError("unreachable")


def new_executor_id() -> str:
    return "exec_" + os.urandom(4).hex()


def is_alive(
    info: ExecutorInfo, settings: Settings, clock: float | None = None
) -> bool:
    """Whether an executor has heartbeated recently enough to count as running."""
    return (clock or now()) - info.heartbeat_at < settings.executor_lost_after


@dataclass(frozen=True)
class TakeOver:
    """A task taken from a lost executor, and what became of it."""

    task_id: str
    action: Action


class Executor:
    """N workers sharing one queue with any other executors on the machine."""

    def __init__(
        self,
        store: AsyncStore,
        settings: Settings,
        *,
        workers: int | None = None,
        poll_interval: float | None = None,
        executor_id: str | None = None,
        only_task: str | None = None,
        approve_as: str | None = None,
        idle_exit: float | None = None,
        grace_seconds: float | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.workers = workers or settings.max_workers
        self.poll_interval = poll_interval or settings.poll_interval
        self.id = executor_id or new_executor_id()
        self.actor = f"executor:{self.id}"
        self.only_task = only_task
        self.approve_as = approve_as
        self.idle_exit = idle_exit
        self.grace_seconds = grace_seconds or settings.kill_grace
        self.runs: dict[str, TaskRun] = {}
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._local_change = False
        self._last_revision = 0
        self._idle_since = time.monotonic()
        self._stop_killer: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    # -- lifecycle --------------------------------------------------------

    async def run(self) -> None:
        """Register, work until stopped, then unregister. Nothing is left running."""
        await self.store.register_executor(self.id, self.workers)
        self._last_revision = await self.store.revision()
        stop_listening = self.store.add_listener(self._on_local_write)
        log.info("executor %s up with %d worker(s)", self.id, self.workers)

        loops = [
            asyncio.create_task(self._heartbeat_loop(), name="heartbeat"),
            asyncio.create_task(self._watch_loop(), name="watch"),
        ]
        if self.only_task is None:
            loops.append(asyncio.create_task(self._recovery_loop(), name="recovery"))
        self._ready.set()
        try:
            await asyncio.gather(*(self._worker(n) for n in range(self.workers)))
        finally:
            stop_listening()
            await self._shutdown(loops)

    async def _shutdown(self, loops: list[asyncio.Task[None]]) -> None:
        self._stopping.set()
        for run in self.runs.values():
            run.kill("killed: the executor shut down")
        for loop in loops:
            loop.cancel()
        if self._stop_killer is not None:
            self._stop_killer.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        with contextlib.suppress(NightShiftError):
            await self.store.unregister_executor(self.id)
        log.info("executor %s down", self.id)

    def request_stop(self, timeout: float) -> None:
        """Claim nothing more; kill what still runs after timeout seconds."""
        if self._stopping.is_set():
            return
        log.info("executor %s stopping (timeout %g s)", self.id, timeout)
        self._stopping.set()
        self._wake.set()
        self._stop_killer = asyncio.create_task(self._kill_after(timeout))

    async def _kill_after(self, timeout: float) -> None:
        await asyncio.sleep(timeout)
        self.kill_all(
            f"killed: the executor stopped and the task did not finish "
            f"within {timeout:g} s"
        )

    def kill_all(self, reason: str) -> None:
        """Kill every running task now; each is recorded as failed."""
        for run in list(self.runs.values()):
            run.kill(reason)

    async def wait_ready(self) -> None:
        await self._ready.wait()

    def _on_local_write(self) -> None:
        self._local_change = True
        self._wake.set()

    # -- workers ----------------------------------------------------------

    async def _worker(self, number: int) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            task = await self._claim()
            if task is None:
                if self.only_task is not None:
                    return
                await self._idle()
                continue
            self._idle_since = time.monotonic()
            await self._run(task)
            if self.only_task is not None:
                self.request_stop(0)
                return

    async def _claim(self) -> Task | None:
        try:
            return await self.store.claim(
                self.id, self.actor, self.only_task, approved_by=self.approve_as
            )
        except NightShiftError as exc:
            if self.only_task is not None:
                raise
            log.warning("claim failed: %s", exc.message)
            return None

    async def _idle(self) -> None:
        if (
            self.idle_exit is not None
            and not self.runs
            and time.monotonic() - self._idle_since > self.idle_exit
        ):
            log.info("executor %s idle for %g s; stopping", self.id, self.idle_exit)
            self.request_stop(0)
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def _run(self, task: Task) -> None:
        log.info("claimed %s (%s, attempt %d)", task.id, task.agent, task.attempts)
        run = TaskRun(
            task,
            self.settings.task_dir(task.id),
            self.grace_seconds,
            self.settings.max_output_mb * 1024 * 1024,
        )
        self.runs[task.id] = run

        async def started(pgid: int) -> None:
            await self.store.update_progress(
                task.id, self.id, pgid=pgid, activity="started"
            )

        flusher = asyncio.create_task(self._flush_progress(task.id, run.progress))
        try:
            outcome = await run.run(started)
        except Exception as exc:  # the worker must survive any one task
            log.exception("running %s failed", task.id)
            outcome = RunOutcome(
                Action.FAIL, f"internal error: {exc}", None, run.progress, None
            )
        finally:
            flusher.cancel()
            del self.runs[task.id]
        await self._record(task, outcome)

    async def _flush_progress(self, task_id: str, progress: Progress) -> None:
        # Throttled: a chatty agent prints thousands of events a second, and
        # every write here is a write every other process must wait behind.
        while True:
            await asyncio.sleep(PROGRESS_EVERY)
            if progress.dirty:
                progress.dirty = False
                with contextlib.suppress(NightShiftError):
                    await self.store.update_progress(
                        task_id, self.id, **progress.figures()
                    )

    async def _record(self, task: Task, outcome: RunOutcome) -> None:
        figures = {
            **outcome.progress.figures(),
            "exit_code": outcome.exit_code,
            "changes": outcome.changes,
        }
        if outcome.progress.malformed_lines:
            log.info(
                "%s: %d output line(s) were not %s events",
                task.id,
                outcome.progress.malformed_lines,
                task.agent,
            )
        action = outcome.action
        if action is not None:
            try:
                done = await _patiently(
                    lambda: self.store.finish(
                        task.id,
                        self.id,
                        action,
                        self.actor,
                        error=outcome.error,
                        **figures,
                    )
                )
                log.info("finished %s: %s", task.id, done.status.value)
                return
            except InvalidTransitionError as exc:
                # Cancelled or taken over while it ran: keep that status, but
                # still record what the run did.
                log.info("%s ended after it left us: %s", task.id, exc.message)
        await _patiently(
            lambda: self.store.update_progress(
                task.id, self.id, finished_at=now(), **figures
            )
        )

    # -- watching for changes ---------------------------------------------

    async def _watch_loop(self) -> None:
        last_version = await self.store.data_version()
        while True:
            await asyncio.sleep(WATCH_TICK)
            version = await self.store.data_version()
            if version == last_version and not self._local_change:
                continue
            last_version = version
            self._local_change = False
            try:
                await self._catch_up()
            except NightShiftError as exc:
                log.warning("could not read changes: %s", exc.message)

    async def _catch_up(self) -> None:
        changes = await self.store.changes_since(self._last_revision)
        self._last_revision = changes.revision
        for task in changes.tasks:
            if task.status is TaskStatus.COMMITTED:
                self._wake.set()
            run = self.runs.get(task.id)
            if run is not None:
                self._reconcile(run, task)
        for task_id in changes.deleted:
            run = self.runs.get(task_id)
            if run is not None:
                run.kill("the task was deleted", cancelled=True)
        await self._check_stop_request()

    def _reconcile(self, run: TaskRun, task: Task) -> None:
        """Make the process match what the queue now says about its task."""
        if task.executor_id != self.id or task.status not in ACTIVE_STATUSES:
            reason = task.error or f"the task became {task.status.value}"
            run.kill(reason, cancelled=True)
        elif task.status is TaskStatus.PAUSED and not run.paused:
            run.pause()
            log.info("paused %s", task.id)
        elif task.status is TaskStatus.RUNNING and run.paused:
            run.resume()
            log.info("resumed %s", task.id)

    async def _check_stop_request(self) -> None:
        info = next((e for e in await self.store.executors() if e.id == self.id), None)
        if info is not None and info.stop_requested:
            self.request_stop(
                info.stop_timeout
                if info.stop_timeout is not None
                else self.settings.stop_timeout
            )

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_interval)
            try:
                info = await self.store.heartbeat(self.id, len(self.runs))
                if info is None:
                    # Another executor thought us lost and removed our record;
                    # come back, so our own tasks are not taken over again.
                    log.warning(
                        "executor %s was presumed lost; re-registering", self.id
                    )
                    await self.store.register_executor(self.id, self.workers)
                elif info.stop_requested:
                    self.request_stop(info.stop_timeout or self.settings.stop_timeout)
            except NightShiftError as exc:
                log.warning("heartbeat failed: %s", exc.message)

    # -- recovering from lost executors ------------------------------------

    async def _recovery_loop(self) -> None:
        while True:
            try:
                await recover(self.store, self.settings, self.actor, exclude=self.id)
            except NightShiftError as exc:
                log.warning("recovery pass failed: %s", exc.message)
            await asyncio.sleep(self.settings.heartbeat_interval)


async def recover(
    store: AsyncStore, settings: Settings, actor: str, exclude: str | None = None
) -> list[TakeOver]:
    """Take over the tasks of executors that stopped heartbeating.

    Their leftover processes are killed (when they ran on this machine since
    its last boot), the logs are kept, and each task is re-queued if it has
    retries left or failed with "executor lost". Tasks stuck in planning
    whose planner died are staged with a direct plan.
    """
    clock = now()
    taken: list[TakeOver] = []
    for info in await store.executors():
        if info.id == exclude or is_alive(info, settings, clock):
            continue
        local = info.host == host_name() and info.boot_id == boot_id()
        silent = int(clock - info.heartbeat_at)
        reason = f"executor lost ({info.id}, pid {info.pid}, silent for {silent} s)"
        for task in await store.tasks_of_executor(info.id):
            taken += await _take_over(store, task, info.id, actor, reason, local)
        await store.unregister_executor(info.id)
        log.warning("removed lost executor %s (pid %d)", info.id, info.pid)

    for task in await store.orphaned_tasks():
        if clock - task.updated_at < settings.executor_lost_after:
            continue
        reason = f"executor lost ({task.executor_id or 'unknown'} has no record)"
        taken += await _take_over(
            store, task, task.executor_id or "", actor, reason, local=False
        )

    await recover_stalled_plans(store, settings, actor)
    return taken


async def _take_over(
    store: AsyncStore,
    task: Task,
    executor_id: str,
    actor: str,
    reason: str,
    local: bool,
) -> list[TakeOver]:
    # Without a known local group, only processes carrying the task's marker
    # are killed: a pid from another boot or machine may be anything now.
    await asyncio.to_thread(kill_task_processes, task.id, task.pgid if local else None)
    action = Action.REQUEUE if task.attempts <= task.max_retries else Action.FAIL
    try:
        await store.finish(task.id, executor_id, action, actor, error=reason)
    except NightShiftError as exc:
        log.info("%s already recovered: %s", task.id, exc.message)
        return []
    log.warning("%s: %s; %s", task.id, reason, action.value)
    return [TakeOver(task.id, action)]


async def run_one(
    store: AsyncStore,
    settings: Settings,
    task_id: str,
    approve_as: str | None = None,
    grace_seconds: float | None = None,
) -> Task:
    """Run one task in this process and return it as it ended.

    The task is claimed like any other (and, with approve_as, approved in the
    same transaction), so it can never also run in a background executor.
    """
    executor = Executor(
        store,
        settings,
        workers=1,
        only_task=task_id,
        approve_as=approve_as,
        grace_seconds=grace_seconds,
    )
    await executor.run()
    return await store.get(task_id)
