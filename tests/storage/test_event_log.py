"""The event log: group commit from many threads, per-user gapless sequences and hash chains, durability at flush(),
retries that never drop an event, reads by cycle and time, and decoding of older payloads."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from datetime import timedelta

import msgspec
import pytest

from adapters.store.event_log import SqlEventLog, open_event_log
from adapters.store.factory import connect_store
from adapters.store.repository import SqlStore
from adapters.store.url import parse_database_url
from domain.errors import DatabaseError
from messages.events import CycleFinished, CycleStarted, Event, FetchFailed, OrderChange, OrdersSynced, SnapshotFetched
from replay.chain import ChainTracker
from tests.storage.conftest import T0, mysql_admin


def started(user_id: int, cycle_id: str, minute: int = 0) -> CycleStarted:
    return CycleStarted(user_id=user_id, cycle_id=cycle_id, at=T0 + timedelta(minutes=minute))


def fetched(user_id: int, cycle_id: str, rows: int, minute: int = 0) -> SnapshotFetched:
    return SnapshotFetched(
        user_id=user_id,
        cycle_id=cycle_id,
        at=T0 + timedelta(minutes=minute),
        account_ids=(1,),
        order_rows=rows,
    )


@pytest.fixture
async def event_log(store: SqlStore):
    opened = await open_event_log(store.database, window_s=0.01, max_backoff_s=0.05)
    yield opened
    await opened.close(timeout=5)


async def test_appends_from_many_threads_get_gapless_per_user_sequences_in_few_inserts(
    store, event_log, database_url
):
    users, threads_per_user, per_thread = (1, 2, 3), 2, 150

    def actor(user_id: int, thread: int) -> None:
        for i in range(per_thread):
            event_log.append(fetched(user_id, f"c{user_id}-{thread}", rows=i))

    threads = [threading.Thread(target=actor, args=(u, t)) for u in users for t in range(threads_per_user)]
    for thread in threads:
        thread.start()
    await asyncio.gather(*(asyncio.to_thread(thread.join) for thread in threads))
    await event_log.flush(timeout=30)

    reopened = await connect_store(database_url)
    try:
        reader = SqlEventLog(reopened.database)
        for user_id in users:
            seqs = []
            for thread in range(threads_per_user):
                logged = await reader.read_cycle(user_id, f"c{user_id}-{thread}")
                assert [e.event.order_rows for e in logged] == list(range(per_thread))
                assert [e.seq for e in logged] == sorted(e.seq for e in logged)
                seqs += [e.seq for e in logged]
            assert sorted(seqs) == list(range(1, threads_per_user * per_thread + 1))
            chain = ChainTracker(user_id, from_start=True)
            scanned = await reader.scan(user_id, 1, len(seqs), limit=len(seqs))
            assert all(e.link is not None and e.link.hash is not None for e in scanned)
            assert [chain.see(e.seq, e.link) for e in scanned] == [None] * len(seqs), "every hash chains"
    finally:
        await reopened.close()
    lag = event_log.lag()
    assert lag.pending == 0 and lag.written == len(users) * threads_per_user * per_thread
    assert lag.batches < lag.written / 10


async def test_a_cycle_reads_back_as_the_same_events_in_order(event_log):
    events: list[Event] = [
        started(7, "cycle-a"),
        FetchFailed(
            user_id=7,
            cycle_id="cycle-a",
            at=T0,
            account_ids=(3,),
            kind="session_expired",
            message="session expired: log in again",
        ),
        fetched(7, "cycle-a", rows=5),
        CycleFinished(user_id=7, cycle_id="cycle-a", at=T0, error_count=1),
    ]
    for event in events:
        event_log.append(event)
    event_log.append(started(8, "cycle-a"))

    await event_log.flush()

    assert [e.event for e in await event_log.read_cycle(7, "cycle-a")] == events
    assert [e.seq for e in await event_log.read_cycle(7, "cycle-a")] == [1, 2, 3, 4]


async def test_a_new_log_continues_a_users_sequence_from_the_last_stored_number(store, event_log):
    for _ in range(3):
        event_log.append(started(5, "one"))
    await event_log.flush()

    second = await open_event_log(store.database)
    try:
        second.append(started(5, "two"))
        await second.flush()
    finally:
        await second.close()

    assert [e.seq for e in await event_log.read_cycle(5, "two")] == [4]


async def test_cycles_and_the_audit_range_read_a_users_history(event_log):
    event_log.append(started(1, "first", minute=0))
    event_log.append(fetched(1, "first", 1, minute=1))
    event_log.append(started(1, "second", minute=2))
    event_log.append(started(2, "elsewhere", minute=2))
    await event_log.flush()

    cycles = await event_log.cycles(1)
    assert [(c.cycle_id, c.events, c.first_seq, c.last_seq) for c in cycles] == [
        ("second", 1, 3, 3),
        ("first", 2, 1, 2),
    ]
    assert cycles[1].started_at == T0 and cycles[1].last_event_at == T0 + timedelta(minutes=1)
    assert [c.cycle_id for c in await event_log.cycles(1, limit=1)] == ["second"]
    assert [c.cycle_id for c in await event_log.cycles(1, until=T0 + timedelta(minutes=2))] == ["first"]
    in_range = await event_log.read_events(1, T0 + timedelta(minutes=1), T0 + timedelta(minutes=3))
    assert [(e.seq, e.event.cycle_id) for e in in_range] == [(2, "first"), (3, "second")]


async def insert_raw_event(store: SqlStore, user_id: int, seq: int, payload: bytes) -> None:
    async with store.transaction() as tx:
        await tx.execute(
            "events/insert", (user_id, seq, "old", T0, "snapshot_fetched", 1, payload.decode(), None), counts=(1,)
        )


async def test_an_old_payload_missing_a_newer_defaulted_field_still_decodes(store, event_log):
    full = msgspec.to_builtins(fetched(4, "old", rows=9))
    del full["order_rows"], full["position_rows"], full["account_ids"]
    await insert_raw_event(store, 4, 1, msgspec.json.encode(full))
    newer = {**msgspec.to_builtins(fetched(4, "old", rows=2)), "field_from_the_future": [1, 2]}
    await insert_raw_event(store, 4, 2, msgspec.json.encode(newer))

    old, new = await event_log.read_cycle(4, "old")

    assert old.event == SnapshotFetched(user_id=4, cycle_id="old", at=T0, account_ids=(), order_rows=0)
    assert new.event == fetched(4, "old", rows=2)


async def rename_events_table(url: str, away: bool) -> None:
    """Make every event write fail (or work again) from a second connection, behind the log's back."""
    source, target = (
        ("monitor_events", "monitor_events_away") if away else ("monitor_events_away", "monitor_events")
    )
    parsed = parse_database_url(url)
    if parsed.dialect == "sqlite":
        import sqlite3

        with sqlite3.connect(parsed.database) as conn:
            conn.execute(f"ALTER TABLE {source} RENAME TO {target}")
        return
    admin = await mysql_admin(parsed, parsed.database)
    try:
        async with admin.cursor() as cur:
            await cur.execute(f"RENAME TABLE {source} TO {target}")
    finally:
        admin.close()


