"""The event log on a real 3-node MariaDB Galera cluster: two logs writing the same users through two different
nodes at once (a replica whose lease was taken over, still writing, and the new holder) store every event of
both exactly once, in one gapless hash chain per user that the audit passes, read on the third node. A row lock
is per node there and reads are not certified: what orders the two is the row both write, the user's next
seq. The INSERT that loses meets it as a duplicate key, or as a certification failure (1213), which the node
itself runs once more by default (`wsrep_retry_autocommit = 1`, which then meets the duplicate key) and which
reaches the writer, to be rerun whole, with `wsrep_retry_autocommit = 0`: both are raced here."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter

import pytest

from adapters.store.event_log import SqlEventLog, open_event_log
from adapters.store.factory import migrate_url
from tests.cluster.galera import GaleraCluster
from tests.storage.conftest import opened_store
from tests.storage.test_event_log_writers import audit_lines, clean_audit, race, stored

pytestmark = pytest.mark.mysql

ROUNDS = 80


@pytest.fixture(params=[1, 0], ids=["node-retries-autocommit", "writer-reruns-1213"])
def retry_autocommit(request: pytest.FixtureRequest, galera: GaleraCluster):
    """`wsrep_retry_autocommit` on the racing nodes, for the connections opened in the test."""
    def set_on_racing_nodes(value: int) -> None:
        for node in galera.nodes[:2]:
            with contextlib.closing(node.connect()) as admin, admin.cursor() as cursor:
                cursor.execute("SET GLOBAL wsrep_retry_autocommit = %s", (value,))

    set_on_racing_nodes(request.param)
    try:
        yield request.param
    finally:
        set_on_racing_nodes(1)


async def test_two_logs_racing_on_one_user_through_different_nodes_keep_one_unbroken_chain(
        galera: GaleraCluster, galera_database: str, retry_autocommit: int, caplog):
    caplog.set_level(logging.WARNING, logger="adapters.store.rerun")
    await migrate_url(galera.nodes[0].url(galera_database))
    async with opened_store(galera.nodes[0].url(galera_database)) as a, \
            opened_store(galera.nodes[1].url(galera_database)) as b, \
            opened_store(galera.nodes[2].url(galera_database)) as reader:
        logs = [await open_event_log(s.database, window_s=0.002, max_backoff_s=0.05) for s in (a, b)]
        try:
            # when a log on node 1 and a log on node 2 append to user 1 (and 2) at once, round after round
            appended_by_user = await race(logs, shared=(1, 2), rounds=ROUNDS, seed=25)
        finally:
            for event_log in logs:
                await event_log.close(timeout=10)
        lags = [event_log.lag() for event_log in logs]

        # then, read on node 3, every event of both is there once, each user's seqs run 1..n
        galera.wait_synced()
        on_third = SqlEventLog(reader.database)
        for user_id, expected in appended_by_user.items():
            rows = await stored(on_third, user_id)
            assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1)), f"user {user_id}: a gap"
            assert Counter((writer, mark) for _, writer, mark in rows) == expected, f"user {user_id}"
        # and the audit finds every chain whole
        events = sum(sum(c.values()) for c in appended_by_user.values())
        assert await audit_lines(on_third) == clean_audit(users=4, events=events)
        # and the two did race: events were numbered again after the other node's
        assert sum(lag.renumbered for lag in lags) > 0, lags
        assert [lag.written for lag in lags] == [ROUNDS * 6, ROUNDS * 6]
        # and without the node's own retry, certification failures reached the writers and were rerun
        if retry_autocommit == 0:
            assert [r for r in caplog.records if "1213" in r.getMessage()], "no certification failure was met"
