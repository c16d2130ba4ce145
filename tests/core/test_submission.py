"""The submit and revise flow every front door shares, run in-process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nightshift.core.async_store import AsyncStore
from nightshift.core.errors import BadInputError
from nightshift.core.models import Task, TaskStatus
from nightshift.core.settings import Settings
from nightshift.core.submission import (
    Submission,
    recover_stalled_plans,
    revise,
    submit,
)

S = TaskStatus
ACTOR = "tui"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", planner_timeout=60.0)


@pytest.fixture
async def queue(settings: Settings) -> AsyncIterator[AsyncStore]:
    async with await AsyncStore.open(settings.db_path) as opened:
        yield opened


def _sub(workdir: Path, description: str, **kwargs: object) -> Submission:
    return Submission(
        description=description,
        agent=str(kwargs.pop("agent", "claude")),
        workdir=str(workdir),
        submitted_by="alice",
        source="tui",
        **kwargs,  # type: ignore[arg-type]
    )


async def test_submit_plans_and_stages(
    queue: AsyncStore, settings: Settings, workdir: Path, fake_agents_path: Path
) -> None:
    outcome = await submit(queue, settings, _sub(workdir, "add a README"), ACTOR)

    task = await queue.get(outcome.task.id)
    assert outcome.warning == ""
    assert (task.status, task.source, task.submitted_by) == (S.STAGED, "tui", "alice")
    assert task.plan is not None and task.plan.planner == "claude"
    assert [e.action for e in await queue.events(task.id)] == ["submit", "planned"]


async def test_submit_with_auto_approve_commits(
    queue: AsyncStore, settings: Settings, workdir: Path
) -> None:
    sub = _sub(workdir, "make lint", agent="shell", auto_approve=True)

    outcome = await submit(queue, settings, sub, ACTOR)

    assert outcome.task.status is S.COMMITTED
    assert outcome.task.approved_by == ACTOR


async def test_the_row_exists_while_the_planner_works(
    queue: AsyncStore, settings: Settings, workdir: Path, fake_agents_path: Path
) -> None:
    """Every front door sees the task at once; an interrupted plan still stages."""
    submitting = asyncio.create_task(
        submit(queue, settings, _sub(workdir, "think hard [[plan-hang]]"), ACTOR)
    )

    async def first_row() -> list[Task]:
        while not (tasks := await queue.list_tasks()):
            await asyncio.sleep(0.05)
        return tasks

    (task,) = await asyncio.wait_for(first_row(), 120)
    assert task.status is S.PLANNING
    assert task.plan is None

    submitting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await submitting

    staged = await queue.get(task.id)
    assert staged.status is S.STAGED
    assert staged.plan is not None
    assert (staged.plan.planner, staged.plan.warning) == (
        "direct",
        "planning was interrupted",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"description": " \n "}, "description is empty"),
        ({"agent": "gpt"}, "unknown agent"),
        ({"timeout_seconds": 0}, "timeout must be a positive"),
        ({"timeout_seconds": -1}, "timeout must be a positive"),
        ({"max_retries": -1}, "retries cannot be negative"),
        ({"workdir": "/no/such/dir"}, "is not a directory"),
    ],
)
async def test_bad_submissions_write_nothing(
    queue: AsyncStore,
    settings: Settings,
    workdir: Path,
    change: dict[str, object],
    message: str,
) -> None:
    values: dict[str, object] = {
        "description": "ls",
        "agent": "shell",
        "workdir": str(workdir),
        "submitted_by": "alice",
        **change,
    }
    sub = Submission(**values)  # type: ignore[arg-type]

    with pytest.raises(BadInputError, match=message):
        await submit(queue, settings, sub, ACTOR)

    assert await queue.list_tasks() == []
    assert await queue.revision() == 0


async def test_a_description_over_the_limit_is_refused(
    queue: AsyncStore, settings: Settings, workdir: Path
) -> None:
    huge = "x" * (4 * 1024 * 1024 + 1)

    with pytest.raises(BadInputError, match="the limit is"):
        await submit(queue, settings, _sub(workdir, huge, agent="shell"), ACTOR)

    assert await queue.list_tasks() == []


async def test_revise_after_a_planner_failure_asks_the_planner_again(
    queue: AsyncStore, settings: Settings, workdir: Path, fake_agents_path: Path
) -> None:
    outcome = await submit(
        queue, settings, _sub(workdir, "port it [[plan-fail]]"), ACTOR
    )
    assert outcome.task.plan is not None
    assert outcome.task.plan.planner == "direct"

    revised = await revise(queue, settings, outcome.task.id, "use asyncio", ACTOR)

    # The description still carries [[plan-fail]], so the planner fails
    # again: what matters is that it was asked, and said so.
    assert revised.task.plan is not None
    assert revised.task.plan.warning.startswith("the planner failed")
    assert revised.warning == revised.task.plan.warning
    assert revised.task.plan_version == 2


async def test_a_lost_planner_is_recovered(
    queue: AsyncStore, settings: Settings, workdir: Path
) -> None:
    # A process that creates a planning task and dies before planning it.
    script = (
        "import sys; from pathlib import Path; "
        "from nightshift.core.store import Store; "
        "s = Store.open(Path(sys.argv[1])); "
        "print(s.create_task(description='orphan', agent='claude', "
        "workdir=sys.argv[2], actor='cli:bob', submitted_by='bob').id)"
    )
    created = subprocess.run(
        [sys.executable, "-c", script, str(settings.db_path), str(workdir)],
        capture_output=True,
        text=True,
        check=True,
    )
    task_id = created.stdout.strip()
    assert (await queue.get(task_id)).status is S.PLANNING

    assert await recover_stalled_plans(queue, settings, "recovery") == 1

    task = await queue.get(task_id)
    assert task.status is S.STAGED
    assert task.plan is not None
    assert task.plan.warning == "the planner process was lost"
    assert await recover_stalled_plans(queue, settings, "recovery") == 0
