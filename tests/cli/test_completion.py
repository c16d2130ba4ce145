"""Shell completion offers the task ids a command accepts, and no others."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from nightshift.core.models import TaskStatus

S = TaskStatus
SCRIPT = Path(sys.executable).parent / "nightshift"


@pytest.fixture
def complete(home: Path) -> Callable[[str], list[str]]:
    """What bash completion offers for a command line ending in a space."""
    if not SCRIPT.exists():
        pytest.skip(f"the nightshift script is not installed at {SCRIPT}")

    def offered(line: str) -> list[str]:
        words = line.split(" ")
        result = subprocess.run(
            [str(SCRIPT)],
            env={
                **os.environ,
                "_NIGHTSHIFT_COMPLETE": "bash_complete",
                "COMP_WORDS": line,
                "COMP_CWORD": str(len(words) - 1),
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        # No candidates at all is printed as one empty line.
        lines = [entry for entry in result.stdout.splitlines() if entry]
        assert all(entry.startswith("plain,") for entry in lines), lines
        return [entry.removeprefix("plain,") for entry in lines]

    return offered


@pytest.fixture
def ids(seed: Callable[..., str]) -> dict[TaskStatus, str]:
    return {status: seed(status) for status in S}


@pytest.mark.parametrize(
    ("command", "accepted"),
    [
        ("approve", {S.STAGED}),
        ("revise", {S.STAGED}),
        ("cancel", {S.PLANNING, S.STAGED, S.COMMITTED}),
        ("retry", {S.FAILED, S.CANCELLED}),
        ("show", set(S)),
        ("results", set(S)),
    ],
)
def test_completion_offers_only_accepted_tasks(
    complete: Callable[[str], list[str]],
    ids: dict[TaskStatus, str],
    command: str,
    accepted: set[TaskStatus],
) -> None:
    offered = complete(f"nightshift {command} ")

    assert sorted(offered) == sorted(ids[s] for s in accepted)


def test_completion_narrows_by_prefix(
    complete: Callable[[str], list[str]], seed: Callable[..., str]
) -> None:
    staged = [seed(S.STAGED) for _ in range(6)]
    target = staged[0]

    assert complete(f"nightshift approve {target[:12]}") == [target]
    assert complete(f"nightshift approve {target[5:12]}") == [target]
    assert complete("nightshift approve task_zzz") == []


def test_completion_without_a_database_offers_nothing(
    complete: Callable[[str], list[str]], home: Path
) -> None:
    assert complete("nightshift approve ") == []
    assert not (home / "nightshift.db").exists()
