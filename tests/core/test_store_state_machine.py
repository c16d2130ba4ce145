"""Random actions from many actors against a real Store, checked by a model."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from nightshift.core.errors import InvalidTransitionError
from nightshift.core.models import TRANSITIONS, Action, TaskStatus
from nightshift.core.store import Store
from tests.queue_helpers import create, drive, plan

S = TaskStatus
A = Action
PEOPLE = ["cli:alice", "tui", "slack:U0123"]
EXECUTORS = ["exec-1", "exec-2", "exec-3"]
USER_ACTIONS = [
    A.PLANNED,
    A.APPROVE,
    A.REVISE,
    A.CANCEL,
    A.PAUSE,
    A.RESUME,
    A.KILL,
    A.RETRY,
]
RUN_ENDINGS = [A.COMPLETE, A.FAIL, A.REQUEUE]
MAX_TASKS = 4


class QueueMachine(RuleBasedStateMachine):
    """The model: each task's status, its holder, and how often it was claimed."""

    tasks = Bundle("tasks")

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="nightshift-model-"))
        self.store = Store.open(self.dir / "nightshift.db")
        self.status: dict[str, TaskStatus] = {}
        self.holder: dict[str, str | None] = {}
        self.claims: dict[str, int] = {}
        self.priority: dict[str, int] = {}
        self.order: list[str] = []

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- doing things -------------------------------------------------------

    def _attempt(self, allowed: bool, task_id: str, action: Action, actor: str) -> None:
        """Take one action; it must succeed exactly when the model allows it."""
        revision = self.store.revision()
        try:
            drive(self.store, task_id, action, actor, executor=actor)
        except InvalidTransitionError:
            assert not allowed, (task_id, action, self.status[task_id])
            assert self.store.revision() == revision
            return
        assert allowed, (task_id, action, self.status[task_id])
        assert self.store.revision() > revision
        self._moved(task_id, action, actor)

    def _moved(self, task_id: str, action: Action, executor: str) -> None:
        self.status[task_id] = TRANSITIONS[action].target
        if action is A.CLAIM:
            self.holder[task_id] = executor
            self.claims[task_id] += 1
        elif action in (A.REQUEUE, A.RETRY):
            self.holder[task_id] = None

    @precondition(lambda self: len(self.order) < MAX_TASKS)
    @rule(
        target=tasks,
        staged=st.booleans(),
        priority=st.integers(0, 2),
        actor=st.sampled_from(PEOPLE),
    )
    def submit(self, staged: bool, priority: int, actor: str) -> str:
        task = create(
            self.store,
            actor=actor,
            priority=priority,
            plan=plan() if staged else None,
        )
        self.status[task.id] = S.STAGED if staged else S.PLANNING
        self.holder[task.id] = None
        self.claims[task.id] = 0
        self.priority[task.id] = priority
        self.order.append(task.id)
        return task.id

    @rule(
        task_id=tasks,
        action=st.sampled_from(USER_ACTIONS),
        actor=st.sampled_from(PEOPLE + EXECUTORS),
    )
    def user_action(self, task_id: str, action: Action, actor: str) -> None:
        allowed = self.status[task_id] in TRANSITIONS[action].sources
        self._attempt(allowed, task_id, action, actor)

    @rule(task_id=tasks, executor=st.sampled_from(EXECUTORS))
    def claim_named(self, task_id: str, executor: str) -> None:
        self._attempt(self.status[task_id] is S.COMMITTED, task_id, A.CLAIM, executor)

    @rule(executor=st.sampled_from(EXECUTORS))
    def claim_next(self, executor: str) -> None:
        waiting = [t for t in self.order if self.status[t] is S.COMMITTED]
        # Priority first; sorted() is stable, so submission order breaks ties.
        expected = sorted(waiting, key=lambda t: -self.priority[t])
        claimed = self.store.claim(executor, executor)
        if not expected:
            assert claimed is None
            return
        assert claimed is not None
        assert claimed.id == expected[0]
        assert claimed.executor_id == executor
        self._moved(claimed.id, A.CLAIM, executor)

    @rule(
        task_id=tasks,
        executor=st.sampled_from(EXECUTORS),
        action=st.sampled_from(RUN_ENDINGS),
    )
    def end_run(self, task_id: str, executor: str, action: Action) -> None:
        allowed = (
            self.status[task_id] in TRANSITIONS[action].sources
            and self.holder[task_id] == executor
        )
        self._attempt(allowed, task_id, action, executor)

    # -- what must always hold ----------------------------------------------

    @invariant()
    def database_matches_model(self) -> None:
        stored = {t.id: t for t in self.store.list_tasks()}
        assert {i: t.status for i, t in stored.items()} == self.status
        for task_id, task in stored.items():
            assert task.attempts == self.claims[task_id]
            if task.status in (S.RUNNING, S.PAUSED):
                assert task.executor_id == self.holder[task_id]

    @invariant()
    def events_replay_to_the_current_status(self) -> None:
        for task_id, status in self.status.items():
            events = self.store.events(task_id)
            assert events[0].action == "submit"
            assert events[0].from_status is None
            current = events[0].to_status
            held_by: str | None = None
            claims = 0
            for event in events[1:]:
                assert event.from_status == current, (task_id, event)
                if event.action == "claim":
                    # One committed -> running edge per claim, and never a
                    # second claim while an earlier run still holds the task.
                    assert (event.from_status, event.to_status) == (
                        "committed",
                        "running",
                    )
                    assert held_by is None
                    held_by = event.detail
                    claims += 1
                elif event.to_status not in ("running", "paused"):
                    held_by = None
                current = event.to_status
            assert current == status.value
            assert claims == self.claims[task_id]
            if status in (S.RUNNING, S.PAUSED):
                assert held_by == self.holder[task_id]


QueueMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=50, deadline=None
)
TestQueueMachine = QueueMachine.TestCase
