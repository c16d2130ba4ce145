"""Fixtures for the core queue tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nightshift.core.store import Store
from tests.queue_helpers import Peek


@pytest.fixture
def peek(store: Store) -> Iterator[Peek]:
    """A second, plain sqlite3 connection to the store's file."""
    reader = Peek(store.path)
    yield reader
    reader.close()
