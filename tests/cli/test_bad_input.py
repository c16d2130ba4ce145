"""Bad input: one `error:` line on stderr, exit 2, and the queue untouched."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from nightshift.core.models import TaskStatus
from tests.cli.conftest import CLI

S = TaskStatus
Dump = Callable[[Path], list[str]]


@dataclass(frozen=True)
class Queue:
    """Ids of seeded tasks, and paths a case may point at."""

    staged: str
    committed: str
    cancelled: str
    failed: str
    missing: str
    ambiguous: str
    tmp: Path


@pytest.fixture
def queue(seed: Callable[..., str], tmp_path: Path) -> Queue:
    ids = {status: seed(status) for status in S}
    # Seventeen more guarantee two ids that share their first hex digit.
    extra = [seed(S.STAGED) for _ in range(17)]
    everything = [*ids.values(), *extra]
    firsts = [task_id[5] for task_id in everything]
    shared = next(f for f in firsts if firsts.count(f) > 1)
    missing = next(
        f"task_{n:08x}" for n in range(1, 99) if f"task_{n:08x}" not in everything
    )
    (tmp_path / "a-file").write_text("not a directory")
    return Queue(
        staged=ids[S.STAGED],
        committed=ids[S.COMMITTED],
        cancelled=ids[S.CANCELLED],
        failed=ids[S.FAILED],
        missing=missing,
        ambiguous=shared,
        tmp=tmp_path,
    )


def assert_refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]


SHELL = ("submit", "--agent", "shell")
CASES: dict[str, tuple[Callable[[Queue], list[str]], bytes | None, str]] = {
    "empty description": (lambda q: [*SHELL, ""], None, "the description is empty"),
    "whitespace description": (
        lambda q: [*SHELL, "  \n\t "],
        None,
        "the description is empty",
    ),
    "whitespace on stdin": (lambda q: [*SHELL, "-"], b" \n\n", "description is empty"),
    "stdin not utf-8": (lambda q: [*SHELL, "-"], b"\xff\xfe\xfa", "not UTF-8"),
    "unknown agent": (
        lambda q: ["submit", "--agent", "gpt", "do it"],
        None,
        "'gpt' is not one of",
    ),
    "zero timeout": (
        lambda q: [*SHELL, "--timeout", "0", "ls"],
        None,
        "timeout must be a positive",
    ),
    "negative timeout": (
        lambda q: [*SHELL, "--timeout", "-5", "ls"],
        None,
        "timeout must be a positive",
    ),
    "timeout not a number": (
        lambda q: [*SHELL, "--timeout", "soon", "ls"],
        None,
        "'--timeout'",
    ),
    "missing workdir": (
        lambda q: [*SHELL, "--workdir", str(q.tmp / "nowhere"), "ls"],
        None,
        str(Path("nowhere")),
    ),
    "workdir is a file": (
        lambda q: [*SHELL, "--workdir", str(q.tmp / "a-file"), "ls"],
        None,
        "a-file",
    ),
    "sync without auto-approve": (
        lambda q: [*SHELL, "--sync", "true"],
        None,
        "--sync needs --auto-approve",
    ),
    "no description": (lambda q: ["submit"], None, "Missing argument"),
    "unknown command": (lambda q: ["frobnicate"], None, "No such command"),
    "unknown id": (lambda q: ["approve", q.missing], None, "no task matches"),
    "unknown id shown": (lambda q: ["show", q.missing], None, "no task matches"),
    "ambiguous prefix": (lambda q: ["cancel", q.ambiguous], None, "matches several"),
    "malformed id": (lambda q: ["approve", "zzz"], None, "is not a task id"),
    "approve a cancelled task": (
        lambda q: ["approve", q.cancelled],
        None,
        "it is cancelled",
    ),
    "approve a committed task": (
        lambda q: ["approve", q.committed],
        None,
        "it is committed",
    ),
    "retry a staged task": (lambda q: ["retry", q.staged], None, "it is staged"),
    "cancel a failed task": (lambda q: ["cancel", q.failed], None, "it is failed"),
    "revise a committed task": (
        lambda q: ["revise", q.committed, "smaller"],
        None,
        "it is committed",
    ),
    "revise with empty feedback": (
        lambda q: ["revise", q.staged, "   "],
        None,
        "the feedback is empty",
    ),
    "unknown status filter": (
        lambda q: ["queue", "--status", "sleeping"],
        None,
        "'--status'",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_is_refused(
    run_cli: CLI, queue: Queue, db: Path, db_dump: Dump, case: str
) -> None:
    args, stdin, message = CASES[case]
    before = db_dump(db)

    result = run_cli(*args(queue), stdin=stdin)

    assert_refused(result, message)
    assert db_dump(db) == before


def test_cancel_a_completed_task_is_refused(
    run_cli: CLI, db: Path, db_dump: Dump
) -> None:
    done = run_cli("submit", "--agent", "shell", "--auto-approve", "--sync", "true")
    assert done.returncode == 0, done.stderr
    task_id = done.stdout.strip()
    before = db_dump(db)

    result = run_cli("cancel", task_id)

    assert_refused(result, f"cannot cancel {task_id}: it is completed")
    assert db_dump(db) == before


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NIGHTSHIFT_MAX_WORKERS", "0"),
        ("NIGHTSHIFT_POLL_INTERVAL", "often"),
        ("NIGHTSHIFT_AUTO_EXECUTOR", "perhaps"),
        ("NIGHTSHIFT_AGENT", "gpt"),
    ],
)
def test_invalid_environment_setting_is_refused(
    run_cli: CLI, queue: Queue, db: Path, db_dump: Dump, name: str, value: str
) -> None:
    before = db_dump(db)

    for args in (["queue"], [*SHELL, "ls"], ["approve", queue.staged]):
        result = run_cli(*args, env={name: value})
        assert_refused(result, name)

    assert db_dump(db) == before


@pytest.mark.parametrize(
    "text",
    ["max_workers = \n", "colour = 'red'\n", "max_workers = 'three'\n", "[[slack]\n"],
)
def test_invalid_config_file_is_refused(
    run_cli: CLI, queue: Queue, home: Path, db: Path, db_dump: Dump, text: str
) -> None:
    (home / "config.toml").write_text(text)
    before = db_dump(db)

    for args in (["queue"], [*SHELL, "ls"], ["approve", queue.staged]):
        result = run_cli(*args)
        assert_refused(result, str(home / "config.toml"))

    assert db_dump(db) == before


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root reads any directory, so none is unreadable"
)
def test_unreadable_workdir_is_refused(
    run_cli: CLI, queue: Queue, tmp_path: Path, db: Path, db_dump: Dump
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    before = db_dump(db)
    try:
        result = run_cli(*SHELL, "--workdir", str(locked), "ls")
    finally:
        locked.chmod(0o755)

    assert_refused(result, "is not readable")
    assert db_dump(db) == before
