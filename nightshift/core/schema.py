"""The database schema, as numbered migrations recorded in PRAGMA user_version."""

from __future__ import annotations

# Each migration is a list of statements applied in one transaction. Append
# new migrations; never edit one that has shipped, since old databases have
# already run it.
MIGRATIONS: list[list[str]] = [
    [
        """
        CREATE TABLE tasks (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            agent TEXT NOT NULL,
            description TEXT NOT NULL,
            workdir TEXT NOT NULL,
            priority INTEGER NOT NULL DEFAULT 0,
            timeout_seconds INTEGER,
            plan TEXT,
            plan_version INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL,
            submitted_by TEXT NOT NULL,
            approved_by TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            max_retries INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            exit_code INTEGER,
            error TEXT,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            turns INTEGER NOT NULL DEFAULT 0,
            activity TEXT NOT NULL DEFAULT '',
            executor_id TEXT,
            pgid INTEGER,
            session_id TEXT,
            changes TEXT,
            planner_pid INTEGER,
            planner_host TEXT,
            revision INTEGER NOT NULL
        )
        """,
        "CREATE INDEX tasks_queue ON tasks (status, priority DESC, created_at, seq)",
        "CREATE INDEX tasks_revision ON tasks (revision)",
        """
        CREATE TABLE task_events (
            id INTEGER PRIMARY KEY,
            task_id TEXT NOT NULL,
            action TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT NOT NULL,
            actor TEXT NOT NULL,
            at REAL NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )
        """,
        "CREATE INDEX task_events_task ON task_events (task_id, id)",
        """
        CREATE TABLE task_plans (
            task_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            plan TEXT NOT NULL,
            feedback TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            PRIMARY KEY (task_id, version)
        )
        """,
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            task_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at REAL NOT NULL,
            delivered_at REAL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        )
        """,
        "CREATE INDEX outbox_pending ON outbox (delivered_at, id)",
        """
        CREATE TABLE executors (
            id TEXT PRIMARY KEY,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            boot_id TEXT NOT NULL,
            workers INTEGER NOT NULL,
            busy INTEGER NOT NULL DEFAULT 0,
            started_at REAL NOT NULL,
            heartbeat_at REAL NOT NULL,
            stop_requested INTEGER NOT NULL DEFAULT 0,
            stop_timeout REAL
        )
        """,
        """
        CREATE TABLE counters (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        )
        """,
        "INSERT INTO counters (name, value) VALUES ('revision', 0)",
        """
        CREATE TABLE task_deletions (
            task_id TEXT NOT NULL,
            revision INTEGER NOT NULL
        )
        """,
        "CREATE INDEX task_deletions_revision ON task_deletions (revision)",
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)
