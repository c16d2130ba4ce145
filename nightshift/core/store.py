"""The task queue: one SQLite file in WAL mode, shared by every process.

Every state change is one short write transaction that checks the state it
expects (``UPDATE ... WHERE id = ? AND status IN (...)``), stamps a fresh
revision, and records who did it. Readers learn about changes from
``PRAGMA data_version`` and fetch only rows newer than the last revision they
saw.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nightshift.core.errors import (
    BadInputError,
    InvalidTransitionError,
    NightShiftError,
    StoreBusyError,
    TaskNotFoundError,
)
from nightshift.core.models import (
    DEFAULT_TIMEOUT_SECONDS,
    FINAL_STATUSES,
    TRANSITIONS,
    Action,
    ExecutorInfo,
    Plan,
    PlanVersion,
    Task,
    TaskEvent,
    TaskStatus,
    now,
)
from nightshift.core.processes import pid_alive
from nightshift.core.schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

_ID_PREFIX = "task_"
_ID_PATTERN = re.compile(r"^task_[0-9a-f]{1,8}$")

# Transitions that someone outside the process should hear about: a plan
# awaiting approval, and every way a run can end.
_NOTIFY_ON = frozenset(
    {
        TaskStatus.STAGED,
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
    }
)

# Columns the runner may update while a task runs, without a transition.
_PROGRESS_COLUMNS = frozenset(
    {
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "turns",
        "activity",
        "session_id",
        "pgid",
        "exit_code",
        "error",
        "changes",
        "finished_at",
    }
)


class _Expr(str):
    """A column value that is SQL, not a parameter (e.g. attempts + 1)."""


@dataclass(frozen=True)
class Changes:
    """What changed in the queue since a revision."""

    tasks: list[Task]
    deleted: list[str]
    revision: int


def host_name() -> str:
    return os.uname().nodename


def boot_id() -> str:
    """An id that changes when the machine reboots (so stale pids are ignored)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def _timestamp(column: str) -> str:
    return f"strftime('%Y-%m-%dT%H:%M:%fZ', {column}, 'unixepoch')"


# The task as --json prints it and other programs read it, rendered by SQLite:
# listing 10,000 tasks this way costs a few milliseconds, where building and
# encoding them in Python costs half a second.
TASK_JSON = f"""json_object(
    'id', id,
    'status', status,
    'agent', agent,
    'description', description,
    'prompt', COALESCE(json_extract(plan, '$.prompt'), description),
    'plan', json(plan),
    'plan_version', plan_version,
    'priority', priority,
    'timeout_seconds', COALESCE(
        NULLIF(timeout_seconds, 0),
        CASE WHEN json_extract(plan, '$.timeout_seconds') > 0
             THEN json_extract(plan, '$.timeout_seconds') END,
        {DEFAULT_TIMEOUT_SECONDS}),
    'workdir', workdir,
    'source', source,
    'submitted_by', submitted_by,
    'approved_by', approved_by,
    'attempts', attempts,
    'max_retries', max_retries,
    'created_at', {_timestamp("created_at")},
    'updated_at', {_timestamp("updated_at")},
    'started_at', {_timestamp("started_at")},
    'finished_at', {_timestamp("finished_at")},
    'exit_code', exit_code,
    'error', error,
    'tokens', json_object(
        'input', input_tokens,
        'output', output_tokens,
        'total', input_tokens + output_tokens),
    'cost_usd', cost_usd,
    'turns', turns,
    'activity', activity,
    'executor_id', executor_id,
    'session_id', session_id,
    'changes', json(changes),
    'revision', revision)"""


