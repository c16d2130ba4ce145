"""Planning at submit time, through the fake claude on PATH."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nightshift.core.planner import PLAN_SCHEMA
from tests.cli.conftest import ACTOR, CLI

Show = Callable[[str], dict[str, Any]]


@pytest.fixture
def agent_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the fake agents record how each run was started."""
    path = tmp_path / "agent-log.jsonl"
    monkeypatch.setenv("FAKE_AGENT_LOG", str(path))
    return path


def _runs(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def _submitted(result: Any) -> str:
    assert result.returncode == 0, result.stderr
    task_id: str = result.stdout.strip()
    assert result.stdout == f"{task_id}\n"
    return task_id


def test_claude_plans_the_task(
    run_cli: CLI,
    show: Show,
    workdir: Path,
    fake_agents_path: Path,
    agent_log: Path,
) -> None:
    description = "write a haiku about queues"

    result = run_cli("submit", description)

    task_id = _submitted(result)
    assert result.stderr == ""
    data = show(task_id)
    assert data["status"] == "staged"
    plan = data["plan"]
    assert plan["planner"] == "claude"
    assert plan["warning"] == ""
    assert plan["prompt"] == description
    assert plan["allowed_tools"] == ["Read", "Edit", "Write", "Bash"]
    assert plan["writable_dirs"] == [str(workdir)]
    assert (plan["estimated_seconds"], plan["timeout_seconds"]) == (60, 900)
    assert plan["estimated_tokens"] == 2000 + len(description) // 4
    assert f"received {len(description)} characters" in plan["reasoning"]
    assert data["timeout_seconds"] == 900
    assert [(e["action"], e["from"], e["to"], e["actor"]) for e in data["events"]] == [
        ("submit", None, "planning", ACTOR),
        ("planned", "planning", "staged", ACTOR),
    ]

    (run,) = _runs(agent_log)
    argv = run["argv"]
    assert argv[:4] == ["claude", "-p", "--output-format", "json"]
    assert json.loads(argv[argv.index("--json-schema") + 1]) == PLAN_SCHEMA
    # The description travels on stdin, never as an argument.
    assert all(description not in arg for arg in argv)
    assert f"<task>\n{description}\n</task>" in run["stdin"]
    assert run["cwd"] == str(workdir)


@pytest.mark.parametrize(
    ("directive", "warning"),
    [
        (
            "[[plan-fail]]",
            'the planner failed: API Error: 500 {"type":"error",'
            '"error":{"type":"api_error"}}',
        ),
        ("[[not-logged-in]]", "the planner failed: Not logged in"),
        (
            "[[plan-garbage]]",
            "the planner printed no JSON result (Let me think about this task...)",
        ),
        ("[[plan-no-structured]]", "the planner returned no plan object"),
        ("[[plan-hang]]", "the planner timed out after 1 s"),
    ],
)
def test_a_failed_planner_leaves_a_direct_plan_and_a_warning(
    run_cli: CLI,
    show: Show,
    fake_agents_path: Path,
    agent_log: Path,
    directive: str,
    warning: str,
) -> None:
    description = f"refactor the parser {directive}"

    result = run_cli("submit", description, env={"NIGHTSHIFT_PLANNER_TIMEOUT": "1"})

    task_id = _submitted(result)
    data = show(task_id)
    assert data["status"] == "staged"
    assert data["plan"]["planner"] == "direct"
    assert data["plan"]["prompt"] == description
    assert data["plan"]["warning"].startswith(warning)
    assert result.stderr == f"warning: {data['plan']['warning']}\n"
    assert data["events"][-1]["detail"] == data["plan"]["warning"]
    (run,) = _runs(agent_log)
    assert not _is_fake_claude(run["pid"]), "the planner process outlived planning"


def _is_fake_claude(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"fakes/claude" in cmdline


def test_missing_claude_gives_a_direct_plan_with_a_warning(
    run_cli: CLI, show: Show, workdir: Path
) -> None:
    assert shutil.which("claude") is None

    result = run_cli("submit", "summarise the changelog")

    task_id = _submitted(result)
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("warning: the claude CLI is not installed")
    plan = show(task_id)["plan"]
    assert (plan["planner"], plan["prompt"]) == ("direct", "summarise the changelog")
    assert "not installed" in plan["warning"]
    assert plan["writable_dirs"] == [str(workdir)]


def test_no_plan_skips_the_planner(
    run_cli: CLI, show: Show, fake_agents_path: Path, agent_log: Path
) -> None:
    result = run_cli("submit", "--no-plan", "bump the version")

    task_id = _submitted(result)
    assert result.stderr == ""
    plan = show(task_id)["plan"]
    assert (plan["planner"], plan["warning"]) == ("direct", "")
    assert _runs(agent_log) == []


def test_a_megabyte_description_reaches_the_planner_intact(
    run_cli: CLI, show: Show, fake_agents_path: Path, agent_log: Path
) -> None:
    line = "0123456789 the quick brown fox jumps over the lazy dog; ünïcödé ✓\n"
    size = 1024 * 1024
    description = (line * (size // len(line) + 1))[:size]
    assert len(description) == size

    result = run_cli("submit", "-", stdin=description.encode())

    task_id = _submitted(result)
    assert result.stderr == ""
    data = show(task_id)
    assert data["description"] == description
    assert data["plan"]["planner"] == "claude"
    assert f"received {size} characters of description" in data["plan"]["reasoning"]
    assert data["plan"]["prompt"] == description
    (run,) = _runs(agent_log)
    assert f"<task>\n{description}\n</task>" in run["stdin"]


METACHARACTERS = (
    'echo $(touch PWNED) `touch PWNED` \'single\' "double" \\"escaped\\"; '
    "rm -rf victim && touch PWNED || touch PWNED | tee PWNED > PWNED &\n"
    "${HOME} $HOME $((1+1)) %s %n {a,b} * ? ~ # <(touch PWNED) !! \t\r\n"
    "; rm -rf ./victim\n"
)


def _no_side_effects(tmp_path: Path, *victims: Path) -> None:
    # tmp_path holds the workdir, the cwd and NIGHTSHIFT_HOME.
    assert list(tmp_path.rglob("PWNED")) == []
    for root in victims:
        assert (root / "victim" / "keep.txt").read_text() == "keep me"


@pytest.mark.parametrize("via", ["argument", "stdin"])
@pytest.mark.parametrize("agent", ["claude", "shell"])
def test_shell_metacharacters_are_stored_and_planned_verbatim(
    run_cli: CLI,
    show: Show,
    tmp_path: Path,
    workdir: Path,
    fake_agents_path: Path,
    via: str,
    agent: str,
) -> None:
    project = tmp_path / "project"
    for root in (project, workdir):
        (root / "victim").mkdir(parents=True)
        (root / "victim" / "keep.txt").write_text("keep me")
    args = ["submit", "--agent", agent, "--workdir", str(project)]

    if via == "argument":
        result = run_cli(*args, METACHARACTERS)
    else:
        result = run_cli(*args, "-", stdin=METACHARACTERS.encode())

    task_id = _submitted(result)
    assert result.stderr == ""
    data = show(task_id)
    assert data["description"] == METACHARACTERS
    assert data["plan"]["prompt"] == METACHARACTERS
    assert data["plan"]["planner"] == ("direct" if agent == "shell" else "claude")

    revised = run_cli("revise", task_id, METACHARACTERS)
    assert revised.returncode == 0, revised.stderr
    again = show(task_id)
    assert again["description"] == METACHARACTERS
    assert again["plans"][-1]["feedback"] == METACHARACTERS
    _no_side_effects(tmp_path, project, workdir)
    assert not (Path.cwd() / "PWNED").exists()
