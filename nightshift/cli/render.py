"""Human-readable output for the terminal (rich is imported only here)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Literal

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from nightshift.core.models import (
    ExecutorInfo,
    PlanVersion,
    Task,
    TaskEvent,
    TaskStatus,
    isoformat,
)

STATUS_STYLES = {
    TaskStatus.PLANNING: "magenta",
    TaskStatus.STAGED: "yellow",
    TaskStatus.COMMITTED: "cyan",
    TaskStatus.RUNNING: "bold blue",
    TaskStatus.PAUSED: "blue",
    TaskStatus.COMPLETED: "green",
    TaskStatus.FAILED: "bold red",
    TaskStatus.CANCELLED: "dim",
}


def console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def ago(ts: float | None, clock: float | None = None) -> str:
    """A short relative time: 5s, 3m, 2h, 4d."""
    if ts is None:
        return "-"
    seconds = max(0, int((clock or time.time()) - ts))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def status_text(status: TaskStatus) -> Text:
    return Text(status.value, style=STATUS_STYLES[status])


def queue_table(tasks: Sequence[Task]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    columns: tuple[tuple[str, Literal["left", "right"]], ...] = (
        ("ID", "left"),
        ("STATUS", "left"),
        ("AGENT", "left"),
        ("PRI", "right"),
        ("AGE", "right"),
        ("TOKENS", "right"),
        ("COST", "right"),
        ("DESCRIPTION", "left"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=name != "DESCRIPTION")
    for task in tasks:
        table.add_row(
            task.id,
            status_text(task.status),
            task.agent,
            str(task.priority),
            ago(task.created_at),
            f"{task.tokens:,}" if task.tokens else "-",
            f"${task.cost_usd:.4f}" if task.cost_usd else "-",
            escape(one_line(task.description, 60)),
        )
    return table


def _fields(rows: Sequence[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for label, value in rows:
        if value:
            table.add_row(label, escape(value))
    return table


def task_detail(
    task: Task, plans: Sequence[PlanVersion], events: Sequence[TaskEvent]
) -> Group:
    """Everything `show` prints about one task."""
    header = Text.assemble(
        (task.id, "bold"), "  ", status_text(task.status), f"  {task.agent}"
    )
    summary = _fields(
        [
            (
                "Submitted",
                f"{isoformat(task.created_at)} by {task.submitted_by} "
                f"via {task.source}",
            ),
            ("Approved by", task.approved_by or ""),
            ("Workdir", task.workdir),
            ("Priority", str(task.priority)),
            ("Timeout", f"{task.effective_timeout} s"),
            ("Attempts", f"{task.attempts} (retries allowed: {task.max_retries})"),
        ]
    )
    parts: list[RenderableType] = [header, summary]
    parts.append(
        Panel(
            escape(one_line(task.description, 2000)),
            title="Description",
            title_align="left",
        )
    )

    if task.plan is not None:
        plan = task.plan
        plan_rows = _fields(
            [
                ("Planner", f"{plan.planner} (version {task.plan_version})"),
                ("Tools", ", ".join(plan.allowed_tools) or "(none)"),
                ("Writable", ", ".join(plan.writable_dirs) or "(none)"),
                ("Model", plan.model),
                ("System prompt", plan.system_prompt),
                (
                    "Estimate",
                    f"{plan.estimated_tokens:,} tokens, {plan.estimated_seconds} s",
                ),
                ("Reasoning", plan.reasoning),
            ]
        )
        body: list[RenderableType] = [Text(plan.prompt), Text(""), plan_rows]
        if plan.warning:
            body.append(Text(f"warning: {plan.warning}", style="yellow"))
        parts.append(Panel(Group(*body), title="Plan", title_align="left"))

    if len(plans) > 1:
        history = Table(box=None, header_style="bold")
        history.add_column("V", justify="right")
        history.add_column("PLANNER")
        history.add_column("FEEDBACK")
        history.add_column("PROMPT")
        for version in plans:
            history.add_row(
                str(version.version),
                version.plan.planner,
                escape(one_line(version.feedback, 40)) or "-",
                escape(one_line(version.plan.prompt, 60)),
            )
        parts.append(Panel(history, title="Plan history", title_align="left"))

    if task.attempts or task.status.is_final:
        run_rows = [
            ("Started", isoformat(task.started_at) or ""),
            ("Finished", isoformat(task.finished_at) or ""),
            ("Exit code", "" if task.exit_code is None else str(task.exit_code)),
            ("Tokens", f"{task.input_tokens:,} in, {task.output_tokens:,} out"),
            ("Cost", f"${task.cost_usd:.4f}"),
            ("Turns", str(task.turns) if task.turns else ""),
            ("Last activity" if task.status.is_final else "Now", task.activity),
        ]
        if task.changes:
            for kind in ("created", "modified", "deleted"):
                files = task.changes.get(kind, [])
                if files:
                    run_rows.append((kind.capitalize(), ", ".join(files[:20])))
        run_parts: list[RenderableType] = [_fields(run_rows)]
        if task.error:
            run_parts.append(Text(f"error: {task.error}", style="red"))
        parts.append(Panel(Group(*run_parts), title="Run", title_align="left"))

    log = Table(box=None, header_style="bold")
    log.add_column("WHEN (UTC)", no_wrap=True)
    log.add_column("ACTION", no_wrap=True)
    log.add_column("STATUS", no_wrap=True)
    log.add_column("BY", no_wrap=True)
    log.add_column("DETAIL", overflow="fold", min_width=12)
    for event in events:
        when = (isoformat(event.at) or "").replace("T", " ")[:19]
        log.add_row(
            when,
            event.action,
            f"{event.from_status or '-'} → {event.to_status}",
            escape(event.actor),
            escape(one_line(event.detail, 120)),
        )
    parts.append(Panel(log, title="History", title_align="left"))
    return Group(*parts)


def executors_table(rows: Sequence[tuple[ExecutorInfo, list[str], bool]]) -> Table:
    table = Table(box=None, header_style="bold")
    for name in ("EXECUTOR", "PID", "HOST", "WORKERS", "HEARTBEAT", "STATE", "TASKS"):
        table.add_column(name)
    for info, tasks, alive in rows:
        state = "stopping" if info.stop_requested else "running"
        if not alive:
            state = "lost"
        table.add_row(
            info.id,
            str(info.pid),
            info.host,
            f"{info.busy}/{info.workers}",
            f"{ago(info.heartbeat_at)} ago",
            state,
            ", ".join(tasks) or "-",
        )
    return table
