"""One backend per agent CLI, looked up by the name a task carries."""

from __future__ import annotations

from collections.abc import Callable

from nightshift.core.agents.base import Agent
from nightshift.core.agents.claude import ClaudeAgent
from nightshift.core.agents.codex import CodexAgent
from nightshift.core.agents.gemini import GeminiAgent
from nightshift.core.agents.shell import ShellAgent
from nightshift.core.errors import BadInputError

_FACTORIES: dict[str, Callable[[], Agent]] = {
    "claude": ClaudeAgent,
    "codex": CodexAgent,
    "gemini": GeminiAgent,
    "shell": ShellAgent,
}

AGENT_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def get_agent(name: str) -> Agent:
    """A fresh backend for the named agent; use one per run.

    Raises:
        BadInputError: no agent has this name.
    """
    factory = _FACTORIES.get(name)
    if factory is None:
        choices = ", ".join(AGENT_NAMES)
        raise BadInputError(f"unknown agent {name!r}; choose one of {choices}")
    return factory()


__all__ = ["AGENT_NAMES", "Agent", "get_agent"]
