"""`nightshift submit`: the id on stdout, JSON on request, options stored."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nightshift.core.models import DEFAULT_TIMEOUT_SECONDS
from nightshift.core.store import Store
from tests.cli.conftest import ACTOR, CLI, TASK_KEYS, USER

ID = re.compile(r"task_[0-9a-f]{8}")


def test_submit_prints_only_the_id(run_cli: CLI) -> None:
    result = run_cli("submit", "--agent", "shell", "echo hello")

    assert result.returncode == 0
    assert ID.fullmatch(result.stdout.rstrip("\n"))
    assert result.stdout.count("\n") == 1
    assert result.stderr == ""


def test_submit_json_carries_every_field(run_cli: CLI, workdir: Path) -> None:
    result = run_cli(
        "submit",
        "--agent",
        "shell",
        "--priority",
        "7",
        "--timeout",
        "42",
        "--json",
        "make test",
    )

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert TASK_KEYS - data.keys() == set()
    assert ID.fullmatch(data["id"])
    assert data["status"] == "staged"
    assert (data["agent"], data["description"], data["prompt"]) == (
        "shell",
        "make test",
        "make test",
    )
    assert (data["priority"], data["timeout_seconds"]) == (7, 42)
    assert data["workdir"] == str(workdir.resolve())
    assert (data["source"], data["submitted_by"]) == ("cli", USER)
    assert (data["approved_by"], data["attempts"]) == (None, 0)
    assert data["started_at"] is None and data["finished_at"] is None
    assert (data["exit_code"], data["error"], data["cost_usd"]) == (None, None, 0.0)
    assert data["tokens"] == {"input": 0, "output": 0, "total": 0}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["created_at"])
    assert data["plan"]["planner"] == "direct"
    assert data["plan"]["prompt"] == "make test"


def test_submit_defaults(run_cli: CLI, show: Callable[[str], dict[str, Any]]) -> None:
    task_id = run_cli("submit", "--agent", "shell", "ls").stdout.strip()

    data = show(task_id)

    assert (data["priority"], data["timeout_seconds"]) == (0, DEFAULT_TIMEOUT_SECONDS)


def test_submit_uses_the_configured_agent(run_cli: CLI, home: Path) -> None:
    (home / "config.toml").write_text('agent = "shell"\n')

    result = run_cli("submit", "--json", "uname -a")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["agent"] == "shell"
    from_env = run_cli("submit", "--json", "true", env={"NIGHTSHIFT_AGENT": "codex"})
    assert json.loads(from_env.stdout)["agent"] == "codex"


def test_submit_reads_the_description_from_stdin(
    run_cli: CLI, show: Callable[[str], dict[str, Any]]
) -> None:
    text = "line one\nline two — ünïcode ✓\n\n  indented\n"

    result = run_cli("submit", "--agent", "shell", "-", stdin=text.encode())

    assert result.returncode == 0, result.stderr
    assert show(result.stdout.strip())["description"] == text


def test_submit_workdir_is_stored_resolved(
    run_cli: CLI, tmp_path: Path, workdir: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()

    result = run_cli(
        "submit", "--agent", "shell", "--workdir", "../project", "--json", "ls"
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["workdir"] == str(project.resolve())


def test_auto_approve_commits_the_task(run_cli: CLI) -> None:
    result = run_cli("submit", "--agent", "shell", "--auto-approve", "--json", "ls")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["status"], data["approved_by"]) == ("committed", ACTOR)
    # NIGHTSHIFT_AUTO_EXECUTOR=0: nothing was started in the background.
    assert "executor" not in result.stderr


def test_sync_run_exits_zero_when_the_task_completes(
    run_cli: CLI, show: Callable[[str], dict[str, Any]]
) -> None:
    result = run_cli("submit", "--agent", "shell", "--auto-approve", "--sync", "true")

    assert result.returncode == 0, result.stderr
    data = show(result.stdout.strip())
    assert (data["status"], data["exit_code"], data["attempts"]) == (
        "completed",
        0,
        1,
    )
    assert data["approved_by"] == ACTOR


def test_sync_run_exits_one_when_the_task_fails(
    run_cli: CLI, show: Callable[[str], dict[str, Any]]
) -> None:
    result = run_cli("submit", "--agent", "shell", "--auto-approve", "--sync", "exit 3")

    assert result.returncode == 1
    task_id = result.stdout.strip()
    assert ID.fullmatch(task_id)
    assert f"{task_id} failed" in result.stderr
    data = show(task_id)
    assert (data["status"], data["exit_code"]) == ("failed", 3)


def test_home_defaults_to_dot_nightshift(run_cli: CLI, tmp_path: Path) -> None:
    user_home = tmp_path / "user"
    user_home.mkdir()

    result = run_cli(
        "submit",
        "--agent",
        "shell",
        "ls",
        env={"NIGHTSHIFT_HOME": None, "HOME": str(user_home)},
    )

    assert result.returncode == 0, result.stderr
    with Store.open(user_home / ".nightshift" / "nightshift.db") as store:
        assert [t.id for t in store.list_tasks()] == [result.stdout.strip()]
