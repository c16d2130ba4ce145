"""Submitting, planning and revising tasks: the flow every front door shares."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

from nightshift.core.async_store import AsyncStore
from nightshift.core.errors import BadInputError, NightShiftError, PlannerError
from nightshift.core.models import AGENTS, MAX_DESCRIPTION_BYTES, Action, Task
from nightshift.core.planner import (
    Planner,
    PlanRequest,
    choose_planner,
    direct_plan,
)
from nightshift.core.processes import kill_task_processes
from nightshift.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    """A request to queue work, as a front door received it."""

    description: str
    agent: str
    workdir: str
    submitted_by: str
    source: str = "cli"
    priority: int = 0
    timeout_seconds: int | None = None
    max_retries: int = 0
    no_plan: bool = False
    auto_approve: bool = False


def check_description(text: str) -> str:
    """The description as stored, or BadInputError if it cannot be a task."""
    if not text.strip():
        raise BadInputError("the description is empty")
    size = len(check_text(text, "the description").encode())
    if size > MAX_DESCRIPTION_BYTES:
        raise BadInputError(
            f"the description is {size:,} bytes; the limit is {MAX_DESCRIPTION_BYTES:,}"
        )
    return text


def check_text(text: str, what: str) -> str:
    """Text that can be stored, or BadInputError (e.g. undecodable argv bytes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInputError(f"{what} is not valid UTF-8 text") from None
    return text


def check_agent(name: str) -> str:
    if name not in AGENTS:
        raise BadInputError(f"unknown agent {name!r} (choose from {', '.join(AGENTS)})")
    return name


def check_workdir(path: str) -> str:
    """An absolute, existing, readable directory, or BadInputError."""
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_dir():
        raise BadInputError(f"workdir {path} is not a directory")
    if not os.access(resolved, os.R_OK | os.X_OK):
        raise BadInputError(f"workdir {path} is not readable")
    return str(resolved)


def check_submission(sub: Submission) -> Submission:
    """Validate everything before anything is written."""
    check_description(sub.description)
    check_agent(sub.agent)
    if sub.timeout_seconds is not None and sub.timeout_seconds <= 0:
        raise BadInputError("the timeout must be a positive number of seconds")
    if sub.max_retries < 0:
        raise BadInputError("retries cannot be negative")
    return Submission(**{**sub.__dict__, "workdir": check_workdir(sub.workdir)})


@dataclass(frozen=True)
class Outcome:
    """A submitted or revised task, and what the user should be warned about."""

    task: Task
    warning: str = ""


async def submit(
    store: AsyncStore, settings: Settings, sub: Submission, actor: str
) -> Outcome:
    """Queue a task, plan it, and approve it if asked.

    The row exists (as planning) before the planner starts, so every front
    door sees the task at once. A planner that fails leaves the task staged
    with a direct plan and the planner's error as the plan's warning.
    """
    sub = check_submission(sub)
    planner, fallback_warning = choose_planner(
        sub.agent, sub.no_plan, settings.planner_timeout, settings.default_timeout
    )
    request = PlanRequest(sub.description, sub.agent, sub.workdir)

    initial = None
    if planner.name == "direct":
        initial = direct_plan(request, settings.default_timeout, fallback_warning)
    task = await store.create_task(
        description=sub.description,
        agent=sub.agent,
        workdir=sub.workdir,
        actor=actor,
        submitted_by=sub.submitted_by,
        source=sub.source,
        priority=sub.priority,
        timeout_seconds=sub.timeout_seconds,
        max_retries=sub.max_retries,
        plan=initial,
    )
    log.info("submitted %s (%s) by %s", task.id, sub.agent, actor)

    if initial is None:
        request = replace(request, task_id=task.id)
        task = await plan_task(store, settings, task, planner, request, actor)
    if sub.auto_approve:
        task = await store.apply(task.id, Action.APPROVE, actor)
    warning = task.plan.warning if task.plan else ""
    return Outcome(task, warning)


async def plan_task(
    store: AsyncStore,
    settings: Settings,
    task: Task,
    planner: Planner,
    request: PlanRequest,
    actor: str,
    feedback: str = "",
) -> Task:
    """Run the planner for a task in planning and stage it with the result."""
    try:
        plan = await planner.plan(request)
    except PlannerError as exc:
        log.warning("planner failed for %s: %s", task.id, exc.message)
        plan = direct_plan(request, settings.default_timeout, exc.message)
    except BaseException:
        # Interrupted (Ctrl-C, shutdown): stage a usable plan rather than
        # leave the task stuck in planning, then let the interruption go on.
        plan = direct_plan(
            request, settings.default_timeout, "planning was interrupted"
        )
        await store.set_plan(task.id, plan, actor, feedback)
        raise
    return await store.set_plan(task.id, plan, actor, feedback)


async def revise(
    store: AsyncStore, settings: Settings, task_ref: str, feedback: str, actor: str
) -> Outcome:
    """Send a staged task back to its planner with the reviewer's feedback."""
    check_text(feedback, "the feedback")
    task = await store.resolve(task_ref)
    previous = task.plan
    task = await store.revise(task.id, feedback, actor)
    # A plan made without a model on purpose (--no-plan, shell) is revised
    # the same way; one that fell back after a planner failure tries again.
    planned_directly = (
        previous is not None and previous.planner == "direct" and not previous.warning
    )
    planner, fallback_warning = choose_planner(
        task.agent,
        planned_directly,
        settings.planner_timeout,
        settings.default_timeout,
    )
    request = PlanRequest(
        task.description, task.agent, task.workdir, feedback, previous, task.id
    )
    if planner.name == "direct":
        # No model to take the feedback: the reviewer's text becomes the
        # prompt for shell tasks, and is appended for agents.
        prompt = (
            feedback
            if task.agent == "shell"
            else (f"{task.description}\n\nReviewer's feedback:\n{feedback}")
        )
        request = PlanRequest(prompt, task.agent, task.workdir, task_id=task.id)
    task = await plan_task(store, settings, task, planner, request, actor, feedback)
    warning = (task.plan.warning if task.plan else "") or fallback_warning
    return Outcome(task, warning)


async def recover_stalled_plans(
    store: AsyncStore, settings: Settings, actor: str
) -> int:
    """Stage tasks whose planner process died mid-plan, with a direct plan."""
    count = 0
    for task in await store.stalled_plannings():
        # The dead planner's own model process may still be running.
        await asyncio.to_thread(kill_task_processes, task.id, None)
        request = PlanRequest(task.description, task.agent, task.workdir)
        plan = direct_plan(
            request, settings.default_timeout, "the planner process was lost"
        )
        try:
            await store.set_plan(task.id, plan, actor)
        except NightShiftError as exc:  # another process got there first
            log.info("stalled plan of %s already handled: %s", task.id, exc)
            continue
        count += 1
    return count
