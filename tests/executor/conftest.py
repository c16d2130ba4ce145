"""Fixtures for running tasks: a queue home, fake agents, and executors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nightshift.core.settings import Settings, load_settings
from nightshift.core.store import Store

FAKES_DIR = Path(__file__).parents[1] / "fakes"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A NightShift home with fake agents first on PATH and quick heartbeats.

    Set in this process too, so in-process executors and subprocesses agree.
    """
    values = {
        "NIGHTSHIFT_HOME": str(tmp_path / "home"),
        "NIGHTSHIFT_AUTO_EXECUTOR": "0",
        "NIGHTSHIFT_HEARTBEAT_INTERVAL": "0.3",
        "NIGHTSHIFT_EXECUTOR_LOST_AFTER": "1.5",
        "NIGHTSHIFT_STOP_TIMEOUT": "5",
        "NIGHTSHIFT_POLL_INTERVAL": "0.5",
        "FAKE_AGENT_LOG": str(tmp_path / "agent-log.jsonl"),
        "PATH": os.pathsep.join(
            [str(FAKES_DIR), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    yield {**os.environ, **values}
    # Agents live in sessions of their own and outlive a killed executor.
    kill_processes_of_home(values["NIGHTSHIFT_HOME"])


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store.open(settings.db_path) as opened:
        yield opened


CLI = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(env: dict[str, str], workdir: Path) -> CLI:
    """Run `nightshift ARGS...` as a real process in the workdir."""

    def run(*args: str, input: str | None = None, timeout: float = 60):
        return subprocess.run(
            [sys.executable, "-m", "nightshift", *args],
            env=env,
            cwd=workdir,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture
def submit(cli: CLI) -> Callable[..., str]:
    """Submit a task without planning and return its id."""

    def run(description: str, *options: str, agent: str = "claude") -> str:
        result = cli("submit", "--no-plan", "--agent", agent, *options, description)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    return run


@pytest.fixture
def executor_process(
    env: dict[str, str], workdir: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `nightshift executor start` processes; all are killed afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nightshift", "executor", "start", *args],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if proc.stderr:
            proc.stderr.close()


def kill_processes_of_home(home: str) -> None:
    """SIGKILL every process started with this test's NIGHTSHIFT_HOME."""
    marker = f"NIGHTSHIFT_HOME={home}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue
