"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nightshift.core.store import Store

FAKES_DIR = Path(__file__).parent / "fakes"


@pytest.fixture
def fake_agents_path(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the fake claude, codex and gemini CLIs first on PATH.

    This interpreter's directory comes next, so the fakes' `env python3` finds
    it rather than a slow version-manager shim.
    """
    entries = [str(FAKES_DIR), str(Path(sys.executable).parent)]
    monkeypatch.setenv("PATH", os.pathsep.join([*entries, os.environ.get("PATH", "")]))
    return FAKES_DIR


# -- the queue and the command line, on throwaway files ----------------------

AGENT_BINARIES = ("claude", "codex", "gemini")


def _path_without_agents(path: str) -> str:
    """PATH minus directories holding a real agent CLI (the fakes stay)."""
    kept = [
        entry
        for entry in path.split(os.pathsep)
        if entry
        and (
            Path(entry) == FAKES_DIR
            or not any((Path(entry) / name).exists() for name in AGENT_BINARIES)
        )
    ]
    return os.pathsep.join(kept)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh NIGHTSHIFT_HOME; no background executor, no real agent CLIs."""
    path = tmp_path / "nightshift-home"
    path.mkdir()
    for name in list(os.environ):
        if name.startswith("NIGHTSHIFT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NIGHTSHIFT_HOME", str(path))
    monkeypatch.setenv("NIGHTSHIFT_AUTO_EXECUTOR", "0")
    monkeypatch.setenv("PATH", _path_without_agents(os.environ.get("PATH", "")))
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A sync Store on a database file of its own."""
    with Store.open(tmp_path / "queue.db") as opened:
        yield opened


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty directory the CLI runs in (and submits tasks for)."""
    path = tmp_path / "work"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def run_cli(
    home: Path, workdir: Path
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m nightshift ARGS` as a user would, in workdir."""

    def run(
        *args: str,
        stdin: bytes | None = None,
        env: dict[str, str | None] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        # env adds to (or, with None, removes from) the test's environment.
        full_env = dict(os.environ)
        for name, value in (env or {}).items():
            if value is None:
                full_env.pop(name, None)
            else:
                full_env[name] = value
        proc = subprocess.run(
            [sys.executable, "-m", "nightshift", *args],
            input=stdin if stdin is not None else b"",
            capture_output=True,
            env=full_env,
            cwd=cwd or workdir,
            timeout=300,
        )
        return subprocess.CompletedProcess(
            proc.args,
            proc.returncode,
            proc.stdout.decode("utf-8"),
            proc.stderr.decode("utf-8"),
        )

    return run


@pytest.fixture
def db_dump() -> Callable[[Path], list[str]]:
    """Every row of a database file as SQL, to prove a command changed nothing."""

    def dump(path: Path) -> list[str]:
        conn = sqlite3.connect(path)
        try:
            return list(conn.iterdump())
        finally:
            conn.close()

    return dump
