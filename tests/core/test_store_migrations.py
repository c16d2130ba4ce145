"""Opening the database: numbered migrations, refusing newer files, WAL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from nightshift.core.errors import NightShiftError
from nightshift.core.schema import MIGRATIONS, SCHEMA_VERSION
from nightshift.core.store import Store
from tests.queue_helpers import create

TABLES = {
    "tasks",
    "task_events",
    "task_plans",
    "outbox",
    "executors",
    "counters",
    "task_deletions",
}


def _pragma(path: Path, name: str) -> object:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def _schema(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master ORDER BY name"
        ).fetchall()
    finally:
        conn.close()
    return [(str(name), str(sql)) for name, sql in rows]


def test_fresh_database_gets_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "nightshift.db"

    with Store.open(path) as store:
        assert store.revision() == 0

    assert SCHEMA_VERSION == len(MIGRATIONS) >= 1
    assert _pragma(path, "user_version") == SCHEMA_VERSION
    assert {name for name, _ in _schema(path)} >= TABLES


def test_database_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "nightshift.db"
    Store.open(path).close()

    assert str(_pragma(path, "journal_mode")).lower() == "wal"


def test_reopening_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "nightshift.db"
    with Store.open(path) as store:
        task = create(store)
        revision = store.revision()
    schema = _schema(path)
    watcher = sqlite3.connect(path)
    data_version = watcher.execute("PRAGMA data_version").fetchone()[0]

    with Store.open(path) as again:
        assert again.get(task.id).description == task.description
        assert again.revision() == revision

    # No other connection committed anything while the store reopened.
    assert watcher.execute("PRAGMA data_version").fetchone()[0] == data_version
    watcher.close()
    assert _schema(path) == schema
    assert _pragma(path, "user_version") == SCHEMA_VERSION


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nightshift.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()

    with pytest.raises(NightShiftError, match="newer NightShift"):
        Store.open(path)

    assert _pragma(path, "user_version") == SCHEMA_VERSION + 1


def test_an_empty_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "nightshift.db"
    sqlite3.connect(path).close()
    assert _pragma(path, "user_version") == 0

    with Store.open(path) as store:
        create(store)

    assert _pragma(path, "user_version") == SCHEMA_VERSION
