"""Fixtures of the replica suite: the storage suite's fresh MariaDB database per test, and alice with a paper
account on it, her broker running on a loop of its own for the whole test."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from actors.io_loop import IoLoop
from adapters.broker.paper import run_paper_broker
from adapters.store.factory import connect_store, migrate_url
from tests.storage.conftest import fresh_mysql_url  # noqa: F401 - fixture


@dataclass(frozen=True)
class AliceAtThePaperBroker:
    io: IoLoop
    """The loop the paper broker runs on; the test may run its own coroutines there."""
    paper_url: str
    user_id: int
    token: str
    account_id: int


@pytest.fixture
def alice(request: pytest.FixtureRequest) -> Iterator[AliceAtThePaperBroker]:
    """The test's database, migrated, where alice has one paper account (R1) at a running paper broker."""
    database_url = request.getfixturevalue("fresh_mysql_url")
    io = IoLoop()
    stack = contextlib.AsyncExitStack()
    try:
        paper = io.call(stack.enter_async_context(run_paper_broker("127.0.0.1", 0, seed=11)))
        io.call(migrate_url(database_url))
        store = io.call(connect_store(database_url))
        user_id, token = io.call(store.add_user("alice"))
        account_id = io.call(store.add_account(user_id, "paper", paper.url, "R1", app_key="R1", secret_key="s3cret"))
        io.call(store.close())
        yield AliceAtThePaperBroker(io, paper.url, user_id, token, account_id)
    finally:
        io.call(stack.aclose())
        io.stop()
