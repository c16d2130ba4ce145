"""Settings: environment variables over config.toml over defaults."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from nightshift.core.errors import SettingsError
from nightshift.core.models import AGENTS, DEFAULT_TIMEOUT_SECONDS

ENV_PREFIX = "NIGHTSHIFT_"


@dataclass(frozen=True)
class Settings:
    """Everything NightShift reads from its environment, resolved once."""

    home: Path
    """Where the database, task logs and config.toml live."""
    agent: str = "claude"
    """The agent a task runs with when the submitter names none."""
    max_workers: int = 3
    """How many tasks one executor runs at once."""
    poll_interval: float = 1.0
    """Seconds an idle worker waits before looking for work unprompted."""
    auto_executor: bool = True
    """Start a background executor on approval when none is running."""
    planner_timeout: float = 180.0
    """Seconds the planner may take before the direct plan is used."""
    default_timeout: int = DEFAULT_TIMEOUT_SECONDS
    """Running-time limit for a task whose plan names none."""
    stop_timeout: float = 30.0
    """Seconds running tasks get to finish when an executor stops."""
    heartbeat_interval: float = 2.0
    """Seconds between an executor's heartbeats."""
    executor_lost_after: float = 10.0
    """Heartbeat silence after which an executor's tasks are taken over."""
    busy_timeout: float = 60.0
    """Seconds a write waits for another writer before giving up."""
    max_output_mb: int = 64
    """Agent output (stdout and stderr) kept per run; past it the run fails.

    An unattended agent stuck in a loop could otherwise fill a disk overnight.
    """
    kill_grace: float = 5.0
    """Seconds between TERM and KILL when a task is stopped."""

    @property
    def db_path(self) -> Path:
        return self.home / "nightshift.db"

    @property
    def config_path(self) -> Path:
        return self.home / "config.toml"

    @property
    def tasks_dir(self) -> Path:
        return self.home / "tasks"

    def task_dir(self, task_id: str) -> Path:
        return self.tasks_dir / task_id


def _parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _parse_positive_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError("expected a whole number")
    value = int(str(raw).strip())
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _parse_positive_float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError("expected a number")
    value = float(str(raw).strip())
    if not value > 0 or value == float("inf"):
        raise ValueError("must be a positive number")
    return value


def _parse_agent(raw: Any) -> str:
    name = str(raw).strip()
    if name not in AGENTS:
        raise ValueError(f"expected one of {', '.join(AGENTS)}")
    return name


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "agent": _parse_agent,
    "max_workers": _parse_positive_int,
    "poll_interval": _parse_positive_float,
    "auto_executor": _parse_bool,
    "planner_timeout": _parse_positive_float,
    "default_timeout": _parse_positive_int,
    "stop_timeout": _parse_positive_float,
    "heartbeat_interval": _parse_positive_float,
    "executor_lost_after": _parse_positive_float,
    "busy_timeout": _parse_positive_float,
    "max_output_mb": _parse_positive_int,
    "kill_grace": _parse_positive_float,
}

# Tables in config.toml that other parts of NightShift read for themselves.
_SECTIONS = {"slack", "notify"}


def _read_config(path: Path) -> dict[str, Any]:
    # Imported here: most commands run without a config file, and this is on
    # the start-up path of every command.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised only on Python 3.10
        import tomli as tomllib

    try:
        with path.open("rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"config file {path} is invalid: {exc}") from exc

    for key in data:
        if key not in _PARSERS and key not in _SECTIONS:
            raise SettingsError(f"config file {path}: unknown setting {key!r}")
    return data


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Resolve settings from the environment and $NIGHTSHIFT_HOME/config.toml.

    Raises:
        SettingsError: a value is invalid; the message names the setting.
    """
    env = os.environ if env is None else env
    home_raw = env.get(f"{ENV_PREFIX}HOME") or "~/.nightshift"
    home = Path(home_raw).expanduser().resolve()
    config = _read_config(home / "config.toml")

    values: dict[str, Any] = {}
    for field in fields(Settings):
        parse = _PARSERS.get(field.name)
        if parse is None:
            continue
        env_name = f"{ENV_PREFIX}{field.name.upper()}"
        if env_name in env and env[env_name].strip() != "":
            raw, origin = env[env_name], env_name
        elif field.name in config:
            raw, origin = config[field.name], f"{field.name} in {home / 'config.toml'}"
        else:
            continue
        try:
            values[field.name] = parse(raw)
        except ValueError as exc:
            raise SettingsError(f"invalid {origin}={raw!r}: {exc}") from None

    return Settings(home=home, **values)


def section(settings: Settings, name: str) -> dict[str, Any]:
    """A table of config.toml that a front door reads for itself."""
    data = _read_config(settings.config_path)
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise SettingsError(
            f"config file {settings.config_path}: [{name}] must be a table"
        )
    return dict(table)
