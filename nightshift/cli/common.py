"""What every command shares: exit codes, errors, opening the queue."""

from __future__ import annotations

import enum
import getpass
import json
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from nightshift.core.errors import NightShiftError
from nightshift.core.models import TaskStatus
from nightshift.core.settings import Settings, load_settings

if TYPE_CHECKING:
    from nightshift.core.async_store import AsyncStore
    from nightshift.core.store import Store

T = TypeVar("T")


class ExitCode(enum.IntEnum):
    """The CLI's contract with scripts."""

    OK = 0
    TASK_FAILED = 1
    BAD_INPUT = 2
    INTERRUPTED = 130


def user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def cli_actor() -> str:
    return f"cli:{user_name()}"


def fail(message: str, code: ExitCode = ExitCode.BAD_INPUT) -> NoReturn:
    """Print a one-line error to stderr and exit."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except NightShiftError as exc:
        fail(exc.message)


def with_store(
    job: Callable[[Store, Settings], T], settings: Settings | None = None
) -> T:
    """Open the queue, run one job against it, and map errors to exits.

    Most commands are a transaction or two; they run without asyncio, which
    keeps start-up quick for scripts and shell completion.
    """
    from nightshift.core.store import Store

    settings = settings or settings_or_exit()
    try:
        with Store.open(settings.db_path, settings.busy_timeout) as store:
            return job(store, settings)
    except NightShiftError as exc:
        fail(exc.message)
    except sqlite3.Error as exc:
        fail(f"the queue database {settings.db_path} failed: {exc}")
    except KeyboardInterrupt:
        fail("interrupted", ExitCode.INTERRUPTED)


def run_async(
    job: Callable[[AsyncStore, Settings], Awaitable[T]],
    settings: Settings | None = None,
) -> T:
    """Like with_store, for jobs that plan or run tasks (they need asyncio)."""
    import asyncio

    from nightshift.core.async_store import AsyncStore

    settings = settings or settings_or_exit()

    async def main() -> T:
        async with await AsyncStore.open(
            settings.db_path, settings.busy_timeout
        ) as store:
            return await job(store, settings)

    try:
        return asyncio.run(main())
    except NightShiftError as exc:
        fail(exc.message)
    except sqlite3.Error as exc:
        fail(f"the queue database {settings.db_path} failed: {exc}")
    except KeyboardInterrupt:
        fail("interrupted", ExitCode.INTERRUPTED)


def print_task_json(task_id: str, settings: Settings | None = None) -> None:
    """Print one task as the JSON object every --json command shows."""
    print_json(with_store(lambda store, _: store.task_json(task_id), settings))


def print_json_text(text: str) -> None:
    """Print JSON already encoded (by the database); indented on a terminal."""
    if sys.stdout.isatty():
        print_json(json.loads(text))
    else:
        click.echo(text)


def print_json(data: Any) -> None:
    """JSON on stdout: indented for a person, compact (and much faster) for a pipe."""
    if sys.stdout.isatty():
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def complete_task_ids(
    *statuses: TaskStatus,
) -> Callable[[click.Context, click.Parameter, str], list[str]]:
    """Shell completion of task ids, offering only tasks the command accepts."""

    def complete(
        ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[str]:
        from nightshift.core.store import completion_ids

        try:
            settings = load_settings()
        except NightShiftError:
            return []
        ids = completion_ids(settings.db_path, statuses)
        text = incomplete.lower()
        return [i for i in ids if i.startswith(text) or i[5:].startswith(text)]

    return complete
