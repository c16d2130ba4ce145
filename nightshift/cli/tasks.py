"""Commands that submit, list, inspect and review tasks."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from nightshift.cli.common import (
    ExitCode,
    cli_actor,
    complete_task_ids,
    fail,
    print_json,
    print_json_text,
    print_task_json,
    run_async,
    settings_or_exit,
    user_name,
    warn,
    with_store,
)
from nightshift.core.models import AGENTS, FINAL_STATUSES, Action, Task, TaskStatus
from nightshift.core.settings import Settings

if TYPE_CHECKING:
    from nightshift.core.async_store import AsyncStore
    from nightshift.core.store import Store

S = TaskStatus
task_argument_help = "A task id or any unique prefix of it."


def read_description(text: str) -> str:
    """The description argument, or stdin when it is '-'."""
    if text != "-":
        return text
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        fail("the description on stdin is not UTF-8 text")


@click.command()
@click.argument("description")
@click.option(
    "--agent",
    type=click.Choice(AGENTS),
    help="Agent CLI to run the task with (default: $NIGHTSHIFT_AGENT or claude).",
)
@click.option("--auto-approve", is_flag=True, help="Approve as soon as it is planned.")
@click.option("--timeout", type=int, help="Running-time limit in seconds.")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Directory the agent runs in.",
)
@click.option(
    "--priority", type=int, default=0, show_default=True, help="Higher runs sooner."
)
@click.option(
    "--retries",
    type=int,
    default=0,
    show_default=True,
    help="Times to re-queue the task if its executor is lost.",
)
@click.option("--no-plan", is_flag=True, help="Use the description as the prompt.")
@click.option(
    "--sync",
    is_flag=True,
    help="With --auto-approve: run it here and exit with its outcome.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
def submit(
    description: str,
    agent: str | None,
    auto_approve: bool,
    timeout: int | None,
    workdir: str,
    priority: int,
    retries: int,
    no_plan: bool,
    sync: bool,
    as_json: bool,
) -> None:
    """Queue DESCRIPTION as a task ('-' reads it from stdin)."""
    from nightshift.core.submission import Submission, submit

    if sync and not auto_approve:
        fail("--sync needs --auto-approve (or approve the task with --sync later)")
    settings = settings_or_exit()
    sub = Submission(
        description=read_description(description),
        agent=agent or settings.agent,
        workdir=workdir,
        submitted_by=user_name(),
        source="cli",
        priority=priority,
        timeout_seconds=timeout,
        max_retries=retries,
        no_plan=no_plan,
        # With --sync the approval happens in the same transaction as the
        # claim, so a background executor cannot start the task first.
        auto_approve=auto_approve and not sync,
    )

    async def job(store: AsyncStore, settings: Settings) -> Any:
        from nightshift.cli.running import ensure_executor, run_here

        outcome = await submit(store, settings, sub, cli_actor())
        if outcome.warning:
            warn(outcome.warning)
        if sync:
            return await run_here(store, settings, outcome.task.id, cli_actor())
        if auto_approve:
            ensure_executor(store.sync, settings)
        return outcome.task

    result = run_async(job, settings)
    task = result.task if sync else result
    if as_json:
        print_task_json(task.id, settings)
    else:
        click.echo(task.id)
    if sync:
        _report_outcome(task)
        if result.failed:
            sys.exit(ExitCode.TASK_FAILED)


def _report_outcome(task: Task) -> None:
    """One line on stderr saying how a task run here ended."""
    if task.status is not TaskStatus.COMPLETED:
        reason = task.error or "no reason recorded"
        click.echo(f"{task.id} {task.status.value}: {reason}", err=True)
        return
    seconds = (task.finished_at or 0) - (task.started_at or 0)
    figures = [f"{seconds:.1f} s"]
    if task.tokens:
        figures.append(f"{task.tokens:,} tokens")
    if task.cost_usd:
        figures.append(f"${task.cost_usd:.4f}")
    click.echo(
        f"{task.id} completed ({', '.join(figures)}); "
        f"output: nightshift logs {task.id}",
        err=True,
    )


@click.command()
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in TaskStatus]),
    help="Only tasks in this status (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print tasks as a JSON array.")
def queue(statuses: tuple[str, ...], as_json: bool) -> None:
    """List tasks, oldest first."""
    wanted = [TaskStatus(s) for s in statuses]

    if as_json:
        print_json_text(with_store(lambda store, _: store.tasks_json(wanted or None)))
        return
    tasks = with_store(lambda store, _: store.list_tasks(wanted or None))
    if not tasks:
        click.echo("no tasks", err=True)
        return
    from nightshift.cli.render import console, queue_table

    console().print(queue_table(tasks))


@click.command()
@click.argument("task_ref", metavar="TASK", shell_complete=complete_task_ids())
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
def show(task_ref: str, as_json: bool) -> None:
    """Show a task: plan, plan history, run outcome, and who did what."""

    def job(store: Store, settings: Settings) -> Any:
        task = store.resolve(task_ref)
        data = store.task_json(task.id) if as_json else None
        return task, data, store.plan_history(task.id), store.events(task.id)

    task, data, plans, events = with_store(job)
    if as_json:
        data["plans"] = [
            {
                "version": p.version,
                "feedback": p.feedback,
                "plan": p.plan.to_dict(),
            }
            for p in plans
        ]
        data["events"] = [e.to_json_dict() for e in events]
        print_json(data)
        return
    from nightshift.cli.render import console, task_detail

    console().print(task_detail(task, plans, events))


def action_command(
    name: str, action: Action, summary: str, accepts: frozenset[TaskStatus]
) -> click.Command:
    """A command that applies one user action to one task and prints its id."""

    @click.command(name=name, help=summary)
    @click.argument(
        "task_ref",
        metavar="TASK",
        shell_complete=complete_task_ids(*sorted(accepts)),
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
    def command(task_ref: str, as_json: bool) -> None:
        def job(store: Store, settings: Settings) -> Task:
            task = store.resolve(task_ref)
            return store.apply(task.id, action, cli_actor())

        task = with_store(job)
        if as_json:
            print_task_json(task.id)
        else:
            click.echo(f"{task.id} {task.status.value}")

    return command


cancel = action_command(
    "cancel",
    Action.CANCEL,
    "Cancel a task that has not started (planning, staged or committed).",
    frozenset({S.PLANNING, S.STAGED, S.COMMITTED}),
)
retry = action_command(
    "retry",
    Action.RETRY,
    "Queue a failed or cancelled task again (it runs as a new attempt).",
    frozenset({S.FAILED, S.CANCELLED}),
)


@click.command()
@click.argument("task_ref", metavar="TASK", shell_complete=complete_task_ids(S.STAGED))
@click.option("--sync", is_flag=True, help="Run it here and exit with its outcome.")
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
def approve(task_ref: str, sync: bool, as_json: bool) -> None:
    """Approve a staged task's plan so it can run."""

    from nightshift.cli.running import ensure_executor, run_here

    if sync:
        # Approved and claimed in one transaction, then run here.
        task = with_store(lambda store, _: store.resolve(task_ref))
        result = run_async(
            lambda store, settings: run_here(store, settings, task.id, cli_actor())
        )
        task = result.task
    else:

        def job(store: Store, settings: Settings) -> Task:
            task = store.resolve(task_ref)
            task = store.apply(task.id, Action.APPROVE, cli_actor())
            ensure_executor(store, settings)
            return task

        task = with_store(job)

    if as_json:
        print_task_json(task.id)
    else:
        click.echo(f"{task.id} {task.status.value}")
    if sync:
        _report_outcome(task)
        if result.failed:
            sys.exit(ExitCode.TASK_FAILED)


