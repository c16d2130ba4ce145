"""Reading one line of an agent's JSON output without trusting its shape.

Agent CLIs change their formats between releases and interleave warnings with
their events, so every lookup here falls back to an empty value instead of
raising.
"""

from __future__ import annotations

import json
from typing import Any


def load_object(line: str) -> dict[str, Any] | None:
    """The JSON object on this line, or None for anything else."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def get_str(obj: dict[str, Any], key: str) -> str:
    """A string field, or "" when it is missing or not a string."""
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def get_int(obj: dict[str, Any], key: str) -> int | None:
    """A whole-number field, or None when it is missing or not a number."""
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return int(value)


def get_count(obj: dict[str, Any], key: str) -> int:
    """A token or item count: a non-negative whole number, 0 when absent."""
    return max(get_int(obj, key) or 0, 0)


def get_float(obj: dict[str, Any], key: str) -> float | None:
    """A numeric field as a float, or None when it is missing or not a number."""
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None


def get_dict(obj: dict[str, Any], key: str) -> dict[str, Any]:
    """An object field, or {} when it is missing or not an object."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def get_list(obj: dict[str, Any], key: str) -> list[Any]:
    """An array field, or [] when it is missing or not an array."""
    value = obj.get(key)
    return value if isinstance(value, list) else []


def dicts(values: list[Any]) -> list[dict[str, Any]]:
    """The objects in an array, skipping anything else."""
    return [value for value in values if isinstance(value, dict)]
