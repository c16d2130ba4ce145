"""Fixtures for the end-to-end tier: the real Claude Code CLI, fully offline.

The CLI talks only to a fake Messages API on 127.0.0.1 (see
``tests/fakes/anthropic_api.py``) and keeps its state in a throwaway HOME.
Tests skip when the CLI is not installed. Install it into ``.e2e`` with
``npm install --prefix .e2e @anthropic-ai/claude-code@<version>``, or point
``NIGHTSHIFT_E2E_CLAUDE`` at a binary.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FAKES_DIR = REPO_ROOT / "tests" / "fakes"
INSTALLED_CLAUDE = REPO_ROOT / ".e2e" / "node_modules" / ".bin" / "claude"

# The fakes are standalone scripts rather than a package.
if str(FAKES_DIR) not in sys.path:
    sys.path.insert(0, str(FAKES_DIR))

import anthropic_api  # noqa: E402


@pytest.fixture(scope="session")
def claude_bin(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Path of a working real ``claude`` binary, or skip the test.

    ``NIGHTSHIFT_E2E_CLAUDE`` wins over the repository's ``.e2e`` install; a
    path named there that does not work fails the test instead of skipping,
    because someone asked for this tier on purpose.
    """
    configured = os.environ.get("NIGHTSHIFT_E2E_CLAUDE")
    candidate = Path(configured) if configured else INSTALLED_CLAUDE
    if not candidate.exists():
        if configured:
            pytest.fail(f"NIGHTSHIFT_E2E_CLAUDE={configured} does not exist")
        pytest.skip(f"the real Claude Code CLI is not installed at {candidate}")

    # An install whose postinstall never ran leaves a stub that only prints
    # an error, so check that the binary really starts.
    check = subprocess.run(
        [str(candidate), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path_factory.mktemp("claude-version-home")),
        },
    )
    if check.returncode != 0:
        message = f"{candidate} --version failed: {check.stderr.strip()}"
        if configured:
            pytest.fail(message)
        pytest.skip(message)
    return str(candidate)


@pytest.fixture
def fake_api() -> Iterator[anthropic_api.FakeAnthropicAPI]:
    """A fake Anthropic Messages API serving on 127.0.0.1 for one test."""
    with anthropic_api.FakeAnthropicAPI() as api:
        yield api


@pytest.fixture
def offline_env(
    fake_api: anthropic_api.FakeAnthropicAPI, tmp_path: Path
) -> dict[str, str]:
    """Environment that runs the CLI against ``fake_api`` with a fresh HOME."""
    home = tmp_path / "home"
    home.mkdir()
    return anthropic_api.offline_env(fake_api.base_url, str(home))
