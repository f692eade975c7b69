"""The event log's hash chain, on SQLite and MariaDB: every row stores SHA-256 over its predecessor's hash and
its own canonical bytes, and `audit` names the event where the chain breaks, for edits the replay cannot see
(a count in a payload), a deleted event, a swapped pair of payloads or seqs, and a hash stripped from a row;
a log begun before the chain existed still audits, with a note that its old part is unchained."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

import msgspec

from adapters.store.event_log import SqlEventLog, open_event_log
from adapters.store.factory import open_database
from adapters.store.migrations import migrate
from adapters.store.repository import SqlStore
from messages.events import SnapshotFetched
from service.cli.audit import Tally, audit_log
from tests.replay.recorded import raw_sql
from tests.storage.conftest import T0
from tests.storage.test_migrations import migrate_up_to

NOW = T0 + timedelta(days=1)


def fetched(user_id: int, minute: int, rows: int = 3) -> SnapshotFetched:
    """An event outside any cycle: what the replay judges of it is nothing, only its place in the log."""
    return SnapshotFetched(user_id=user_id, cycle_id="", at=T0 + timedelta(minutes=minute), account_ids=(1,),
                           order_rows=rows)


async def written(store: SqlStore, events: list[SnapshotFetched]) -> SqlEventLog:
    event_log = await open_event_log(store.database, window_s=0.01)
    for event in events:
        event_log.append(event)
    await event_log.close()
    return event_log


async def raw_rows(store: SqlStore, user_id: int) -> list[dict]:
    async with store.database.transaction() as tx:
        return await tx.fetch_all("events/scan", (user_id, 1, 10**9, 10**6))


def expected_hash(previous: str | None, user_id: int, row: dict) -> str:
    """The documented rule, computed here on its own: SHA-256(previous hash's 32 bytes, or 32 zero bytes for
    the first, || JSON [user_id, seq, cycle_id, at, type, version] || newline || payload)."""
    at = row["at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    header = json.dumps([user_id, row["seq"], row["cycle_id"], at, row["type"], row["version"]],
                        separators=(",", ":")).encode()
    payload = row["payload"].encode() if isinstance(row["payload"], str) else row["payload"]
    start = bytes(32) if previous is None else bytes.fromhex(previous)
    return hashlib.sha256(start + header + b"\n" + payload).hexdigest()


async def audited(event_log: SqlEventLog, since: datetime | None = None) -> tuple[Tally, list[str]]:
    out = io.StringIO()
    tally = await audit_log(event_log, since, NOW, out)
    return tally, out.getvalue().splitlines()


def chain_findings(lines: list[str]) -> list[str]:
    return [line for line in lines if "hash" in line]


async def test_every_event_stores_the_hash_of_its_row_chained_from_its_users_previous_event(store):
    first = await written(store, [fetched(1, 0), fetched(2, 0), fetched(1, 1), fetched(1, 2), fetched(2, 1)])
    await written(store, [fetched(1, 3), fetched(2, 2)])  # a new log goes on from the last hash stored
    restarted = await open_event_log(store.database, window_s=0.01)
    restarted.append(fetched(1, 4))
    await restarted.flush()
    restarted.forget_sequence(1)  # the lease moved and came back: seq and hash are read again
    restarted.append(fetched(1, 5))
    await restarted.close()

    for user_id, count in ((1, 6), (2, 3)):
        rows = await raw_rows(store, user_id)
        assert [row["seq"] for row in rows] == list(range(1, count + 1))
        previous = None
        for row in rows:
            assert row["hash"] == expected_hash(previous, user_id, row), (user_id, row["seq"])
            previous = row["hash"]
    assert (await raw_rows(store, 1))[0]["hash"] != (await raw_rows(store, 2))[0]["hash"]
    tally, lines = await audited(first)
    assert not tally.failed and lines == []
    assert tally.line() == ("audit OK: 2 users, 9 events, 0 cycles (0 clean, 0 running); 0 cycles with findings, "
                            "0 other findings")


async def test_audit_names_an_edited_count_that_the_replay_cannot_see(store, database_url):
    event_log = await written(store, [fetched(1, minute) for minute in range(5)])

    assert raw_sql(database_url, "UPDATE monitor_events SET payload = REPLACE(payload, '\"order_rows\":3', "
                                 "'\"order_rows\":4') WHERE user_id = ? AND seq = ?", (1, 3)) == 1
    tally, lines = await audited(event_log)
    mid_log, mid_lines = await audited(event_log, since=T0 + timedelta(minutes=1))

    assert tally.failed and tally.log_problems == 1
    assert lines == ["user 1: seq 3 hash does not match its row chained from the event before it: this event was "
                     "changed or moved, or the one before it deleted or changed"]
    assert mid_log.failed and chain_findings(mid_lines) == lines, "from a time on, the first row anchors the chain"


async def test_audit_names_the_event_after_a_deleted_one(store, database_url):
    event_log = await written(store, [fetched(1, minute) for minute in range(5)])

    assert raw_sql(database_url, "DELETE FROM monitor_events WHERE user_id = ? AND seq = ?", (1, 3)) == 1
    tally, lines = await audited(event_log)

    assert tally.failed
    assert lines == ["user 1: seq 3 missing (1 event deleted)",
                     "user 1: seq 4 hash does not match its row chained from the event before it: this event was "
                     "changed or moved, or the one before it deleted or changed"]


async def test_audit_names_both_events_of_a_swapped_pair_of_payloads_or_of_seqs(store, database_url):
    event_log = await written(store, [fetched(1, 0, rows=minute) for minute in range(5)]
                              + [fetched(2, 0, rows=minute) for minute in range(5)])
    second, third = (row["payload"] for row in (await raw_rows(store, 1))[1:3])

    for seq, payload in ((2, third), (3, second)):
        assert raw_sql(database_url, "UPDATE monitor_events SET payload = ? WHERE user_id = ? AND seq = ?",
                       (payload, 1, seq)) == 1
    for seq, to in ((2, 99), (3, 2), (99, 3)):
        assert raw_sql(database_url, "UPDATE monitor_events SET seq = ? WHERE user_id = ? AND seq = ?",
                       (to, 2, seq)) == 1
    tally, lines = await audited(event_log)

    assert tally.failed
    assert [line.split(" hash ")[0] for line in lines] == [
        "user 1: seq 2", "user 1: seq 3",  # the payloads moved, the hashes stayed: both rows differ from theirs
        "user 2: seq 2", "user 2: seq 3", "user 2: seq 4",  # the rows moved with their hashes: seq 4 follows another
    ]


async def test_audit_reports_a_row_stripped_of_its_hash_after_hashed_ones(store, database_url):
    event_log = await written(store, [fetched(1, minute) for minute in range(5)])

    assert raw_sql(database_url, "UPDATE monitor_events SET hash = NULL WHERE user_id = ? AND seq = ?", (1, 4)) == 1
    tally, lines = await audited(event_log)

    assert tally.failed and tally.log_problems == 1
    assert lines == ["user 1: seq 4 has no hash, yet events before it have: its hash was stripped"]


async def test_a_log_begun_before_the_chain_audits_with_a_note_and_its_chained_part_is_checked(database_url):
    database = await open_database(database_url)
    store = SqlStore(database)
    try:
        await migrate_up_to(database, 9)
        for seq in (1, 2, 3):
            at = (T0 + timedelta(minutes=seq)).strftime("%Y-%m-%d %H:%M:%S.%f")
            assert raw_sql(database_url, "INSERT INTO monitor_events (user_id, seq, cycle_id, at, type, version, "
                                         "payload) VALUES (?, ?, '', ?, 'snapshot_fetched', 1, ?)",
                           (1, seq, at, msgspec.json.encode(fetched(1, seq)).decode())) == 1
        assert "011_event_hash_chain" in await migrate(database)
        event_log = await written(store, [fetched(1, 4), fetched(1, 5)])
        rows = await raw_rows(store, 1)

        tally, lines = await audited(event_log)
        assert [row["hash"] for row in rows[:3]] == [None, None, None]
        assert rows[3]["hash"] == expected_hash(None, 1, rows[3]), "the first hashed event chains from genesis"
        assert rows[4]["hash"] == expected_hash(rows[3]["hash"], 1, rows[4])
        assert not tally.failed
        assert lines == ["user 1: seq 1..3 (3 events) written before the hash chain: not chained, checked by "
                         "replay only"]
        assert tally.line().startswith("audit OK: 1 user, 5 events (3 written before the hash chain), ")

        assert raw_sql(database_url, "UPDATE monitor_events SET payload = REPLACE(payload, '\"order_rows\":3', "
                                     "'\"order_rows\":4') WHERE user_id = ? AND seq = ?", (1, 5)) == 1
        tally, lines = await audited(event_log)
        assert tally.failed and chain_findings(lines)[0].startswith("user 1: seq 5 hash does not match")
    finally:
        await store.close()


async def test_a_hash_overwritten_with_garbage_is_named_and_the_log_goes_on_writing(store, database_url):
    event_log = await written(store, [fetched(1, minute) for minute in range(3)])
    assert raw_sql(database_url, "UPDATE monitor_events SET hash = ? WHERE user_id = ? AND seq = ?",
                   ("z" * 64, 1, 3)) == 1

    await written(store, [fetched(1, 3), fetched(1, 4)])  # a new writer reads the mangled hash as its start
    rows = await raw_rows(store, 1)
    tally, lines = await audited(event_log)

    assert [row["seq"] for row in rows] == [1, 2, 3, 4, 5]
    assert rows[3]["hash"] == expected_hash(None, 1, rows[3]), "it chains from genesis again"
    assert rows[4]["hash"] == expected_hash(rows[3]["hash"], 1, rows[4])
    assert tally.failed and tally.log_problems == 1
    assert lines == ["user 1: seq 3 has a hash that is not 64 lowercase hex characters: it was overwritten"]
