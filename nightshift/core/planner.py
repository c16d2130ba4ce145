"""Planners turn a plain-language description into a reviewable plan."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from dataclasses import dataclass
from typing import Any, Protocol

from nightshift.core.agents.base import which
from nightshift.core.errors import PlannerError
from nightshift.core.models import DEFAULT_TIMEOUT_SECONDS, Plan
from nightshift.core.processes import TASK_ENV_VAR

log = logging.getLogger(__name__)

PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "prompt": {
            "type": "string",
            "description": "The complete instruction the agent will be given.",
        },
        "allowed_tools": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Tools the agent may use without asking.",
        },
        "writable_dirs": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Absolute directories the agent may write in.",
        },
        "system_prompt": {"type": "string"},
        "model": {"type": "string"},
        "estimated_tokens": {"type": "integer", "minimum": 0},
        "estimated_seconds": {"type": "integer", "minimum": 0},
        "timeout_seconds": {"type": "integer", "minimum": 1},
        "reasoning": {"type": "string"},
    },
    "required": [
        "prompt",
        "allowed_tools",
        "writable_dirs",
        "estimated_tokens",
        "estimated_seconds",
        "timeout_seconds",
        "reasoning",
    ],
    "additionalProperties": False,
}

# Read-only tools let the planner look at the workdir before it plans.
PLANNER_TOOLS = ("Read", "Glob", "Grep")


@dataclass(frozen=True)
class PlanRequest:
    """Everything a planner sees about the task it plans."""

    description: str
    agent: str
    workdir: str
    feedback: str = ""
    previous: Plan | None = None
    task_id: str = ""
    """Marks the planner's processes, so they can be found if it is lost."""


class Planner(Protocol):
    """Something that turns a request into a plan, or raises PlannerError."""

    name: str

    async def plan(self, request: PlanRequest) -> Plan: ...


class DirectPlanner:
    """No model: the description is the prompt, as the submitter wrote it."""

    name = "direct"

    def __init__(
        self, default_timeout: int = DEFAULT_TIMEOUT_SECONDS, warning: str = ""
    ) -> None:
        self.default_timeout = default_timeout
        # Why no model plans (its CLI is missing): carried on every plan made.
        self.warning = warning

    async def plan(self, request: PlanRequest) -> Plan:
        return direct_plan(request, self.default_timeout, self.warning)


def direct_plan(
    request: PlanRequest,
    default_timeout: int = DEFAULT_TIMEOUT_SECONDS,
    warning: str = "",
) -> Plan:
    """The plan used when no model plans: run the description as given."""
    return Plan(
        prompt=request.description,
        writable_dirs=[request.workdir],
        timeout_seconds=default_timeout,
        reasoning="Used as written; no planner was asked.",
        planner="direct",
        warning=warning,
    )


def planning_prompt(request: PlanRequest) -> str:
    """The instruction given to the planning model."""
    parts = [
        "You are the planner of NightShift, which runs tasks unattended with "
        f"the '{request.agent}' agent CLI. Turn the task below into a plan a "
        "person can review before it runs.",
        f"The agent will run with working directory {request.workdir}.",
        "Write `prompt` as the complete, self-contained instruction for the "
        "agent. Grant the fewest tools that do the job, and only writable "
        "directories the task needs. Estimate tokens and seconds honestly, "
        "and set timeout_seconds to a generous ceiling. Explain your choices "
        "in `reasoning`. Leave `model` and `system_prompt` empty unless the "
        "task needs them. Do not perform the task yourself.",
    ]
    if request.agent == "claude":
        parts.append(
            "Name tools as Claude Code does: Read, Glob, Grep, Edit, Write, "
            "Bash, WebFetch, WebSearch; a Bash rule may narrow commands, as "
            "in Bash(git diff:*)."
        )
    if request.previous is not None:
        parts.append(
            "The reviewer rejected this earlier plan:\n"
            + json.dumps(request.previous.to_dict(), indent=2)
        )
    if request.feedback:
        parts.append(f"The reviewer's feedback:\n{request.feedback}")
    parts.append(
        "The task, as submitted:\n<task>\n" + request.description + "\n</task>"
    )
    return "\n\n".join(parts)


