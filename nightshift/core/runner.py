"""Runs one task: the agent process, its logs, its clock and its signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from nightshift.core.agents import get_agent
from nightshift.core.agents.base import Agent, which
from nightshift.core.models import Action, Task
from nightshift.core.processes import kill_task_processes, signal_group
from nightshift.core.progress import Progress
from nightshift.core.workdir import snapshot

log = logging.getLogger(__name__)

READ_CHUNK = 64 * 1024
# A line longer than this is kept in the log but not parsed: no real event is
# this large, and holding it would let one runaway line eat the memory.
MAX_PARSED_LINE = 8 * 1024 * 1024
STDERR_TAIL = 20


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended, for the executor to record."""

    action: Action | None
    """COMPLETE or FAIL; None when the run was cancelled or taken away."""
    error: str | None
    exit_code: int | None
    progress: Progress
    changes: dict[str, list[str]] | None


class TaskRun:
    """One agent process for one task, with pause, resume and kill.

    Pause and resume act on the agent's whole process group; the timeout
    counts only time spent running. Kill sends TERM, waits a grace period,
    then KILLs the group and any process that left it.
    """

    def __init__(
        self,
        task: Task,
        task_dir: Path,
        grace_seconds: float = 5.0,
        max_output_bytes: int = 64 * 1024 * 1024,
        agent: Agent | None = None,
    ) -> None:
        self.task = task
        self.task_dir = task_dir
        self.agent = agent or get_agent(task.agent)
        self.grace_seconds = grace_seconds
        self.max_output_bytes = max_output_bytes
        self._output_bytes = 0
        self.progress = Progress()
        self.pgid: int | None = None
        self.paused = False
        self._proc: asyncio.subprocess.Process | None = None
        self._wakeup = asyncio.Event()
        self._stop_reason: str | None = None
        self._cancelled = False
        self._stderr_tail: list[str] = []
        self._run_started = 0.0
        self._paused_total = 0.0
        self._paused_at: float | None = None
        self._pause_pending = False

    # -- control, called from the executor's watcher ----------------------

    def pause(self) -> None:
        if self.pgid is None:
            # Paused between the claim and the start: stop it once it starts.
            self._pause_pending = True
            return
        if not self.paused and signal_group(self.pgid, signal.SIGSTOP):
            self.paused = True
            self._paused_at = time.monotonic()
            self._wakeup.set()

    def resume(self) -> None:
        self._pause_pending = False
        if self.pgid and self.paused:
            signal_group(self.pgid, signal.SIGCONT)
            self.paused = False
            if self._paused_at is not None:
                self._paused_total += time.monotonic() - self._paused_at
            self._paused_at = None
            self._wakeup.set()

    def kill(self, reason: str, cancelled: bool = False) -> None:
        """Stop the run; cancelled means the task is already recorded as such."""
        if self._stop_reason is None:
            self._stop_reason = reason
            self._cancelled = cancelled
        self._wakeup.set()

    def running_seconds(self) -> float:
        if not self._run_started:
            return 0.0
        paused = self._paused_total
        if self._paused_at is not None:
            paused += time.monotonic() - self._paused_at
        return time.monotonic() - self._run_started - paused

    # -- running ----------------------------------------------------------

    async def run(self, on_started: Callable[[int], Awaitable[None]]) -> RunOutcome:
        """Start the agent, stream its output to disk, and wait for the end."""
        invocation = self.agent.invocation(self.task)
        binary = invocation.argv[0]
        if which(binary) is None:
            return self._outcome(
                Action.FAIL,
                f"agent '{self.agent.name}' is not installed "
                f"(looked for '{binary}' on PATH)",
                None,
                None,
            )

        self.task_dir.mkdir(parents=True, exist_ok=True)
        workdir = Path(self.task.workdir)
        before = await asyncio.to_thread(snapshot, workdir)
        env = {**os.environ, **invocation.env}

        with (
            open(self.task_dir / "output.jsonl", "ab") as out,
            open(self.task_dir / "stderr.log", "ab") as err,
        ):
            try:
                self._proc = await asyncio.create_subprocess_exec(
                    *invocation.argv,
                    stdin=(
                        asyncio.subprocess.PIPE
                        if invocation.stdin is not None
                        else asyncio.subprocess.DEVNULL
                    ),
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    cwd=workdir,
                    env=env,
                    start_new_session=True,
                )
            except OSError as exc:
                return self._outcome(
                    Action.FAIL, f"could not start {binary}: {exc}", None, None
                )
            self.pgid = self._proc.pid
            self._run_started = time.monotonic()
            log.info("started %s: %s (pid %d)", self.task.id, binary, self.pgid)
            if self._pause_pending:
                self.pause()
            await on_started(self.pgid)

            pumps = [
                asyncio.create_task(self._feed_stdin(invocation.stdin)),
                asyncio.create_task(self._read_stdout(out)),
                asyncio.create_task(self._read_stderr(err)),
            ]
            exit_code = await self._supervise()
            await self._finish_pumps(pumps)

        after = await asyncio.to_thread(snapshot, workdir)
        changes = before.diff(after) if before and after else None
        return self._decide(exit_code, changes)

    async def _supervise(self) -> int | None:
        """Wait for the process, enforcing the timeout and stop requests."""
        assert self._proc is not None
        limit = self.task.effective_timeout
        exited = asyncio.create_task(self._proc.wait())
        try:
            while True:
                timeout = None if self.paused else limit - self.running_seconds()
                if timeout is not None and timeout <= 0:
                    self.kill(f"timed out after {limit} s")
                if self._stop_reason is not None:
                    await self._terminate(exited)
                    break
                self._wakeup.clear()
                woke = asyncio.create_task(self._wakeup.wait())
                done, _ = await asyncio.wait(
                    {exited, woke}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                woke.cancel()
                if exited in done:
                    break
        finally:
            if not exited.done():
                await self._terminate(exited)
            # Whatever the agent left running in its group goes with it.
            kill_task_processes(self.task.id, self.pgid)
        return exited.result()

    async def _terminate(self, exited: asyncio.Task[int]) -> None:
        """TERM the group, give it the grace period, then KILL everything."""
        assert self.pgid is not None
        signal_group(self.pgid, signal.SIGTERM)
        # A stopped process cannot act on TERM until it is continued.
        signal_group(self.pgid, signal.SIGCONT)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(exited), self.grace_seconds)
        kill_task_processes(self.task.id, self.pgid)
        await exited

    async def _finish_pumps(self, pumps: list[asyncio.Task[None]]) -> None:
        # A child that escaped the group may still hold the pipes open; the
        # output it would add is not worth hanging the worker for.
        _, pending = await asyncio.wait(pumps, timeout=2.0)
        for pump in pending:
            pump.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _feed_stdin(self, text: str | None) -> None:
        proc = self._proc
        if text is None or proc is None or proc.stdin is None:
            return
        try:
            proc.stdin.write(text.encode())
            await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            log.info("%s closed stdin before reading the whole prompt", self.task.id)
        finally:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proc.stdin.close()

    async def _read_stdout(self, out: IO[bytes]) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stream = self._proc.stdout
        pending = b""
        while chunk := await stream.read(READ_CHUNK):
            if not self._keep(chunk, out):
                continue
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._parse(line)
            if len(pending) > MAX_PARSED_LINE:
                self.progress.malformed_lines += 1
                pending = b""
        if pending:
            self._parse(pending)

    def _keep(self, chunk: bytes, log_file: IO[bytes]) -> bool:
        """Append output to its log, unless the run has used up its allowance.

        Past the allowance the run is stopped, and the rest of the output is
        read and dropped so the agent never blocks on a full pipe meanwhile.
        """
        if self._output_bytes >= self.max_output_bytes:
            return False
        self._output_bytes += len(chunk)
        log_file.write(chunk)
        log_file.flush()
        if self._output_bytes >= self.max_output_bytes:
            limit_mb = self.max_output_bytes // (1024 * 1024)
            self.kill(f"the agent printed more than {limit_mb} MB of output")
        return True

    def _parse(self, raw: bytes) -> None:
        if not raw.strip() or len(raw) > MAX_PARSED_LINE:
            return
        line = raw.decode("utf-8", errors="replace")
        events = self.agent.parse_line(line)
        if not events and self.agent.name != "shell":
            self.progress.malformed_lines += 1
        for event in events:
            self.progress.apply(event)

    async def _read_stderr(self, err: IO[bytes]) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        stream = self._proc.stderr
        pending = b""
        while chunk := await stream.read(READ_CHUNK):
            if self._keep(chunk, err):
                pending = (pending + chunk)[-8192:]
        self._stderr_tail = [
            line
            for line in pending.decode("utf-8", errors="replace").splitlines()
            if line.strip()
        ][-STDERR_TAIL:]

    # -- deciding the outcome --------------------------------------------

    def _decide(
        self, exit_code: int | None, changes: dict[str, list[str]] | None
    ) -> RunOutcome:
        if self._stop_reason is not None:
            if self._cancelled:
                return self._outcome(None, self._stop_reason, exit_code, changes)
            return self._outcome(Action.FAIL, self._stop_reason, exit_code, changes)

        failure = self.progress.failure()
        if failure is not None:
            return self._outcome(Action.FAIL, failure, exit_code, changes)
        if exit_code is not None and exit_code < 0:
            try:
                name = signal.Signals(-exit_code).name
            except ValueError:  # a real-time signal has no name
                name = f"signal {-exit_code}"
            return self._outcome(
                Action.FAIL, f"the agent was killed by {name}", exit_code, changes
            )
        if exit_code:
            detail = self._stderr_tail[-1] if self._stderr_tail else ""
            message = f"the agent exited with code {exit_code}"
            if detail:
                message += f": {detail[:300]}"
            return self._outcome(Action.FAIL, message, exit_code, changes)
        return self._outcome(Action.COMPLETE, None, exit_code, changes)

    def _outcome(
        self,
        action: Action | None,
        error: str | None,
        exit_code: int | None,
        changes: dict[str, list[str]] | None,
    ) -> RunOutcome:
        return RunOutcome(action, error, exit_code, self.progress, changes)
