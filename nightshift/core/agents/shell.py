"""Plain shell commands, for batch jobs and for trying NightShift without an agent."""

from __future__ import annotations

from nightshift.core.agents.base import (
    MAX_ARGV_PROMPT,
    AgentEvent,
    Invocation,
    Text,
    task_env,
)
from nightshift.core.models import Task

# Reads the whole script from stdin before running it, so the script's own
# commands see an empty stdin, as they would with the short form.
_SCRIPT_FROM_STDIN = 'eval "$(cat)"'


class ShellAgent:
    """The approved command, run by `bash -c`; its exit code is the verdict.

    A command too long for one argument is fed to bash on stdin instead.
    """

    name = "shell"
    binary = "bash"

    def invocation(self, task: Task) -> Invocation:
        command = task.prompt
        if len(command) < MAX_ARGV_PROMPT:
            return Invocation(argv=[self.binary, "-c", command], env=task_env(task))
        return Invocation(
            argv=[self.binary, "-c", _SCRIPT_FROM_STDIN],
            stdin=command,
            env=task_env(task),
        )

    def parse_line(self, line: str) -> list[AgentEvent]:
        return [Text(line.rstrip("\r\n"))]
