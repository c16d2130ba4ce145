"""The shell backend: the approved command run by bash."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nightshift.core.agents.base import MAX_ARGV_PROMPT, Result, Text
from nightshift.core.agents.shell import ShellAgent
from nightshift.core.models import Task


def test_the_command_is_one_argument_to_bash_c(
    make_task: Callable[..., Task],
) -> None:
    invocation = ShellAgent().invocation(make_task("shell", "make test && echo ok"))

    assert invocation.argv == ["bash", "-c", "make test && echo ok"]
    assert invocation.stdin is None
    assert invocation.env == {"NIGHTSHIFT_TASK_ID": "t-0001"}


def test_a_long_command_is_read_from_stdin(make_task: Callable[..., Task]) -> None:
    command = "echo start\n" + "#" * MAX_ARGV_PROMPT

    invocation = ShellAgent().invocation(make_task("shell", command))

    assert invocation.argv[:2] == ["bash", "-c"]
    assert command not in invocation.argv
    assert invocation.stdin == command


def test_every_line_is_text_json_or_not() -> None:
    agent = ShellAgent()

    assert agent.parse_line("hello\n") == [Text("hello")]
    assert agent.parse_line('{"type": "result"}\r\n') == [Text('{"type": "result"}')]
    assert agent.parse_line("\n") == [Text("")]


def test_a_run_prints_its_output_and_sees_the_task_id(
    run_agent: Callable[..., Any],
) -> None:
    run = run_agent("shell", 'echo "id=$NIGHTSHIFT_TASK_ID"; printf "a\\nb\\n"; exit 3')

    assert run.returncode == 3
    assert run.of(Text) == [Text("id=t-0001"), Text("a"), Text("b")]
    assert run.of(Result) == []


def test_a_long_command_runs_with_an_empty_stdin(
    run_agent: Callable[..., Any],
) -> None:
    padding = "# " + "x" * MAX_ARGV_PROMPT
    command = (
        f"echo start\n{padding}\nif read -r line; then echo got; else echo empty; fi"
    )

    run = run_agent("shell", command)

    assert run.returncode == 0
    assert run.of(Text) == [Text("start"), Text("empty")]
