"""Running one task in the calling process: outcomes, logs, figures."""

from __future__ import annotations

import json
from pathlib import Path

from nightshift.core.models import TaskStatus
from nightshift.core.settings import Settings
from nightshift.core.store import Store
from tests.executor.support import CLI, agent_log


def run_sync(cli: CLI, description: str, *options: str, agent: str = "claude"):
    return cli(
        "submit",
        "--no-plan",
        "--agent",
        agent,
        "--auto-approve",
        "--sync",
        "--json",
        *options,
        description,
    )


def test_claude_run_records_tokens_cost_and_log(
    cli: CLI, env: dict[str, str], settings: Settings, store: Store
) -> None:
    result = run_sync(cli, "Summarise the repo [[tokens 1500 250]]")

    assert result.returncode == 0, result.stderr
    task = json.loads(result.stdout)
    assert task["status"] == "completed"
    assert task["tokens"] == {"input": 1500, "output": 250, "total": 1750}
    assert task["cost_usd"] > 0
    assert task["exit_code"] == 0

    output = settings.task_dir(task["id"]) / "output.jsonl"
    types = [json.loads(line)["type"] for line in output.read_text().splitlines()]
    assert types[0] == "system" and types[-1] == "result"
    assert "assistant" in types and "user" in types

    [call] = agent_log(env)
    assert call["argv"][1:5] == ["-p", "--output-format", "stream-json", "--verbose"]
    assert call["stdin"] == "Summarise the repo [[tokens 1500 250]]"


def test_prompt_with_shell_metacharacters_reaches_agent_verbatim(
    cli: CLI, env: dict[str, str], workdir: Path
) -> None:
    prompt = "say $(touch PWNED) `touch PWNED2` \"q\" 'q' ; rm -rf / \n done"

    result = run_sync(cli, prompt)

    assert result.returncode == 0, result.stderr
    assert agent_log(env)[0]["stdin"] == prompt
    assert not (workdir / "PWNED").exists() and not (workdir / "PWNED2").exists()


def test_not_logged_in_fails_with_the_agents_words(cli: CLI) -> None:
    result = run_sync(cli, "anything [[not-logged-in]]")

    assert result.returncode == 1
    task = json.loads(result.stdout)
    assert task["status"] == "failed"
    assert "Not logged in" in task["error"]
    assert "Not logged in" in result.stderr


def test_error_result_fails_even_with_exit_zero_subtype(cli: CLI) -> None:
    result = run_sync(cli, "anything [[fail]]")

    assert result.returncode == 1
    assert json.loads(result.stdout)["status"] == "failed"


def test_garbage_lines_are_kept_in_the_log_and_skipped(
    cli: CLI, settings: Settings
) -> None:
    result = run_sync(cli, "noisy [[garbage]] [[tokens 10 5]]")

    assert result.returncode == 0, result.stderr
    task = json.loads(result.stdout)
    assert task["status"] == "completed"
    assert task["tokens"]["total"] == 15
    lines = (settings.task_dir(task["id"]) / "output.jsonl").read_text().splitlines()
    assert any(not _is_json_object(line) for line in lines)


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def test_nonzero_exit_and_signal_death_fail_with_reason(cli: CLI) -> None:
    exited = run_sync(cli, "x [[exit 7]]")
    died = run_sync(cli, "x [[die]]")

    assert exited.returncode == 1
    assert "exited with code 7" in json.loads(exited.stdout)["error"]
    assert died.returncode == 1
    assert "SIGKILL" in json.loads(died.stdout)["error"]


def test_missing_agent_binary_fails_at_once(cli: CLI, env: dict[str, str]) -> None:
    env["PATH"] = "/usr/bin:/bin"

    result = run_sync(cli, "hello", agent="codex")

    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error == "agent 'codex' is not installed (looked for 'codex' on PATH)"


def test_timeout_kills_and_fails_with_reason(cli: CLI) -> None:
    result = run_sync(cli, "sleep 30", "--timeout", "1", agent="shell")

    assert result.returncode == 1
    task = json.loads(result.stdout)
    assert task["error"] == "timed out after 1 s"
    assert task["status"] == "failed"


def test_timeout_ignored_term_still_killed(cli: CLI, env: dict[str, str]) -> None:
    env["NIGHTSHIFT_STOP_TIMEOUT"] = "1"
    result = run_sync(cli, "stubborn [[ignore-term]] [[hang]]", "--timeout", "1")

    assert result.returncode == 1
    assert json.loads(result.stdout)["error"] == "timed out after 1 s"


def test_file_changes_are_recorded_for_failed_runs_too(cli: CLI, workdir: Path) -> None:
    (workdir / "b.txt").write_text("old\n")
    (workdir / "c.txt").write_text("doomed\n")

    result = run_sync(cli, "[[write a.txt]] [[modify b.txt]] [[delete c.txt]] [[fail]]")

    assert result.returncode == 1
    changes = json.loads(result.stdout)["changes"]
    assert changes == {
        "created": ["a.txt"],
        "modified": ["b.txt"],
        "deleted": ["c.txt"],
    }


def test_shell_task_output_goes_to_log_and_stderr_beside_it(
    cli: CLI, settings: Settings
) -> None:
    result = run_sync(cli, "echo out; echo err >&2", agent="shell")

    task = json.loads(result.stdout)
    directory = settings.task_dir(task["id"])
    assert result.stderr.startswith(f"{task['id']} completed (")
    assert result.stderr.endswith(f"output: nightshift logs {task['id']}\n")
    assert (directory / "output.jsonl").read_text() == "out\n"
    assert (directory / "stderr.log").read_text() == "err\n"


def test_codex_and_gemini_runs_complete_with_tokens(cli: CLI) -> None:
    for agent in ("codex", "gemini"):
        result = run_sync(cli, "hello [[tokens 100 20]]", agent=agent)

        assert result.returncode == 0, (agent, result.stderr)
        task = json.loads(result.stdout)
        assert task["status"] == "completed", agent
        assert task["tokens"]["total"] == 120, agent


def test_approve_sync_runs_a_staged_task(cli: CLI, store: Store) -> None:
    task_id = cli("submit", "--no-plan", "--agent", "shell", "exit 4").stdout.strip()

    result = cli("approve", "--sync", task_id)

    assert result.returncode == 1
    task = store.get(task_id)
    assert task.status is TaskStatus.FAILED
    assert task.approved_by == f"cli:{task.submitted_by}"
    assert [e.action for e in store.events(task_id)] == [
        "submit",
        "approve",
        "claim",
        "fail",
    ]


def test_logs_and_display_show_a_finished_run(cli: CLI) -> None:
    task = json.loads(run_sync(cli, "explain [[write notes.md]]").stdout)

    logs = cli("logs", task["id"])
    display = cli("display", task["id"][:9])
    watch = cli("watch", task["id"])

    assert logs.returncode == 0 and '"type":"result"' in logs.stdout.replace(" ", "")
    assert watch.stdout == logs.stdout
    assert display.returncode == 0
    assert "notes.md" in display.stdout
    assert "$" in display.stdout  # the usage line carries the cost
