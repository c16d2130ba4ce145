"""Signalling an agent's whole process tree, and finding what it left behind."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from pathlib import Path

log = logging.getLogger(__name__)

# Every agent process gets this variable; its children inherit it, so a task's
# processes can be found even after they leave its process group.
TASK_ENV_VAR = "NIGHTSHIFT_TASK_ID"


def signal_group(pgid: int, sig: signal.Signals) -> bool:
    """Send a signal to a whole process group; False if the group is gone."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        log.warning("not allowed to signal process group %d", pgid)
        return False
    return True


def processes_of_task(task_id: str) -> list[int]:
    """Pids of live processes carrying the task's marker in their environment."""
    marker = f"{TASK_ENV_VAR}={task_id}".encode()
    found = []
    me = os.getpid()
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def kill_task_processes(task_id: str, pgid: int | None) -> int:
    """SIGKILL everything a task started: its group and any escaped children.

    Returns how many processes outside the group were found and killed.
    """
    if pgid:
        signal_group(pgid, signal.SIGKILL)
    stray = processes_of_task(task_id)
    for pid in stray:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    if stray:
        log.info("killed %d leftover process(es) of %s", len(stray), task_id)
    return len(stray)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
