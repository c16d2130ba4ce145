"""Tasks, plans, and the state machine they move through."""

from __future__ import annotations

import enum
import json
import time
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

AGENTS = ("claude", "codex", "gemini", "shell")

# The longest description we accept. Large enough for a pasted log or spec,
# small enough that one task cannot bloat the queue for everyone.
MAX_DESCRIPTION_BYTES = 4 * 1024 * 1024

DEFAULT_TIMEOUT_SECONDS = 3600


class TaskStatus(str, enum.Enum):
    """Where a task is in its life."""

    PLANNING = "planning"
    STAGED = "staged"
    COMMITTED = "committed"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    def __str__(self) -> str:
        return self.value


FINAL_STATUSES = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED}
)
ACTIVE_STATUSES = frozenset({TaskStatus.RUNNING, TaskStatus.PAUSED})


class Action(str, enum.Enum):
    """Everything that moves a task from one status to another."""

    PLANNED = "planned"
    APPROVE = "approve"
    REVISE = "revise"
    CANCEL = "cancel"
    CLAIM = "claim"
    PAUSE = "pause"
    RESUME = "resume"
    KILL = "kill"
    COMPLETE = "complete"
    FAIL = "fail"
    REQUEUE = "requeue"
    RETRY = "retry"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Transition:
    """One edge of the state machine: the statuses it leaves, the one it enters."""

    sources: frozenset[TaskStatus]
    target: TaskStatus


def _edge(sources: set[TaskStatus], target: TaskStatus) -> Transition:
    return Transition(frozenset(sources), target)


S = TaskStatus
TRANSITIONS: dict[Action, Transition] = {
    Action.PLANNED: _edge({S.PLANNING}, S.STAGED),
    Action.APPROVE: _edge({S.STAGED}, S.COMMITTED),
    Action.REVISE: _edge({S.STAGED}, S.PLANNING),
    Action.CANCEL: _edge({S.PLANNING, S.STAGED, S.COMMITTED}, S.CANCELLED),
    Action.CLAIM: _edge({S.COMMITTED}, S.RUNNING),
    Action.PAUSE: _edge({S.RUNNING}, S.PAUSED),
    Action.RESUME: _edge({S.PAUSED}, S.RUNNING),
    Action.KILL: _edge({S.RUNNING, S.PAUSED}, S.CANCELLED),
    # A paused process can still die (OOM killer, an outside kill -9), and a
    # task whose executor vanished may have been paused at the time.
    Action.COMPLETE: _edge({S.RUNNING, S.PAUSED}, S.COMPLETED),
    Action.FAIL: _edge({S.RUNNING, S.PAUSED}, S.FAILED),
    Action.REQUEUE: _edge({S.RUNNING, S.PAUSED}, S.COMMITTED),
    Action.RETRY: _edge({S.FAILED, S.CANCELLED}, S.COMMITTED),
}
del S


def now() -> float:
    """Seconds since the epoch; the one clock the core stamps rows with."""
    return time.time()


# SQLite's julian-day origin in Unix milliseconds. isoformat() rounds exactly
# as SQLite's strftime(..., 'unixepoch') does, so timestamps rendered by the
# database (task JSON) and by Python (events, executors) always agree.
_JULIAN_EPOCH_MS = 210866760000000.0


def isoformat(ts: float | None) -> str | None:
    """An epoch timestamp as ISO 8601 UTC to the millisecond, for JSON output."""
    if ts is None:
        return None
    millis = int(ts * 1000.0 + _JULIAN_EPOCH_MS + 0.5) - int(_JULIAN_EPOCH_MS)
    seconds, fraction = divmod(millis, 1000)
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{fraction:03d}Z"


@dataclass
class Plan:
    """What an agent will be asked to do, as reviewed by a person."""

    prompt: str
    allowed_tools: list[str] = field(default_factory=list)
    writable_dirs: list[str] = field(default_factory=list)
    system_prompt: str = ""
    model: str = ""
    estimated_tokens: int = 0
    estimated_seconds: int = 0
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    reasoning: str = ""
    planner: str = "direct"
    """Which planner made this plan: "claude" or "direct"."""
    warning: str = ""
    """Why the plan is weaker than asked for (planner missing or failed)."""

    def to_dict(self) -> dict[str, Any]:
        # Spelled out rather than dataclasses.asdict: listing 10,000 tasks
        # calls this for each, and asdict's deep copy dominates that listing.
        return {
            "prompt": self.prompt,
            "allowed_tools": list(self.allowed_tools),
            "writable_dirs": list(self.writable_dirs),
            "system_prompt": self.system_prompt,
            "model": self.model,
            "estimated_tokens": self.estimated_tokens,
            "estimated_seconds": self.estimated_seconds,
            "timeout_seconds": self.timeout_seconds,
            "reasoning": self.reasoning,
            "planner": self.planner,
            "warning": self.warning,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """A plan from stored JSON; keys this version does not know are dropped."""
        return cls(**{k: v for k, v in data.items() if k in _PLAN_FIELDS})

    @classmethod
    def from_json(cls, text: str | None) -> Plan | None:
        if not text:
            return None
        return cls.from_dict(json.loads(text))


_PLAN_FIELDS = frozenset(f.name for f in fields(Plan))


@dataclass
class Task:
    """One unit of work in the queue, as stored."""

    id: str
    status: TaskStatus
    agent: str
    description: str
    workdir: str
    priority: int = 0
    timeout_seconds: int | None = None
    """Overrides the plan's timeout when the submitter set one."""
    plan: Plan | None = None
    plan_version: int = 0
    source: str = "cli"
    submitted_by: str = ""
    approved_by: str | None = None
    attempts: int = 0
    max_retries: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int | None = None
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    turns: int = 0
    activity: str = ""
    """One line saying what the agent is doing right now."""
    executor_id: str | None = None
    pgid: int | None = None
    session_id: str | None = None
    changes: dict[str, list[str]] | None = None
    """Files created, modified and deleted in the workdir by the last run."""
    revision: int = 0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def prompt(self) -> str:
        return self.plan.prompt if self.plan else self.description

    @property
    def effective_timeout(self) -> int:
        if self.timeout_seconds:
            return self.timeout_seconds
        if self.plan and self.plan.timeout_seconds > 0:
            return self.plan.timeout_seconds
        return DEFAULT_TIMEOUT_SECONDS


@dataclass(frozen=True)
class TaskEvent:
    """One recorded transition: who moved which task where, and when."""

    task_id: str
    action: str
    from_status: str | None
    to_status: str
    actor: str
    at: float
    detail: str = ""

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "from": self.from_status,
            "to": self.to_status,
            "actor": self.actor,
            "at": isoformat(self.at),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class PlanVersion:
    """One plan in a task's history, with the feedback that led to it."""

    version: int
    plan: Plan
    feedback: str
    created_at: float


@dataclass(frozen=True)
class ExecutorInfo:
    """A registered worker pool, as other processes see it."""

    id: str
    pid: int
    host: str
    boot_id: str
    workers: int
    busy: int
    started_at: float
    heartbeat_at: float
    stop_requested: bool
    stop_timeout: float | None

    def to_json_dict(self, tasks: list[str] | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "pid": self.pid,
            "host": self.host,
            "workers": self.workers,
            "busy": self.busy,
            "started_at": isoformat(self.started_at),
            "heartbeat_at": isoformat(self.heartbeat_at),
            "stop_requested": self.stop_requested,
            "tasks": tasks or [],
        }
