"""The headless command line: parse, call the core, print."""

from __future__ import annotations

import importlib
import logging
import sys
from typing import ClassVar

import click

from nightshift.cli.common import ExitCode

# Each command's module is imported only when that command runs, so quick
# commands (queue --json, shell completion) do not load the executor's.
COMMANDS = {
    "submit": "nightshift.cli.tasks:submit",
    "queue": "nightshift.cli.tasks:queue",
    "show": "nightshift.cli.tasks:show",
    "approve": "nightshift.cli.tasks:approve",
    "cancel": "nightshift.cli.tasks:cancel",
    "revise": "nightshift.cli.tasks:revise",
    "retry": "nightshift.cli.tasks:retry",
    "clear": "nightshift.cli.tasks:clear",
    "pause": "nightshift.cli.running:pause",
    "resume": "nightshift.cli.running:resume",
    "kill": "nightshift.cli.running:kill",
    "logs": "nightshift.cli.running:logs",
    "display": "nightshift.cli.running:display",
    "executor": "nightshift.cli.running:executor",
}


class NightShiftGroup(click.Group):
    """The top-level group: lazily loaded commands, and a few aliases."""

    aliases: ClassVar[dict[str, str]] = {
        "results": "show",
        "watch": "logs",
        "ls": "queue",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(self.aliases.get(cmd_name, cmd_name))
        if target is None:
            return None
        module, name = target.split(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        _, command, rest = super().resolve_command(ctx, args)
        return (command.name if command else None), command, rest


@click.group(
    cls=NightShiftGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(package_name="nightshift", prog_name="nightshift")
def cli() -> None:
    """NightShift: queue work for AI agents, approve it, run it overnight."""


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
