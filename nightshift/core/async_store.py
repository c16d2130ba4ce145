"""The queue for asyncio code: Store's methods, each run on one store thread.

Every Store method is a whole transaction, so one hop to the store thread
per call is all it costs; the event loop never blocks on SQLite's busy wait.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from nightshift.core.models import Action, Task
from nightshift.core.store import Store

P = ParamSpec("P")
R = TypeVar("R")


def _threaded(
    method: Callable[Concatenate[Store, P], R],
) -> Callable[Concatenate[AsyncStore, P], Coroutine[Any, Any, R]]:
    async def call(self: AsyncStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await self._call(functools.partial(method, self.sync, *args, **kwargs))

    call.__name__ = method.__name__
    call.__doc__ = method.__doc__
    return call


class AsyncStore:
    """An open queue for coroutines; see Store for what each method does."""

    def __init__(self, store: Store, thread: ThreadPoolExecutor) -> None:
        self.sync = store
        self.path = store.path
        self._thread = thread

    @classmethod
    async def open(cls, path: Path, busy_timeout: float = 60.0) -> AsyncStore:
        thread = ThreadPoolExecutor(1, thread_name_prefix="nightshift-store")
        loop = asyncio.get_running_loop()
        try:
            store = await loop.run_in_executor(thread, Store.open, path, busy_timeout)
        except BaseException:
            thread.shutdown(wait=False)
            raise
        return cls(store, thread)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self.sync.close)
        self._thread.shutdown(wait=False)

    async def __aenter__(self) -> AsyncStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _call(self, bound: Callable[[], R]) -> R:
        return await asyncio.get_running_loop().run_in_executor(self._thread, bound)

    def add_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call back on this event loop after every write this store commits.

        Returns a function that stops the calls.
        """
        loop = asyncio.get_running_loop()

        def notify() -> None:
            loop.call_soon_threadsafe(callback)

        return self.sync.add_listener(notify)

    async def update_progress(
        self, task_id: str, executor_id: str, **values: Any
    ) -> bool:
        return await self._call(
            functools.partial(self.sync.update_progress, task_id, executor_id, **values)
        )

    async def finish(
        self,
        task_id: str,
        executor_id: str,
        action: Action,
        actor: str,
        *,
        error: str | None = None,
        **values: Any,
    ) -> Task:
        return await self._call(
            functools.partial(
                self.sync.finish,
                task_id,
                executor_id,
                action,
                actor,
                error=error,
                **values,
            )
        )

    create_task = _threaded(Store.create_task)
    set_plan = _threaded(Store.set_plan)
    revise = _threaded(Store.revise)
    stalled_plannings = _threaded(Store.stalled_plannings)
    apply = _threaded(Store.apply)
    claim = _threaded(Store.claim)
    get = _threaded(Store.get)
    resolve = _threaded(Store.resolve)
    list_tasks = _threaded(Store.list_tasks)
    tasks_json = _threaded(Store.tasks_json)
    task_json = _threaded(Store.task_json)
    revision = _threaded(Store.revision)
    data_version = _threaded(Store.data_version)
    changes_since = _threaded(Store.changes_since)
    events = _threaded(Store.events)
    plan_history = _threaded(Store.plan_history)
    clear = _threaded(Store.clear)
    register_executor = _threaded(Store.register_executor)
    heartbeat = _threaded(Store.heartbeat)
    unregister_executor = _threaded(Store.unregister_executor)
    executors = _threaded(Store.executors)
    request_stop = _threaded(Store.request_stop)
    tasks_of_executor = _threaded(Store.tasks_of_executor)
    orphaned_tasks = _threaded(Store.orphaned_tasks)
    pending_notifications = _threaded(Store.pending_notifications)
    mark_delivered = _threaded(Store.mark_delivered)
    mark_failed_delivery = _threaded(Store.mark_failed_delivery)
