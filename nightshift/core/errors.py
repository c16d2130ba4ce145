"""The one exception family every front door knows how to show."""

from __future__ import annotations


class NightShiftError(Exception):
    """A problem the user can act on: shown as one line, never a traceback."""

    title = "Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInputError(NightShiftError):
    """The request itself is malformed: empty text, bad number, bad path."""

    title = "Bad input"


class TaskNotFoundError(NightShiftError):
    """No task matches the id or prefix, or the prefix matches several."""

    title = "Unknown task"


class InvalidTransitionError(NightShiftError):
    """The task is not in a state that allows the requested action."""

    title = "Not allowed now"


class SettingsError(NightShiftError):
    """An environment variable or config file value is invalid."""

    title = "Invalid setting"


class PlannerError(NightShiftError):
    """The planner could not produce a plan (failed, timed out, garbage)."""

    title = "Planner failed"


class StoreBusyError(NightShiftError):
    """The database stayed locked by another writer for too long."""

    title = "Database busy"
