"""Looking agents up by name."""

from __future__ import annotations

import pytest

from nightshift.core.agents import AGENT_NAMES, get_agent
from nightshift.core.errors import BadInputError
from nightshift.core.models import AGENTS


def test_every_agent_a_task_may_name_has_a_backend() -> None:
    assert AGENT_NAMES == AGENTS
    for name in AGENT_NAMES:
        agent = get_agent(name)
        assert agent.name == name


@pytest.mark.parametrize(
    ("name", "binary"),
    [("claude", "claude"), ("codex", "codex"), ("gemini", "gemini"), ("shell", "bash")],
)
def test_each_backend_names_its_executable(name: str, binary: str) -> None:
    assert get_agent(name).binary == binary


def test_each_lookup_gives_a_separate_object() -> None:
    assert get_agent("claude") is not get_agent("claude")


def test_an_unknown_agent_is_bad_input_listing_the_choices() -> None:
    with pytest.raises(BadInputError) as caught:
        get_agent("copilot")
    assert "'copilot'" in caught.value.message
    assert "claude, codex, gemini, shell" in caught.value.message
