"""Fixtures of the cluster suite: one 3-node Galera cluster for the whole package (started once, about 10 s),
and a fresh database on it per test. Without Galera here the tests skip with the reason, unless
MONITOR_REQUIRE_MYSQL=1 (CI), where they fail, as the MySQL tests do."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

from tests.cluster.galera import GaleraCluster, galera_missing_reason, stray_nodes
from tests.soak.conftest import record_figures  # noqa: F401 - fixture
from tests.storage.conftest import fresh_mysql_url  # noqa: F401 - fixture


@pytest.fixture(scope="session")
def galera() -> Iterator[GaleraCluster]:
    reason = galera_missing_reason()
    if reason is not None:
        if os.environ.get("MONITOR_REQUIRE_MYSQL") == "1":
            pytest.fail(f"MONITOR_REQUIRE_MYSQL=1 but {reason}")
        pytest.skip(reason)
    with GaleraCluster() as cluster:
        yield cluster
    assert stray_nodes() == [], "a Galera node outlived its cluster"


@pytest.fixture
def galera_database(galera: GaleraCluster) -> Iterator[str]:
    """A fresh database on the cluster (its name; each node's URL is `node.url(name)`), dropped afterwards."""
    galera.wait_synced()
    name = f"monitor_test_{uuid.uuid4().hex[:16]}"
    with contextlib.closing(galera.nodes[0].connect()) as admin, admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    try:
        yield name
    finally:
        galera.wait_synced()
        with contextlib.closing(galera.nodes[0].connect()) as admin, admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