def _string_list(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PlannerError(f"the plan's {name} is not a list of strings")
    return list(value)


def _whole(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PlannerError(f"the plan's {name} is not a number")
    if value < minimum:
        raise PlannerError(f"the plan's {name} is below {minimum}")
    return int(value)


def plan_from_structured(data: Any, planner: str) -> Plan:
    """Check a model's structured output against the plan schema."""
    if not isinstance(data, dict):
        raise PlannerError("the planner returned no plan object")
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise PlannerError("the plan has no prompt")
    for optional in ("system_prompt", "model", "reasoning"):
        if not isinstance(data.get(optional, ""), str):
            raise PlannerError(f"the plan's {optional} is not text")
    return Plan(
        prompt=prompt,
        allowed_tools=_string_list(data.get("allowed_tools", []), "allowed_tools"),
        writable_dirs=_string_list(data.get("writable_dirs", []), "writable_dirs"),
        system_prompt=data.get("system_prompt", ""),
        model=data.get("model", ""),
        estimated_tokens=_whole(data.get("estimated_tokens", 0), "estimated_tokens", 0),
        estimated_seconds=_whole(
            data.get("estimated_seconds", 0), "estimated_seconds", 0
        ),
        timeout_seconds=_whole(
            data.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS), "timeout_seconds", 1
        ),
        reasoning=data.get("reasoning", ""),
        planner=planner,
    )


class ClaudePlanner:
    """Asks Claude Code for a plan through its structured-output mode."""

    name = "claude"

    def __init__(
        self, binary: str = "claude", timeout: float = 180.0, model: str = ""
    ) -> None:
        self.binary = binary
        self.timeout = timeout
        self.model = model

    def argv(self) -> list[str]:
        argv = [
            self.binary,
            "-p",
            "--output-format",
            "json",
            "--json-schema",
            json.dumps(PLAN_SCHEMA, separators=(",", ":")),
            "--allowedTools",
            ",".join(PLANNER_TOOLS),
        ]
        if self.model:
            argv += ["--model", self.model]
        return argv

    async def plan(self, request: PlanRequest) -> Plan:
        # The prompt goes on stdin: a description may be megabytes long, far
        # beyond what one command-line argument may hold.
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv(),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=request.workdir,
                env={**os.environ, TASK_ENV_VAR: request.task_id},
                start_new_session=True,
            )
        except OSError as exc:
            raise PlannerError(f"could not start {self.binary}: {exc}") from exc

        try:
            stdout, stderr = await asyncio.wait_for(
                proc.communicate(planning_prompt(request).encode()), self.timeout
            )
        except asyncio.TimeoutError:
            _kill_group(proc)
            await proc.wait()
            raise PlannerError(
                f"the planner timed out after {self.timeout:g} s"
            ) from None
        except BaseException:
            _kill_group(proc)
            with contextlib.suppress(ProcessLookupError):
                await proc.wait()
            raise

        return self._read_result(proc.returncode, stdout, stderr)

    def _read_result(self, code: int | None, stdout: bytes, stderr: bytes) -> Plan:
        text = stdout.decode(errors="replace").strip()
        try:
            result = json.loads(text.splitlines()[-1] if text else "")
        except (json.JSONDecodeError, IndexError):
            detail = _first_line(stderr) or _first_line(stdout) or f"exit {code}"
            raise PlannerError(
                f"the planner printed no JSON result ({detail})"
            ) from None
        if not isinstance(result, dict):
            raise PlannerError("the planner's output is not a JSON object")
        if result.get("is_error") or code != 0:
            message = str(result.get("result") or _first_line(stderr) or f"exit {code}")
            raise PlannerError(f"the planner failed: {message}")
        return plan_from_structured(result.get("structured_output"), self.name)


def _first_line(data: bytes) -> str:
    for line in data.decode(errors="replace").splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def choose_planner(
    agent: str,
    no_plan: bool,
    timeout: float,
    default_timeout: int = DEFAULT_TIMEOUT_SECONDS,
) -> tuple[Planner, str]:
    """The planner for a submission, and a warning when it is a fallback."""
    if no_plan or agent == "shell":
        return DirectPlanner(default_timeout), ""
    binary = which("claude")
    if binary is None:
        warning = (
            "the claude CLI is not installed (looked for 'claude' on PATH); "
            "the description is used as the prompt without planning"
        )
        return DirectPlanner(default_timeout, warning), warning
    return ClaudePlanner(binary, timeout), ""
