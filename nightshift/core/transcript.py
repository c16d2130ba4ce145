"""Agent events turned into a transcript a person can read."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from rich.text import Text as RichText

from nightshift.core.agents.base import (
    Agent,
    AgentEvent,
    Error,
    Init,
    Result,
    Text,
    ToolCall,
    ToolResult,
    Usage,
)
from nightshift.core.progress import Progress

log = logging.getLogger(__name__)

# A line longer than this is skipped rather than held in memory: no agent
# event worth showing is that large, and a log may be hundreds of megabytes.
MAX_LINE_BYTES = 16 * 1024 * 1024

RESULT_LINES = 10
RESULT_CHARS = 1500
INPUT_VALUE_CHARS = 200
INPUT_CHARS = 500

# Terminal escape sequences and control characters in agent output could
# move the cursor or recolour the screen; tabs and newlines are kept.
_CONTROL = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # operating system commands (titles)
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # colours and cursor movement
    r"|\x1b[@-_]"
    r"|[\x00-\x08\x0b-\x1f\x7f]"
)


def read_events(path: str | Path, agent: Agent) -> Iterator[AgentEvent]:
    """The events in an agent's output log, read one line at a time.

    Lines the agent cannot read are skipped, and a missing or unreadable
    file gives no events.
    """
    try:
        with open(path, "rb") as handle:
            for line in _lines(handle):
                yield from agent.parse_line(line)
    except OSError as exc:
        log.debug("stopped reading the transcript at %s: %s", path, exc)


def _lines(handle: IO[bytes]) -> Iterator[str]:
    skipping = False
    while chunk := handle.readline(MAX_LINE_BYTES):
        complete = chunk.endswith(b"\n")
        if skipping:
            skipping = not complete
            continue
        if not complete and len(chunk) == MAX_LINE_BYTES:
            skipping = True
            continue
        yield chunk.decode("utf-8", errors="replace")


def render_transcript(events: Iterable[AgentEvent]) -> Iterator[RichText]:
    """Readable lines for a whole run, ending with a usage summary."""
    renderer = TranscriptRenderer()
    for event in events:
        yield from renderer.feed(event)
    yield from renderer.finish()


class TranscriptRenderer:
    """Renders events one at a time, for a transcript that is still growing.

    Streamed text fragments are held back until the block they belong to
    ends, and token, cost and turn totals are kept for the summary line.
    """

    def __init__(self) -> None:
        self.totals = Progress()
        self._has_usage = False
        self._fragments: list[str] = []

    def feed(self, event: AgentEvent) -> list[RichText]:
        """The lines this event adds to the transcript."""
        if isinstance(event, Text) and event.delta:
            self._fragments.append(event.text)
            return []
        lines = self._flush()
        line = self._render(event)
        if line is not None:
            lines.append(line)
        return lines

    def finish(self) -> list[RichText]:
        """The last lines: any held-back text, then the usage summary."""
        lines = self._flush()
        if self._has_usage:
            lines.append(self.summary())
        return lines

    def summary(self) -> RichText:
        """One line with the tokens, turns and cost so far."""
        totals = self.totals
        parts = [
            f"{totals.input_tokens:,} tokens in",
            f"{totals.output_tokens:,} out",
        ]
        if totals.result is not None and totals.result.turns is not None:
            turns = totals.result.turns
            parts.append(f"{turns} turn" + ("" if turns == 1 else "s"))
        if totals.cost_usd:
            parts.append(f"${totals.cost_usd:.4f}")
        return RichText(" · ".join(parts), style="dim")

    def _flush(self) -> list[RichText]:
        if not self._fragments:
            return []
        text = "".join(self._fragments)
        self._fragments = []
        return [RichText(clean(text))]

    def _render(self, event: AgentEvent) -> RichText | None:
        if isinstance(event, Text):
            return RichText(clean(event.text))
        if isinstance(event, ToolCall):
            return RichText.assemble(
                ("→ ", "cyan"),
                (clean(event.tool), "bold cyan"),
                " ",
                (compact_json(event.input), "dim"),
            )
        if isinstance(event, ToolResult):
            style = "red" if event.is_error else "dim"
            return RichText.assemble(("  ← ", style), (_result_body(event), style))
        if isinstance(event, Usage):
            self._count(event)
            return None
        if isinstance(event, Result):
            return self._finish_line(event)
        if isinstance(event, Error):
            label = "Login needed: " if event.auth else "Error: "
            return RichText.assemble((label, "bold red"), (clean(event.message), "red"))
        return _init_line(event)

    def _count(self, usage: Usage) -> None:
        self._has_usage = True
        self.totals.apply(usage)

    def _finish_line(self, result: Result) -> RichText:
        # The agent's own totals replace the running sums.
        self._has_usage = True
        self.totals.apply(result)
        if not result.is_error and result.denied_tools:
            return RichText.assemble(
                ("✓ Finished", "bold green"),
                (f" (refused tools: {', '.join(result.denied_tools)})", "yellow"),
            )
        if not result.is_error:
            return RichText("✓ Finished", style="bold green")
        return RichText.assemble(
            ("✗ Failed: ", "bold red"), (clip(clean(result.text), RESULT_CHARS), "red")
        )


def _init_line(event: Init) -> RichText:
    details = ["Session started"]
    if event.session_id:
        details.append(event.session_id)
    if event.model:
        details.append(f"model {event.model}")
    return RichText(" · ".join(details), style="dim")


def _result_body(result: ToolResult) -> str:
    text = clean(result.output).rstrip("\n")
    if not text:
        return "(error, no output)" if result.is_error else "(no output)"
    lines = text.split("\n")
    shown = "\n    ".join(lines[:RESULT_LINES])
    shown = clip(shown, RESULT_CHARS)
    if len(lines) > RESULT_LINES:
        shown += f"\n    … {len(lines) - RESULT_LINES:,} more lines"
    return shown


def clean(text: str) -> str:
    """Text with terminal escape sequences and control characters removed."""
    return _CONTROL.sub("", text)


def clip(text: str, limit: int) -> str:
    """Text cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def compact_json(value: dict[str, Any]) -> str:
    """A tool's input on one line, with long values shortened."""
    text = json.dumps(
        _shorten(value), ensure_ascii=False, separators=(",", ":"), default=str
    )
    return clip(clean(text), INPUT_CHARS)


def _shorten(value: Any) -> Any:
    if isinstance(value, str):
        return clip(value, INPUT_VALUE_CHARS)
    if isinstance(value, dict):
        return {str(k): _shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_shorten(v) for v in value[:20]]
        if len(value) > 20:
            items.append(f"… {len(value) - 20} more")
        return items
    return value