def _task_from_row(row: sqlite3.Row) -> Task:
    changes = row["changes"]
    return Task(
        id=row["id"],
        status=TaskStatus(row["status"]),
        agent=row["agent"],
        description=row["description"],
        workdir=row["workdir"],
        priority=row["priority"],
        timeout_seconds=row["timeout_seconds"],
        plan=Plan.from_json(row["plan"]),
        plan_version=row["plan_version"],
        source=row["source"],
        submitted_by=row["submitted_by"],
        approved_by=row["approved_by"],
        attempts=row["attempts"],
        max_retries=row["max_retries"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        exit_code=row["exit_code"],
        error=row["error"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cost_usd=row["cost_usd"],
        turns=row["turns"],
        activity=row["activity"],
        executor_id=row["executor_id"],
        pgid=row["pgid"],
        session_id=row["session_id"],
        changes=json.loads(changes) if changes else None,
        revision=row["revision"],
    )


def _executor_from_row(row: sqlite3.Row) -> ExecutorInfo:
    return ExecutorInfo(
        id=row["id"],
        pid=row["pid"],
        host=row["host"],
        boot_id=row["boot_id"],
        workers=row["workers"],
        busy=row["busy"],
        started_at=row["started_at"],
        heartbeat_at=row["heartbeat_at"],
        stop_requested=bool(row["stop_requested"]),
        stop_timeout=row["stop_timeout"],
    )


def normalise_task_ref(ref: str) -> str:
    """Turn what a user typed ("3fa", "task_3FA") into an id prefix."""
    text = ref.strip().lower()
    if not text.startswith(_ID_PREFIX):
        text = _ID_PREFIX + text
    if not _ID_PATTERN.match(text):
        raise TaskNotFoundError(
            f"{ref.strip()!r} is not a task id (expected task_ and up to 8 hex digits)"
        )
    return text


def _cursor(
    conn: sqlite3.Connection, sql: str, params: Any = ()
) -> closing[sqlite3.Cursor]:
    return closing(conn.execute(sql, params))


class Store:
    """An open connection to the queue; every method is one short transaction.

    A Store may be shared by threads: a lock keeps their transactions from
    interleaving on the single connection. Async code uses AsyncStore, which
    runs these same methods on a thread of its own.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._lock = threading.RLock()
        self._listeners: list[Callable[[], None]] = []

    # -- opening -----------------------------------------------------------

    @classmethod
    def open(cls, path: Path, busy_timeout: float = 60.0) -> Store:
        """Open (creating and migrating if needed) the database at path."""
        if sqlite3.sqlite_version_info < (3, 35, 0):
            raise NightShiftError(
                f"SQLite {sqlite3.sqlite_version} is too old; NightShift needs 3.35+"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(path),
            timeout=busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.row_factory = sqlite3.Row
        store = cls(conn, path)
        try:
            store._prepare()
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _prepare(self) -> None:
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._enable_wal()
        self._migrate()

    def _enable_wal(self) -> None:
        # WAL is a property of the file, so this only writes the first time.
        # Switching modes needs an exclusive lock, which a crowd of processes
        # opening a fresh database at once may briefly deny: retry a while.
        for attempt in range(200):
            with _cursor(self._conn, "PRAGMA journal_mode") as cur:
                row = cur.fetchone()
            if row is not None and str(row[0]).lower() == "wal":
                return
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                time.sleep(0.01 + attempt * 0.005)
        raise StoreBusyError(f"could not switch {self.path} to WAL mode: locked")

    def _user_version(self) -> int:
        with _cursor(self._conn, "PRAGMA user_version") as cur:
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        version = self._user_version()
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise NightShiftError(
                f"{self.path} was written by a newer NightShift "
                f"(schema {version}, this one knows {SCHEMA_VERSION})"
            )

        with self._write() as conn:
            # Another process may have migrated while we waited for the lock.
            version = self._user_version()
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number]:
                    conn.execute(statement)
                log.info("migrated %s to schema %d", self.path, number + 1)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- transactions ------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the database's write lock up front."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise StoreBusyError(
                        f"the queue database {self.path} stayed locked by "
                        "another writer; try again"
                    ) from exc
                raise
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                # Also after a failed COMMIT: never leave the connection
                # inside a transaction that the next write would trip over.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        for listener in list(self._listeners):
            listener()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """Several reads that must see one consistent state of the file."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    def add_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call back after every write this Store commits (local wake-ups).

        Returns a function that stops the calls.
        """
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    def _next_revision(self, conn: sqlite3.Connection) -> int:
        with _cursor(
            conn,
            "UPDATE counters SET value = value + 1 WHERE name = 'revision' "
            "RETURNING value",
        ) as cur:
            row = cur.fetchone()
        assert row is not None
        return int(row[0])

    def _fetch_task(self, conn: sqlite3.Connection, task_id: str) -> Task:
        with _cursor(conn, "SELECT * FROM tasks WHERE id = ?", (task_id,)) as cur:
            row = cur.fetchone()
        if row is None:
            raise TaskNotFoundError(f"no task {task_id}")
        return _task_from_row(row)

    def _record_event(
        self,
        conn: sqlite3.Connection,
        task_id: str,
        action: str,
        from_status: TaskStatus | None,
        to_status: TaskStatus,
        actor: str,
        at: float,
        detail: str = "",
    ) -> None:
        conn.execute(
            "INSERT INTO task_events "
            "(task_id, action, from_status, to_status, actor, at, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                task_id,
                action,
                from_status.value if from_status else None,
                to_status.value,
                actor,
                at,
                detail,
            ),
        )
        if to_status in _NOTIFY_ON:
            payload = {
                "action": action,
                "from": from_status.value if from_status else None,
                "to": to_status.value,
                "actor": actor,
                "detail": detail,
            }
            conn.execute(
                "INSERT INTO outbox (task_id, kind, payload, created_at) "
                "VALUES (?, ?, ?, ?)",
                (task_id, f"task.{to_status.value}", json.dumps(payload), at),
            )

    def _transition(
        self,
        conn: sqlite3.Connection,
        task_id: str,
        action: Action,
        actor: str,
        detail: str = "",
        fields: dict[str, Any] | None = None,
        extra_where: str = "",
        extra_params: Sequence[Any] = (),
    ) -> Task:
        """Move one task along one edge; raise if it is not where we expect."""
        edge = TRANSITIONS[action]
        at = now()
        revision = self._next_revision(conn)
        values: dict[str, Any] = {
            "status": edge.target.value,
            "updated_at": at,
            "revision": revision,
            **(fields or {}),
        }
        assignments = ", ".join(
            f"{name} = {value}" if isinstance(value, _Expr) else f"{name} = :{name}"
            for name, value in values.items()
        )
        sources = sorted(s.value for s in edge.sources)
        placeholders = ", ".join(f":src{i}" for i in range(len(sources)))
        params: dict[str, Any] = {
            **{k: v for k, v in values.items() if not isinstance(v, _Expr)},
            "task_id": task_id,
            **{f"src{i}": s for i, s in enumerate(sources)},
        }
        where = f"id = :task_id AND status IN ({placeholders})"
        if extra_where:
            where += f" AND {extra_where}"
            params.update({f"x{i}": v for i, v in enumerate(extra_params)})

        # The old status is read in the same transaction, so it is exact.
        with _cursor(conn, "SELECT status FROM tasks WHERE id = ?", (task_id,)) as cur:
            before = cur.fetchone()
        with _cursor(
            conn, f"UPDATE tasks SET {assignments} WHERE {where} RETURNING *", params
        ) as cur:
            row = cur.fetchone()

        if row is None:
            if before is None:
                raise TaskNotFoundError(f"no task {task_id}")
            status = before["status"]
            if status in sources:
                raise InvalidTransitionError(
                    f"cannot {action.value} {task_id}: it is no longer held "
                    "by the caller"
                )
            raise InvalidTransitionError(
                f"cannot {action.value} {task_id}: it is {status}"
            )

        self._record_event(
            conn,
            task_id,
            action.value,
            TaskStatus(before["status"]),
            edge.target,
            actor,
            at,
            detail,
        )
        return _task_from_row(row)

    # -- submitting and planning ------------------------------------------

    def create_task(
        self,
        *,
        description: str,
        agent: str,
        workdir: str,
        actor: str,
        submitted_by: str,
        source: str = "cli",
        priority: int = 0,
        timeout_seconds: int | None = None,
        max_retries: int = 0,
        plan: Plan | None = None,
    ) -> Task:
        """Insert a task: planning when it awaits a planner, staged with a plan."""
        if not description.strip():
            raise BadInputError("the description is empty")

        status = TaskStatus.STAGED if plan else TaskStatus.PLANNING
        plan_json = json.dumps(plan.to_dict()) if plan else None
        at = now()
        with self._write() as conn:
            revision = self._next_revision(conn)
            for _ in range(16):
                task_id = _ID_PREFIX + os.urandom(4).hex()
                try:
                    conn.execute(
                        "INSERT INTO tasks (id, status, agent, description, "
                        "workdir, priority, timeout_seconds, plan, plan_version, "
                        "source, submitted_by, max_retries, created_at, "
                        "updated_at, planner_pid, planner_host, revision) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            task_id,
                            status.value,
                            agent,
                            description,
                            workdir,
                            priority,
                            timeout_seconds,
                            plan_json,
                            1 if plan else 0,
                            source,
                            submitted_by,
                            max_retries,
                            at,
                            at,
                            None if plan else os.getpid(),
                            None if plan else host_name(),
                            revision,
                        ),
                    )
                    break
                except sqlite3.IntegrityError:
                    continue
            else:  # pragma: no cover - 16 collisions in 2**32 ids
                raise NightShiftError("could not allocate a task id")

            if plan is not None:
                self._insert_plan(conn, task_id, 1, plan, "", at)
            self._record_event(conn, task_id, "submit", None, status, actor, at, source)
            return self._fetch_task(conn, task_id)

    def _insert_plan(
        self,
        conn: sqlite3.Connection,
        task_id: str,
        version: int,
        plan: Plan,
        feedback: str,
        at: float,
    ) -> None:
        conn.execute(
            "INSERT INTO task_plans (task_id, version, plan, feedback, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (task_id, version, json.dumps(plan.to_dict()), feedback, at),
        )

    def set_plan(
        self, task_id: str, plan: Plan, actor: str, feedback: str = ""
    ) -> Task:
        """Store a finished plan and stage the task (planning -> staged)."""
        with self._write() as conn:
            with _cursor(
                conn, "SELECT plan_version FROM tasks WHERE id = ?", (task_id,)
            ) as cur:
                row = cur.fetchone()
            version = (int(row[0]) if row else 0) + 1
            task = self._transition(
                conn,
                task_id,
                Action.PLANNED,
                actor,
                detail=plan.warning,
                fields={
                    "plan": json.dumps(plan.to_dict()),
                    "plan_version": version,
                    "planner_pid": None,
                    "planner_host": None,
                },
            )
            self._insert_plan(conn, task_id, version, plan, feedback, now())
            return task

    def revise(self, task_id: str, feedback: str, actor: str) -> Task:
        """Send a staged task back to planning with the reviewer's feedback."""
        if not feedback.strip():
            raise BadInputError("the feedback is empty")
        with self._write() as conn:
            return self._transition(
                conn,
                task_id,
                Action.REVISE,
                actor,
                detail=feedback,
                fields={"planner_pid": os.getpid(), "planner_host": host_name()},
            )

    def stalled_plannings(self) -> list[Task]:
        """Tasks in planning whose planner process on this host has died."""
        here = host_name()
        with (
            self._read() as conn,
            _cursor(
                conn,
                "SELECT * FROM tasks WHERE status = 'planning' AND planner_host = ?",
                (here,),
            ) as cur,
        ):
            rows = cur.fetchall()
        stalled = []
        for row in rows:
            pid = row["planner_pid"]
            if pid is None or not pid_alive(pid):
                stalled.append(_task_from_row(row))
        return stalled

    # -- reviewing and controlling ---------------------------------------

    def apply(self, task_id: str, action: Action, actor: str, detail: str = "") -> Task:
        """Take a user's action (approve, cancel, pause, resume, kill, retry)."""
        fields: dict[str, Any] = {}
        if action is Action.APPROVE:
            fields["approved_by"] = actor
        elif action is Action.KILL or action is Action.CANCEL:
            fields["finished_at"] = now()
            verb = "killed" if action is Action.KILL else "cancelled"
            fields["error"] = detail or f"{verb} by {actor}"
        elif action is Action.RETRY:
            fields.update(
                started_at=None,
                finished_at=None,
                exit_code=None,
                error=None,
                executor_id=None,
                pgid=None,
                activity="",
            )
        elif action not in (Action.PAUSE, Action.RESUME):
            raise BadInputError(f"{action.value} is not a user action")

        with self._write() as conn:
            return self._transition(
                conn, task_id, action, actor, detail=detail, fields=fields
            )

    # -- running ----------------------------------------------------------

    def claim(
        self,
        executor_id: str,
        actor: str,
        task_id: str | None = None,
        approved_by: str | None = None,
    ) -> Task | None:
        """Take the next committed task (or the one named) for an executor.

        Priority first (higher runs sooner), then age. The read and the
        guarded update share one immediate transaction, so two executors can
        never both win the same task. With approved_by, the named staged task
        is approved and claimed in that one transaction, so no other executor
        can take it in between.
        """
        with self._write() as conn:
            if task_id is None:
                with _cursor(
                    conn,
                    "SELECT id FROM tasks WHERE status = 'committed' "
                    "ORDER BY priority DESC, created_at, seq LIMIT 1",
                ) as cur:
                    row = cur.fetchone()
                if row is None:
                    return None
                task_id = str(row[0])
            elif approved_by is not None:
                self._transition(
                    conn,
                    task_id,
                    Action.APPROVE,
                    approved_by,
                    fields={"approved_by": approved_by},
                )
            return self._transition(
                conn,
                task_id,
                Action.CLAIM,
                actor,
                detail=executor_id,
                fields={
                    "executor_id": executor_id,
                    "started_at": now(),
                    "finished_at": None,
                    "attempts": _Expr("attempts + 1"),
                    "input_tokens": 0,
                    "output_tokens": 0,
                    "cost_usd": 0.0,
                    "turns": 0,
                    "activity": "starting",
                    "exit_code": None,
                    "error": None,
                    "changes": None,
                },
            )

    def update_progress(self, task_id: str, executor_id: str, **values: Any) -> bool:
        """Record live figures for a task this executor holds; False if not held.

        Also used after a kill to record the outcome (exit code, changes) on a
        task that is already cancelled.
        """
        unknown = set(values) - _PROGRESS_COLUMNS
        if unknown:
            raise ValueError(f"not progress columns: {sorted(unknown)}")
        if "changes" in values and values["changes"] is not None:
            values["changes"] = json.dumps(values["changes"])

        with self._write() as conn:
            # The revision is only taken when the row is ours, so a write by
            # an executor that lost the task leaves the change feed quiet.
            values["updated_at"] = now()
            assignments = ", ".join(f"{name} = :{name}" for name in values)
            with _cursor(
                conn,
                f"UPDATE tasks SET {assignments}, revision = "
                "(SELECT value + 1 FROM counters WHERE name = 'revision') "
                "WHERE id = :task_id AND executor_id = :executor_id",
                {**values, "task_id": task_id, "executor_id": executor_id},
            ) as cur:
                updated = cur.rowcount == 1
            if updated:
                self._next_revision(conn)
            return updated

    def finish(
        self,
        task_id: str,
        executor_id: str,
        action: Action,
        actor: str,
        *,
        error: str | None = None,
        **values: Any,
    ) -> Task:
        """End a run this executor holds: complete, fail, or requeue it."""
        if action not in (Action.COMPLETE, Action.FAIL, Action.REQUEUE):
            raise ValueError(f"{action} does not end a run")
        unknown = set(values) - _PROGRESS_COLUMNS
        if unknown:
            raise ValueError(f"not progress columns: {sorted(unknown)}")
        if values.get("changes") is not None:
            values["changes"] = json.dumps(values["changes"])

        fields: dict[str, Any] = {**values, "error": error, "pgid": None}
        if action is Action.REQUEUE:
            fields.update(executor_id=None, activity="")
        else:
            fields.setdefault("finished_at", now())
        with self._write() as conn:
            return self._transition(
                conn,
                task_id,
                action,
                actor,
                detail=error or "",
                fields=fields,
                extra_where="executor_id = :x0",
                extra_params=(executor_id,),
            )

    # -- reading ----------------------------------------------------------

    def get(self, task_id: str) -> Task:
        with self._read() as conn:
            return self._fetch_task(conn, task_id)

    def resolve(self, ref: str) -> Task:
        """Find the one task whose id starts with what the user typed."""
        prefix = normalise_task_ref(ref)
        # Ids are hex, so every id with this prefix sorts below prefix+'g'.
        with (
            self._read() as conn,
            _cursor(
                conn,
                "SELECT * FROM tasks WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
                (prefix, prefix + "g"),
            ) as cur,
        ):
            rows = cur.fetchall()
        if not rows:
            raise TaskNotFoundError(f"no task matches {ref.strip()!r}")
        if len(rows) > 1:
            raise TaskNotFoundError(
                f"{ref.strip()!r} matches several tasks; type more of the id"
            )
        return _task_from_row(rows[0])

    def list_tasks(
        self, statuses: Iterable[TaskStatus] | None = None, limit: int | None = None
    ) -> list[Task]:
        """Tasks in submission order, optionally only those in some statuses."""
        sql = "SELECT * FROM tasks"
        params: list[Any] = []
        wanted = [s.value for s in statuses] if statuses else []
        if wanted:
            sql += f" WHERE status IN ({', '.join('?' * len(wanted))})"
            params.extend(wanted)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._read() as conn, _cursor(conn, sql, params) as cur:
            rows = cur.fetchall()
        return [_task_from_row(row) for row in rows]

    def tasks_json(
        self,
        statuses: Iterable[TaskStatus] | None = None,
        ids: Sequence[str] | None = None,
    ) -> str:
        """Tasks as a JSON array text, in submission order (see TASK_JSON)."""
        sql = f"SELECT {TASK_JSON} FROM tasks"
        params: list[Any] = []
        if ids is not None:
            sql += f" WHERE id IN ({', '.join('?' * len(ids))})"
            params.extend(ids)
        elif statuses:
            wanted = [s.value for s in statuses]
            sql += f" WHERE status IN ({', '.join('?' * len(wanted))})"
            params.extend(wanted)
        sql += " ORDER BY seq"
        with self._read() as conn, _cursor(conn, sql, params) as cur:
            rows = cur.fetchall()
        return "[" + ",".join(row[0] for row in rows) + "]"

    def task_json(self, task_id: str) -> dict[str, Any]:
        """One task as the JSON object --json prints."""
        [task] = json.loads(self.tasks_json(ids=[task_id]))
        return dict(task)

    def revision(self) -> int:
        with (
            self._read() as conn,
            _cursor(conn, "SELECT value FROM counters WHERE name = 'revision'") as cur,
        ):
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def data_version(self) -> int:
        """SQLite's counter of commits made by other connections to this file."""
        with self._read() as conn, _cursor(conn, "PRAGMA data_version") as cur:
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def changes_since(self, revision: int) -> Changes:
        """Tasks changed, and ids deleted, after the given revision."""
        with self._snapshot() as conn:
            with _cursor(
                conn, "SELECT value FROM counters WHERE name = 'revision'"
            ) as cur:
                row = cur.fetchone()
            latest = int(row[0]) if row else 0
            if latest <= revision:
                return Changes([], [], latest)
            with _cursor(
                conn,
                "SELECT * FROM tasks WHERE revision > ? ORDER BY revision",
                (revision,),
            ) as cur:
                rows = cur.fetchall()
            with _cursor(
                conn,
                "SELECT task_id FROM task_deletions WHERE revision > ?",
                (revision,),
            ) as cur:
                deleted = [str(r[0]) for r in cur.fetchall()]
        return Changes([_task_from_row(r) for r in rows], deleted, latest)

    def events(self, task_id: str) -> list[TaskEvent]:
        with (
            self._read() as conn,
            _cursor(
                conn,
                "SELECT * FROM task_events WHERE task_id = ? ORDER BY id",
                (task_id,),
            ) as cur,
        ):
            rows = cur.fetchall()
        return [
            TaskEvent(
                task_id=r["task_id"],
                action=r["action"],
                from_status=r["from_status"],
                to_status=r["to_status"],
                actor=r["actor"],
                at=r["at"],
                detail=r["detail"],
            )
            for r in rows
        ]

    def plan_history(self, task_id: str) -> list[PlanVersion]:
        with (
            self._read() as conn,
            _cursor(
                conn,
                "SELECT * FROM task_plans WHERE task_id = ? ORDER BY version",
                (task_id,),
            ) as cur,
        ):
            rows = cur.fetchall()
        return [
            PlanVersion(
                version=r["version"],
                plan=Plan.from_dict(json.loads(r["plan"])),
                feedback=r["feedback"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    def clear(self, statuses: Iterable[TaskStatus] = FINAL_STATUSES) -> list[str]:
        """Delete finished tasks with their history; return the ids deleted."""
        wanted = [s.value for s in statuses]
        if not set(wanted) <= {s.value for s in FINAL_STATUSES}:
            raise BadInputError("only finished tasks can be cleared")
        marks = ", ".join("?" * len(wanted))
        with self._write() as conn:
            with _cursor(
                conn, f"SELECT id FROM tasks WHERE status IN ({marks})", wanted
            ) as cur:
                ids = [str(r[0]) for r in cur.fetchall()]
            if not ids:
                return []
            revision = self._next_revision(conn)
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS doomed (id TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM doomed")
            conn.executemany("INSERT INTO doomed (id) VALUES (?)", [(i,) for i in ids])
            # Re-check the status: the ids were read in this same transaction,
            # so nothing can have moved, but the guard costs nothing.
            conn.execute(
                f"DELETE FROM tasks WHERE id IN (SELECT id FROM doomed) "
                f"AND status IN ({marks})",
                wanted,
            )
            for table in ("task_events", "task_plans", "outbox"):
                conn.execute(
                    f"DELETE FROM {table} WHERE task_id IN (SELECT id FROM doomed)"
                )
            conn.execute(
                "INSERT INTO task_deletions (task_id, revision) "
                "SELECT id, ? FROM doomed",
                (revision,),
            )
            conn.execute("DELETE FROM doomed")
            return ids

    # -- executors --------------------------------------------------------

    def register_executor(self, executor_id: str, workers: int) -> None:
        at = now()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO executors (id, pid, host, boot_id, workers, "
                "started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (executor_id, os.getpid(), host_name(), boot_id(), workers, at, at),
            )

    def heartbeat(self, executor_id: str, busy: int) -> ExecutorInfo | None:
        """Stamp a heartbeat; returns the row (with any stop request) or None."""
        with (
            self._write() as conn,
            _cursor(
                conn,
                "UPDATE executors SET heartbeat_at = ?, busy = ? WHERE id = ? "
                "RETURNING *",
                (now(), busy, executor_id),
            ) as cur,
        ):
            row = cur.fetchone()
        return _executor_from_row(row) if row else None

    def unregister_executor(self, executor_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM executors WHERE id = ?", (executor_id,))

    def executors(self) -> list[ExecutorInfo]:
        with (
            self._read() as conn,
            _cursor(conn, "SELECT * FROM executors ORDER BY started_at") as cur,
        ):
            rows = cur.fetchall()
        return [_executor_from_row(r) for r in rows]

    def request_stop(self, timeout: float, executor_id: str | None = None) -> list[str]:
        """Ask executors (one, or all) to stop; returns the ids asked."""
        with self._write() as conn:
            sql = "UPDATE executors SET stop_requested = 1, stop_timeout = ?"
            params: list[Any] = [timeout]
            if executor_id is not None:
                sql += " WHERE id = ?"
                params.append(executor_id)
            with _cursor(conn, sql + " RETURNING id", params) as cur:
                return [str(r[0]) for r in cur.fetchall()]

    def tasks_of_executor(self, executor_id: str) -> list[Task]:
        with (
            self._read() as conn,
            _cursor(
                conn,
                "SELECT * FROM tasks WHERE executor_id = ? "
                "AND status IN ('running', 'paused') ORDER BY seq",
                (executor_id,),
            ) as cur,
        ):
            rows = cur.fetchall()
        return [_task_from_row(r) for r in rows]

    def orphaned_tasks(self) -> list[Task]:
        """Running or paused tasks whose executor has no row at all."""
        with (
            self._read() as conn,
            _cursor(
                conn,
                "SELECT * FROM tasks WHERE status IN ('running', 'paused') "
                "AND (executor_id IS NULL OR executor_id NOT IN "
                "(SELECT id FROM executors))",
            ) as cur,
        ):
            rows = cur.fetchall()
        return [_task_from_row(r) for r in rows]

    # -- outbox -----------------------------------------------------------

    def pending_notifications(self, limit: int = 100) -> list[dict[str, Any]]:
        with (
            self._read() as conn,
            _cursor(
                conn,
                "SELECT * FROM outbox WHERE delivered_at IS NULL ORDER BY id LIMIT ?",
                (limit,),
            ) as cur,
        ):
            rows = cur.fetchall()
        return [
            {
                "id": r["id"],
                "task_id": r["task_id"],
                "kind": r["kind"],
                "payload": json.loads(r["payload"]),
                "created_at": r["created_at"],
                "attempts": r["attempts"],
            }
            for r in rows
        ]

    def mark_delivered(self, notification_id: int) -> bool:
        """Mark one notification delivered; False if someone else already did."""
        with (
            self._write() as conn,
            _cursor(
                conn,
                "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1 "
                "WHERE id = ? AND delivered_at IS NULL",
                (now(), notification_id),
            ) as cur,
        ):
            return cur.rowcount == 1

    def mark_failed_delivery(self, notification_id: int, error: str) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? "
                "WHERE id = ? AND delivered_at IS NULL",
                (error, notification_id),
            )


def completion_ids(db_path: Path, statuses: Iterable[TaskStatus] = ()) -> list[str]:
    """Task ids for shell completion, read without asyncio (it must be quick).

    Opens the database read-only and never creates it; any problem gives [].
    """
    wanted = [s.value for s in statuses]
    sql = "SELECT id FROM tasks"
    if wanted:
        sql += f" WHERE status IN ({', '.join('?' * len(wanted))})"
    sql += " ORDER BY seq DESC LIMIT 500"
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return []
    try:
        return [str(row[0]) for row in conn.execute(sql, wanted)]
    except sqlite3.Error:
        return []
    finally:
        conn.close()
