"""`nightshift revise`: a new plan from feedback, with the history kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.cli.conftest import ACTOR, CLI, TASK_KEYS

Show = Callable[[str], dict[str, Any]]


def _submit(run_cli: CLI, *args: str) -> str:
    result = run_cli("submit", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_revisions_keep_the_plan_history(
    run_cli: CLI, show: Show, fake_agents_path: Path
) -> None:
    task_id = _submit(run_cli, "write the release notes")

    first = run_cli("revise", task_id, "use markdown")
    second = run_cli("revise", task_id[:8], "keep it under a page")

    assert first.returncode == second.returncode == 0
    assert first.stdout == f"{task_id} staged (plan version 2)\n"
    assert second.stdout == f"{task_id} staged (plan version 3)\n"
    assert first.stderr == second.stderr == ""
    data = show(task_id)
    assert (data["status"], data["plan_version"]) == ("staged", 3)
    assert data["description"] == "write the release notes"
    assert data["plan"]["planner"] == "claude"
    assert "keep it under a page" in data["plan"]["prompt"]
    assert [(p["version"], p["feedback"]) for p in data["plans"]] == [
        (1, ""),
        (2, "use markdown"),
        (3, "keep it under a page"),
    ]
    assert data["plans"][0]["plan"]["prompt"] == "write the release notes"
    assert "use markdown" in data["plans"][1]["plan"]["prompt"]
    revisions = [e for e in data["events"] if e["action"] == "revise"]
    assert [(e["from"], e["to"], e["actor"], e["detail"]) for e in revisions] == [
        ("staged", "planning", ACTOR, "use markdown"),
        ("staged", "planning", ACTOR, "keep it under a page"),
    ]


def test_revise_json_carries_every_field(run_cli: CLI) -> None:
    task_id = _submit(run_cli, "--agent", "shell", "ls -l")

    result = run_cli("revise", task_id, "ls -la", "--json")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert TASK_KEYS - data.keys() == set()
    assert (data["status"], data["prompt"]) == ("staged", "ls -la")


def test_revising_a_shell_task_replaces_its_command(run_cli: CLI, show: Show) -> None:
    task_id = _submit(run_cli, "--agent", "shell", "exit 3")

    revised = run_cli("revise", task_id, "true")

    assert revised.returncode == 0, revised.stderr
    assert revised.stderr == ""
    data = show(task_id)
    assert data["description"] == "exit 3"
    assert (data["plan"]["prompt"], data["plan"]["planner"]) == ("true", "direct")
    assert data["plan"]["warning"] == ""
    assert [(p["plan"]["prompt"], p["feedback"]) for p in data["plans"]] == [
        ("exit 3", ""),
        ("true", "true"),
    ]
    # The revised command is the one that runs: `exit 3` would fail.
    ran = run_cli("approve", task_id, "--sync")
    assert ran.returncode == 0, ran.stderr
    assert show(task_id)["status"] == "completed"


def test_revise_reads_feedback_from_stdin(run_cli: CLI, show: Show) -> None:
    task_id = _submit(run_cli, "--agent", "shell", "echo one")

    result = run_cli("revise", task_id, "-", stdin=b"echo one\necho two\n")

    assert result.returncode == 0, result.stderr
    assert show(task_id)["plan"]["prompt"] == "echo one\necho two\n"


def test_revise_without_claude_appends_the_feedback(run_cli: CLI, show: Show) -> None:
    task_id = _submit(run_cli, "fix the flaky test")

    result = run_cli("revise", task_id, "and add a regression test")

    assert result.returncode == 0
    assert result.stderr.startswith("warning: the claude CLI is not installed")
    assert result.stderr.count("\n") == 1
    plan = show(task_id)["plan"]
    assert plan["prompt"] == (
        "fix the flaky test\n\nReviewer's feedback:\nand add a regression test"
    )
    assert plan["planner"] == "direct"
    assert "not installed" in plan["warning"]


def test_revise_of_a_no_plan_task_stays_direct(
    run_cli: CLI, show: Show, fake_agents_path: Path
) -> None:
    task_id = _submit(run_cli, "--no-plan", "rename the module")

    result = run_cli("revise", task_id, "also update imports")

    assert result.returncode == 0
    assert result.stderr == ""
    plan = show(task_id)["plan"]
    assert (plan["planner"], plan["warning"]) == ("direct", "")
    assert plan["prompt"].endswith("also update imports")
