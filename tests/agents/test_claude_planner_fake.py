"""The fake claude answering as a planner, as `--output-format json` does."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "prompt": {"type": "string"},
        "allowed_tools": {"type": "array", "items": {"type": "string"}},
        "writable_dirs": {"type": "array", "items": {"type": "string"}},
        "system_prompt": {"type": "string"},
        "model": {"type": "string"},
        "estimated_tokens": {"type": "integer"},
        "estimated_seconds": {"type": "integer"},
        "timeout_seconds": {"type": "integer"},
        "reasoning": {"type": "string"},
    },
    "required": ["prompt", "allowed_tools", "reasoning"],
    "additionalProperties": False,
}


def planner_prompt(description: str, feedback: str = "") -> str:
    parts = ["You are the planner. Turn the task below into a plan."]
    if feedback:
        parts.append(f"The reviewer's feedback:\n{feedback}")
    parts.append(f"The task, as submitted:\n<task>\n{description}\n</task>")
    return "\n\n".join(parts)


def plan(
    workdir: Path,
    stdin: str,
    schema: dict[str, Any] | None = SCHEMA,
    timeout: float = 30,
) -> subprocess.CompletedProcess[bytes]:
    argv = ["claude", "-p", "--output-format", "json", "--allowedTools", "Read,Glob"]
    if schema is not None:
        argv += ["--json-schema", json.dumps(schema)]
    return subprocess.run(
        argv,
        input=stdin.encode(),
        capture_output=True,
        cwd=workdir,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(autouse=True)
def _fakes_on_path(fake_agents_path: Path) -> None:
    """Every test here runs the fake claude from PATH."""


def test_a_plan_is_one_json_result_with_structured_output(workdir: Path) -> None:
    proc = plan(workdir, planner_prompt("Add a --json flag to `list`."))

    assert proc.returncode == 0
    [text] = proc.stdout.decode().splitlines()
    result = json.loads(text)
    assert result["type"] == "result"
    assert result["subtype"] == "success"
    assert result["is_error"] is False
    assert result["total_cost_usd"] == 0.0042
    structured = result["structured_output"]
    assert set(structured) == set(SCHEMA["properties"])
    assert structured["prompt"] == "Add a --json flag to `list`."
    assert structured["writable_dirs"] == [str(workdir)]
    assert isinstance(structured["estimated_tokens"], int)
    assert structured["timeout_seconds"] == 900
    assert json.loads(result["result"]) == structured
    assert result["num_turns"] == 2


def test_a_megabyte_description_arrives_intact(workdir: Path) -> None:
    description = "d" * (1024 * 1024)

    proc = plan(workdir, planner_prompt(description))

    structured = json.loads(proc.stdout)["structured_output"]
    assert "received 1048576 characters of description" in structured["reasoning"]
    assert structured["prompt"] == description


def test_feedback_shapes_the_revised_plan(workdir: Path) -> None:
    proc = plan(workdir, planner_prompt("Write docs.", feedback="Only the README."))

    structured = json.loads(proc.stdout)["structured_output"]
    assert structured["prompt"] == "Write docs.\n\nReviewer feedback: Only the README."


def test_without_task_tags_the_whole_prompt_is_the_description(workdir: Path) -> None:
    proc = plan(workdir, "just do it")

    assert json.loads(proc.stdout)["structured_output"]["prompt"] == "just do it"


def test_the_plan_is_trimmed_and_filled_to_the_schema(workdir: Path) -> None:
    schema = {
        "type": "object",
        "properties": {
            "prompt": {"type": "string"},
            "risk": {"type": "integer"},
            "notes": {"type": "array"},
        },
        "required": ["prompt", "risk", "notes"],
        "additionalProperties": False,
    }

    proc = plan(workdir, planner_prompt("x"), schema=schema)

    structured = json.loads(proc.stdout)["structured_output"]
    assert structured == {"prompt": "x", "risk": 0, "notes": []}


def test_run_directives_survive_into_the_plan(workdir: Path) -> None:
    proc = plan(workdir, planner_prompt("work [[sleep 5]] [[write out.txt]]"))

    structured = json.loads(proc.stdout)["structured_output"]
    assert structured["prompt"] == "work [[sleep 5]] [[write out.txt]]"


def test_plan_fail_is_an_error_result(workdir: Path) -> None:
    proc = plan(workdir, planner_prompt("[[plan-fail]]"))

    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["is_error"] is True
    assert result["result"].startswith("API Error: 500")
    assert "structured_output" not in result


def test_not_logged_in_planner(workdir: Path) -> None:
    proc = plan(workdir, planner_prompt("[[not-logged-in]]"))

    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["is_error"] is True
    assert result["subtype"] == "success"
    assert result["result"] == "Not logged in · Please run /login"


def test_plan_garbage_prints_no_json(workdir: Path) -> None:
    proc = plan(workdir, planner_prompt("[[plan-garbage]]"))

    assert proc.returncode == 0
    for text in proc.stdout.decode().splitlines():
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)


def test_plan_no_structured_succeeds_without_a_plan(workdir: Path) -> None:
    proc = plan(workdir, planner_prompt("[[plan-no-structured]]"))

    result = json.loads(proc.stdout)
    assert proc.returncode == 0
    assert result["is_error"] is False
    assert "structured_output" not in result


def test_without_a_schema_there_is_no_structured_output(workdir: Path) -> None:
    proc = plan(workdir, planner_prompt("plain"), schema=None)

    assert "structured_output" not in json.loads(proc.stdout)


def test_plan_hang_never_answers(workdir: Path) -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        plan(workdir, planner_prompt("[[plan-hang]]"), timeout=1)


def test_plan_slow_answers_late_but_answers(workdir: Path) -> None:
    started = time.monotonic()
    proc = plan(workdir, planner_prompt("[[plan-slow 0.5]]"))

    assert time.monotonic() - started >= 0.5
    assert "structured_output" in json.loads(proc.stdout)
