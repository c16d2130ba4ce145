"""Running totals of one agent run, folded from its normalised events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from nightshift.core.agents.base import (
    AgentEvent,
    Error,
    Init,
    Result,
    Text,
    ToolCall,
    ToolResult,
    Usage,
)

ACTIVITY_WIDTH = 160


def _flat(text: str, width: int = ACTIVITY_WIDTH) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def describe_tool_call(call: ToolCall) -> str:
    """A one-line summary of a tool call: the tool and its main argument."""
    for key in ("command", "file_path", "path", "pattern", "url", "query"):
        value = call.input.get(key)
        if isinstance(value, str) and value:
            return f"{call.tool}: {value}"
    if call.input:
        return f"{call.tool}: {json.dumps(call.input, ensure_ascii=False)}"
    return call.tool


@dataclass
class Progress:
    """Tokens, cost, turns and a "doing now" line, as the run goes on."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    turns: int = 0
    session_id: str = ""
    activity: str = ""
    result: Result | None = None
    errors: list[Error] = field(default_factory=list)
    malformed_lines: int = 0
    dirty: bool = False
    """Whether anything changed since the figures were last saved."""

    def apply(self, event: AgentEvent) -> None:
        self.dirty = True
        if isinstance(event, Init):
            self.session_id = event.session_id or self.session_id
            self.activity = f"started{f' ({event.model})' if event.model else ''}"
        elif isinstance(event, Text):
            if event.text.strip():
                self.activity = _flat(event.text)
        elif isinstance(event, ToolCall):
            self.activity = _flat(describe_tool_call(event))
        elif isinstance(event, ToolResult):
            if event.is_error:
                self.activity = _flat(f"tool error: {event.output}")
        elif isinstance(event, Usage):
            self.input_tokens += event.input_tokens
            self.output_tokens += event.output_tokens
            self.cost_usd += event.cost_usd
        elif isinstance(event, Result):
            self._apply_result(event)
        elif isinstance(event, Error):
            self.errors.append(event)
            self.activity = _flat(f"error: {event.message}")

    def _apply_result(self, result: Result) -> None:
        self.result = result
        if result.input_tokens is not None:
            self.input_tokens = result.input_tokens
        if result.output_tokens is not None:
            self.output_tokens = result.output_tokens
        if result.cost_usd is not None:
            self.cost_usd = result.cost_usd
        if result.turns is not None:
            self.turns = result.turns
        self.session_id = result.session_id or self.session_id
        if result.is_error:
            self.activity = _flat(f"failed: {result.text}")
        elif result.denied_tools:
            self.activity = _flat(
                f"finished; refused tools: {', '.join(result.denied_tools)}"
            )
        else:
            self.activity = "finished"

    def figures(self) -> dict[str, Any]:
        """The columns saved on the task while it runs."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "turns": self.turns,
            "activity": self.activity,
            "session_id": self.session_id or None,
        }

    def failure(self) -> str | None:
        """Why the agent itself says the run failed, or None."""
        auth = next((e for e in self.errors if e.auth), None)
        if auth is not None:
            return f"authentication failed: {auth.message}"
        if self.result is not None and self.result.is_error:
            return self.result.text or "the agent reported an error"
        return None
