"""Fixtures of the replica suite: the storage suite's fresh MariaDB database per test, alice with a paper
account on it, her broker running on a loop of its own for the whole test, and the partition rig (a network
namespace of the test's own and a MariaDB server on the host side of its veth pair). Without what the rig
needs (root, iproute2, the MariaDB server's binaries) its tests skip with the reason, unless
MONITOR_REQUIRE_MYSQL=1 (CI), where they fail, as the MySQL tests do."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from actors.io_loop import IoLoop
from adapters.broker.paper import run_paper_broker
from adapters.store.factory import connect_store, migrate_url
from tests.replicas.mariadb_server import MariaDbServer, mariadb_missing_reason
from tests.replicas.netns import NetworkNamespace, netns_missing_reason
from tests.soak.conftest import record_figures  # noqa: F401 - fixture
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


@pytest.fixture
def partition_rig() -> Iterator[tuple[NetworkNamespace, MariaDbServer]]:
    """A network namespace of the test's own and a MariaDB server listening on the host side of its veth pair;
    both gone afterwards, whatever happened (the namespace's leftovers are checked)."""
    reason = netns_missing_reason() or mariadb_missing_reason()
    if reason is not None:
        if os.environ.get("MONITOR_REQUIRE_MYSQL") == "1":
            pytest.fail(f"MONITOR_REQUIRE_MYSQL=1 but {reason}")
        pytest.skip(reason)
    with NetworkNamespace() as namespace, MariaDbServer(namespace.host_address) as server:
        yield namespace, server
    assert namespace.leftovers() == [], "the test's network namespace outlived it"
