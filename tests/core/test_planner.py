"""Planners: the direct plan, the plan schema check, and claude as a process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nightshift.core.errors import PlannerError
from nightshift.core.models import Plan
from nightshift.core.planner import (
    PLAN_SCHEMA,
    ClaudePlanner,
    PlanRequest,
    choose_planner,
    direct_plan,
    plan_from_structured,
    planning_prompt,
)
from tests.conftest import FAKES_DIR

GOOD: dict[str, Any] = {
    "prompt": "Add a --verbose flag and test it.",
    "allowed_tools": ["Read", "Edit"],
    "writable_dirs": ["/srv/app"],
    "system_prompt": "Be careful.",
    "model": "sonnet",
    "estimated_tokens": 5000,
    "estimated_seconds": 120,
    "timeout_seconds": 600,
    "reasoning": "Small change.",
}


def test_direct_plan_uses_the_description_as_written() -> None:
    request = PlanRequest("rm -rf build && make", "shell", "/srv/app")

    plan = direct_plan(request, 77, "no model")

    assert (plan.prompt, plan.planner, plan.warning) == (
        "rm -rf build && make",
        "direct",
        "no model",
    )
    assert (plan.writable_dirs, plan.timeout_seconds) == (["/srv/app"], 77)


def test_structured_output_becomes_a_plan() -> None:
    plan = plan_from_structured(GOOD, "claude")

    assert plan == Plan(**GOOD, planner="claude")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"prompt": "   "}, "no prompt"),
        ({"prompt": 3}, "no prompt"),
        ({"allowed_tools": "Read"}, "allowed_tools"),
        ({"writable_dirs": [1, 2]}, "writable_dirs"),
        ({"estimated_tokens": -1}, "estimated_tokens is below 0"),
        ({"timeout_seconds": 0}, "timeout_seconds is below 1"),
        ({"estimated_seconds": True}, "estimated_seconds is not a number"),
        ({"estimated_seconds": "60"}, "estimated_seconds is not a number"),
        ({"model": None}, "model is not text"),
    ],
)
def test_structured_output_is_checked(change: dict[str, Any], message: str) -> None:
    with pytest.raises(PlannerError, match=message):
        plan_from_structured({**GOOD, **change}, "claude")


@pytest.mark.parametrize("data", [None, [], "a plan", 42])
def test_structured_output_must_be_an_object(data: Any) -> None:
    with pytest.raises(PlannerError, match="no plan object"):
        plan_from_structured(data, "claude")


def test_planning_prompt_carries_description_feedback_and_previous_plan() -> None:
    previous = Plan(prompt="the first try")
    request = PlanRequest(
        "ship it", "codex", "/srv/app", feedback="smaller steps", previous=previous
    )

    prompt = planning_prompt(request)

    assert prompt.endswith("<task>\nship it\n</task>")
    assert "'codex' agent CLI" in prompt
    assert "/srv/app" in prompt
    assert "The reviewer's feedback:\nsmaller steps" in prompt
    assert '"prompt": "the first try"' in prompt


def test_choose_planner(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_agents_path: Path
) -> None:
    planner, warning = choose_planner("claude", False, 12.0)
    assert isinstance(planner, ClaudePlanner)
    assert (planner.binary, planner.timeout, warning) == (
        str(FAKES_DIR / "claude"),
        12.0,
        "",
    )
    for agent, no_plan in (("shell", False), ("claude", True)):
        planner, warning = choose_planner(agent, no_plan, 12.0)
        assert (planner.name, warning) == ("direct", "")

    monkeypatch.setenv("PATH", str(tmp_path))
    planner, warning = choose_planner("codex", False, 12.0)
    assert planner.name == "direct"
    assert "claude CLI is not installed" in warning


def test_claude_argv_asks_for_structured_json() -> None:
    argv = ClaudePlanner("/opt/claude", model="opus").argv()

    assert argv[:4] == ["/opt/claude", "-p", "--output-format", "json"]
    assert json.loads(argv[argv.index("--json-schema") + 1]) == PLAN_SCHEMA
    assert argv[argv.index("--allowedTools") + 1] == "Read,Glob,Grep"
    assert argv[-2:] == ["--model", "opus"]


@pytest.fixture
def claude() -> ClaudePlanner:
    return ClaudePlanner(str(FAKES_DIR / "claude"), timeout=60)


async def test_claude_plans_through_the_fake(
    claude: ClaudePlanner, tmp_path: Path
) -> None:
    plan = await claude.plan(PlanRequest("tidy the imports", "claude", str(tmp_path)))

    assert (plan.planner, plan.warning, plan.prompt) == (
        "claude",
        "",
        "tidy the imports",
    )
    assert plan.writable_dirs == [str(tmp_path)]
    assert plan.timeout_seconds == 900
    assert "received 16 characters" in plan.reasoning


async def test_claude_passes_feedback_to_the_planner(
    claude: ClaudePlanner, tmp_path: Path
) -> None:
    request = PlanRequest("tidy", "claude", str(tmp_path), feedback="only src/")

    plan = await claude.plan(request)

    assert plan.prompt == "tidy\n\nReviewer feedback: only src/"


@pytest.mark.parametrize(
    ("directive", "message"),
    [
        ("[[plan-fail]]", "the planner failed: API Error: 500"),
        ("[[plan-garbage]]", "the planner printed no JSON result"),
        ("[[plan-no-structured]]", "the planner returned no plan object"),
        ("[[plan-hang]]", "the planner timed out after 0.5 s"),
    ],
)
async def test_claude_failures_raise_planner_error(
    claude: ClaudePlanner, tmp_path: Path, directive: str, message: str
) -> None:
    claude.timeout = 0.5

    with pytest.raises(PlannerError) as caught:
        await claude.plan(PlanRequest(f"work {directive}", "claude", str(tmp_path)))

    assert caught.value.message.startswith(message)


async def test_a_missing_binary_is_a_planner_error(tmp_path: Path) -> None:
    planner = ClaudePlanner(str(tmp_path / "no-such-claude"))

    with pytest.raises(PlannerError, match="could not start"):
        await planner.plan(PlanRequest("x", "claude", str(tmp_path)))
