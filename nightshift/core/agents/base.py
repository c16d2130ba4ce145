"""What every agent backend answers, and the events its output becomes."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from typing import Any, Protocol

from nightshift.core.models import Task
from nightshift.core.processes import TASK_ENV_VAR

# Linux refuses any single argv string over 128 KiB (MAX_ARG_STRLEN). Prompts
# longer than this go on stdin for CLIs that read it.
MAX_ARGV_PROMPT = 100_000


@dataclass(frozen=True)
class Init:
    """The agent started a session."""

    session_id: str = ""
    model: str = ""
    tools: tuple[str, ...] = ()


@dataclass(frozen=True)
class Text:
    """Prose from the agent (or one line of a shell command's output)."""

    text: str
    delta: bool = False
    """A streamed fragment that continues the Text before it."""


@dataclass(frozen=True)
class ToolCall:
    """The agent asked to run a tool."""

    tool: str
    input: dict[str, Any] = field(default_factory=dict)
    call_id: str = ""


@dataclass(frozen=True)
class ToolResult:
    """What a tool call returned."""

    output: str
    call_id: str = ""
    is_error: bool = False


@dataclass(frozen=True)
class Usage:
    """Tokens (and cost, when the agent knows it) spent since the last Usage."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class Result:
    """The agent's final word. Totals here replace the running sums."""

    is_error: bool
    text: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    turns: int | None = None
    session_id: str = ""
    denied_tools: tuple[str, ...] = ()
    """Tools the agent asked for and was refused (the run can still succeed)."""


@dataclass(frozen=True)
class Error:
    """The agent reported a failure; auth is set for login/key problems."""

    message: str
    auth: bool = False


AgentEvent = Init | Text | ToolCall | ToolResult | Usage | Result | Error


@dataclass(frozen=True)
class Invocation:
    """How to start an agent process for one task."""

    argv: list[str]
    stdin: str | None = None
    """Text fed to the process and then closed; None means stdin is closed."""
    env: dict[str, str] = field(default_factory=dict)
    """Variables added to the inherited environment."""


class Agent(Protocol):
    """One agent CLI: how to find it, start it and read what it prints.

    An agent object may remember earlier lines of the run it is reading
    (Claude Code repeats a message's usage on every block of it), so use one
    object per run; `get_agent` returns a fresh one on every call.
    """

    name: str
    binary: str

    def invocation(self, task: Task) -> Invocation: ...

    def parse_line(self, line: str) -> list[AgentEvent]:
        """Read one stdout line; a line that is not this agent's format gives []."""
        ...


def task_env(task: Task) -> dict[str, str]:
    """The variables every agent process of a task is started with."""
    return {TASK_ENV_VAR: task.id}


def extra_writable_dirs(task: Task) -> list[str]:
    """The plan's writable directories other than the workdir, as absolute paths.

    Relative entries are taken relative to the workdir; duplicates are dropped.
    """
    if task.plan is None:
        return []
    workdir = os.path.abspath(os.path.expanduser(task.workdir))
    seen = {workdir}
    extra = []
    for entry in task.plan.writable_dirs:
        path = os.path.normpath(os.path.join(workdir, os.path.expanduser(entry)))
        if path not in seen:
            seen.add(path)
            extra.append(path)
    return extra


def which(binary: str, path: str | None = None) -> str | None:
    """The full path of an executable on PATH, or None."""
    return shutil.which(
        binary, path=path if path is not None else os.environ.get("PATH")
    )


AUTH_MARKERS = (
    "not logged in",
    "please run /login",
    "invalid api key",
    "authentication_error",
    "oauth token",
    "api key",
    "unauthorized",
    "auth method",
)


def looks_like_auth_failure(text: str) -> bool:
    """Whether an agent's error text says the user must log in or fix a key."""
    lowered = text.lower()
    return any(marker in lowered for marker in AUTH_MARKERS)