async def test_a_failed_write_is_kept_retried_and_reported_never_dropped(event_log, database_url):
    event_log.append(started(3, "before"))
    await event_log.flush()
    await rename_events_table(database_url, away=True)

    event_log.append(started(3, "during"))
    event_log.append(fetched(3, "during", rows=1))
    with pytest.raises(DatabaseError, match="not durable"):
        await event_log.flush(timeout=0.5)
    lag = event_log.lag()
    assert lag.pending == 2 and lag.consecutive_failures >= 1 and lag.last_error

    await rename_events_table(database_url, away=False)
    await event_log.flush(timeout=10)

    assert [e.seq for e in await event_log.read_cycle(3, "during")] == [2, 3]
    assert event_log.lag().consecutive_failures == 0


async def test_an_event_the_log_could_never_store_is_refused_at_append(event_log):
    with pytest.raises(TypeError, match="timezone-aware"):
        event_log.append(CycleStarted(user_id=1, cycle_id="c", at=T0.replace(tzinfo=None)))
    with pytest.raises(ValueError, match="cycle_id"):
        event_log.append(started(1, "c" * 65))

    event_log.append(started(1, "c"))
    await event_log.flush(timeout=5)

    assert [e.seq for e in await event_log.read_cycle(1, "c")] == [1]
    assert event_log.lag().written == 1


def synced(user_id: int, cycle_id: str, changes: int) -> OrdersSynced:
    return OrdersSynced(user_id=user_id, cycle_id=cycle_id, at=T0, account_ids=(1,), changes=tuple(
        OrderChange(order_id=i, account_id=1, field="unrealized_pnl", before="1234.5000", after="1240.2500")
        for i in range(changes)))


async def test_a_batch_of_large_events_is_written_in_inserts_the_server_accepts(event_log):
    events = [synced(5, f"c{i}", changes=2_500) for i in range(60)]  # ≈ 230 KB each, 14 MB in all
    for event in events:
        event_log.append(event)
    await event_log.flush(timeout=60)

    assert [e.event for e in await event_log.read_cycle(5, "c59")] == [events[59]]
    assert event_log.lag().written == 60 and event_log.lag().consecutive_failures == 0


async def test_an_event_too_large_to_log_is_refused_at_append_and_the_log_goes_on(event_log):
    with pytest.raises(ValueError, match="cannot be logged"):
        event_log.append(synced(5, "huge", changes=50_000))
    event_log.append(started(5, "next"))
    await event_log.flush(timeout=5)
    assert [e.seq for e in await event_log.read_cycle(5, "next")] == [1]


class _ForgetsDuringReads:
    """The log's real database, with a lease change (`forget_sequence`) landing while each read waits."""

    def __init__(self, database, on_read) -> None:
        self._database, self._on_read = database, on_read

    @contextlib.asynccontextmanager
    async def autocommit(self):
        async with self._database.autocommit() as tx:
            outer = self

            class Tx:
                async def fetch_all(self, *args, **kwargs):
                    rows = await tx.fetch_all(*args, **kwargs)
                    outer._on_read()
                    return rows

                def __getattr__(self, name):
                    return getattr(tx, name)

            yield Tx()

    def __getattr__(self, name):
        return getattr(self._database, name)


async def test_a_lease_change_while_a_batch_is_numbered_loses_no_event(store):
    event_log = await open_event_log(store.database, window_s=0.01, max_backoff_s=0.05)
    try:
        event_log.append(started(1, "a"))
        event_log.append(started(2, "a"))
        await event_log.flush(timeout=5)
        lease_changes = iter((2, 1))  # user 2 while user 3's MAX(seq) is read, then user 1 during the retry
        event_log._chain_writer._db = _ForgetsDuringReads(store.database,
                                            lambda: event_log.forget_sequence(next(lease_changes, 0)))
        for event in (started(3, "b"), started(1, "b"), started(2, "b"), fetched(1, "b", rows=1)):
            event_log.append(event)
        await event_log.flush(timeout=5)

        assert [e.seq for e in await event_log.read_cycle(1, "b")] == [2, 3]
        assert [e.seq for e in await event_log.read_cycle(2, "b")] == [2]
        assert [e.seq for e in await event_log.read_cycle(3, "b")] == [1]
    finally:
        await event_log.close(timeout=5)
