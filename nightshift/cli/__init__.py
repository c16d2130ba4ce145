"""The headless command line: parse, call the core, print."""

from __future__ import annotations

import logging
import sys
from typing import ClassVar

import click

from nightshift.cli.common import ExitCode
from nightshift.cli.running import display, executor, kill, logs, pause, resume
from nightshift.cli.tasks import (
    approve,
    cancel,
    clear,
    queue,
    retry,
    revise,
    show,
    submit,
)


class AliasedGroup(click.Group):
    """A group that also answers to a few old or shorter command names."""

    aliases: ClassVar[dict[str, str]] = {
        "results": "show",
        "watch": "logs",
        "ls": "queue",
    }

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        _, command, rest = super().resolve_command(ctx, args)
        return (command.name if command else None), command, rest


@click.group(cls=AliasedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nightshift", prog_name="nightshift")
def cli() -> None:
    """NightShift: queue work for AI agents, approve it, run it overnight."""


for command in (
    submit,
    queue,
    show,
    approve,
    cancel,
    revise,
    retry,
    clear,
    pause,
    resume,
    kill,
    logs,
    display,
    executor,
):
    cli.add_command(command)


def main() -> None:
    """Entry point: click's errors become one line on stderr and exit 2."""
    # Commands report problems as `error:`/`warning:` lines of their own.
    # Without a handler, the core's log records would also reach stderr raw,
    # through logging's last-resort handler; commands that want the log
    # (executor start) configure logging themselves.
    logging.getLogger("nightshift").addHandler(logging.NullHandler())
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.exceptions.NoArgsIsHelpError as exc:
        # Plain `nightshift` (or a group with no subcommand) asks for help.
        click.echo(exc.ctx.get_help() if exc.ctx else "")
        sys.exit(ExitCode.OK)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)