@click.command()
@click.argument("task_ref", metavar="TASK", shell_complete=complete_task_ids(S.STAGED))
@click.argument("feedback")
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
def revise(task_ref: str, feedback: str, as_json: bool) -> None:
    """Re-plan a staged task with FEEDBACK ('-' reads it from stdin).

    For shell tasks, FEEDBACK is the corrected command.
    """
    from nightshift.core.submission import revise as revise_task

    text = read_description(feedback)

    outcome = run_async(
        lambda store, settings: revise_task(
            store, settings, task_ref, text, cli_actor()
        )
    )
    if outcome.warning:
        warn(outcome.warning)
    if as_json:
        print_task_json(outcome.task.id)
    else:
        click.echo(
            f"{outcome.task.id} {outcome.task.status.value} "
            f"(plan version {outcome.task.plan_version})"
        )


@click.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def clear(yes: bool) -> None:
    """Delete finished tasks (completed, failed, cancelled) and their logs."""
    import shutil

    settings = settings_or_exit()
    if not yes:
        if not sys.stdin.isatty():
            fail("clear deletes finished tasks; pass --yes to confirm")
        click.confirm("Delete all finished tasks and their logs?", abort=True)

    ids = with_store(lambda store, _: store.clear(FINAL_STATUSES), settings)
    # Logs go after the rows: a crash in between leaves stray files, never a
    # task whose log has vanished.
    for task_id in ids:
        path = settings.task_dir(task_id)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
    count = len(ids)
    click.echo(f"cleared {count} task{'s' if count != 1 else ''}")
