"""Two processes writing one user's events (a replica whose lease was taken still writing the events of its last
cycle while the new holder writes its own), on SQLite and MariaDB: every event of both is stored exactly once,
in one gapless hash chain the audit passes. A writer that finds a user's head moved numbers its events again
after the other's; one that nobody disturbed sends one statement a batch. A write whose answer was lost is
found when it is sent again, and written once, even after another writer appended to the user meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import random
from collections import Counter
from datetime import timedelta

import pytest

from adapters.store.event_log import SqlEventLog, open_event_log
from adapters.store.repository import SqlStore
from domain.errors import DatabaseError
from messages.events import SnapshotFetched
from replay.timeline import counted
from service.cli.audit import audit_log
from tests.storage.conftest import T0

ROUNDS = 40


def marked(writer: int, mark: int, user_id: int) -> SnapshotFetched:
    """An event outside any cycle that says which writer appended it (`account_ids`) and which it was
    (`order_rows`): the audit judges only its place in the chain."""
    return SnapshotFetched(user_id=user_id, cycle_id="", at=T0 + timedelta(seconds=mark), account_ids=(writer,),
                           order_rows=mark)


async def appended(event_log: SqlEventLog, events: list[SnapshotFetched]) -> None:
    for event in events:
        event_log.append(event)
    await event_log.flush(timeout=30)


async def stored(event_log: SqlEventLog, user_id: int) -> list[tuple[int, int, int]]:
    """The user's events as (seq, writer, mark), in seq order."""
    return [(e.seq, e.event.account_ids[0], e.event.order_rows)
            for e in await event_log.scan(user_id, 1, 10**9, limit=10**6)]


async def audit_lines(event_log: SqlEventLog) -> list[str]:
    """What `run.py audit` prints for the whole log (its findings and tally line)."""
    out = io.StringIO()
    tally = await audit_log(event_log, None, T0 + timedelta(days=1), out)
    return [*out.getvalue().splitlines(), tally.line()]


def clean_audit(users: int, events: int) -> list[str]:
    return [f"audit OK: {counted(users, 'user')}, {counted(events, 'event')}, 0 cycles (0 clean, 0 running); "
            "0 cycles with findings, 0 other findings"]


async def race(logs: list[SqlEventLog], shared: tuple[int, ...], rounds: int, seed: int) -> dict[int, Counter]:
    """Each log appends, round after round, events of the `shared` users and of a user of its own (10 + its
    index), flushing each round, all logs at once; what each appended, by user: Counter of (writer, mark)."""
    appended_by_user: dict[int, Counter] = {}
    draw = random.Random(seed)

    async def writer(index: int, event_log: SqlEventLog, pauses: list[float]) -> None:
        for round_ in range(rounds):
            events = [marked(index, round_ * 100 + n, user_id)
                      for n, user_id in enumerate([*shared, *shared, 10 + index, shared[0]])]
            for event in events:
                appended_by_user.setdefault(event.user_id, Counter())[(index, event.order_rows)] += 1
            await appended(event_log, events)
            await asyncio.sleep(pauses[round_])

    await asyncio.gather(*(writer(i, log, [draw.choice((0, 0, 0.001, 0.005)) for _ in range(rounds)])
                           for i, log in enumerate(logs)))
    return appended_by_user


@pytest.fixture
async def two_logs(store: SqlStore, other_process: SqlStore):
    """Two event logs on one database, each through its own connection (SQLite) or pool (MySQL)."""
    logs = [await open_event_log(s.database, window_s=0.002, max_backoff_s=0.05) for s in (store, other_process)]
    yield logs
    for event_log in logs:
        await event_log.close(timeout=5)


async def test_two_logs_racing_on_the_same_users_store_every_event_once_in_one_unbroken_chain(two_logs):
    # when two logs, on two connections, append to the same users at once, round after round
    appended_by_user = await race(two_logs, shared=(1, 2), rounds=ROUNDS, seed=1)

    # then every event of each is stored exactly once, and each user's seqs run 1..n with no gap
    reader = two_logs[0]
    for user_id, expected in appended_by_user.items():
        rows = await stored(reader, user_id)
        assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1)), f"user {user_id}: a gap"
        assert Counter((writer, mark) for _, writer, mark in rows) == expected, f"user {user_id}"
    # and each writer's own events keep the order it appended them in
    for user_id in (1, 2):
        for writer in (0, 1):
            marks = [mark for _, w, mark in await stored(reader, user_id) if w == writer]
            assert marks == sorted(marks), f"user {user_id}, writer {writer}"
    # and the audit finds the chains whole
    events = sum(sum(c.values()) for c in appended_by_user.values())
    assert await audit_lines(reader) == clean_audit(users=4, events=events)
    # and the logs did meet: events were numbered again after the other writer's, none was lost on the way
    lags = [event_log.lag() for event_log in two_logs]
    assert sum(lag.renumbered for lag in lags) > 0, lags
    assert [lag.written for lag in lags] == [ROUNDS * 6, ROUNDS * 6] and [lag.landed for lag in lags] == [0, 0]


async def test_a_writer_numbers_its_events_after_another_writers_and_only_then(two_logs, caplog):
    first, second = two_logs
    database = first._chain_writer._db

    async def statements_of(events: list[SnapshotFetched]) -> int:
        before = database.statements
        await appended(first, events)
        return database.statements - before

    # given the first log wrote user 1's events 1..3, reading its head once
    assert await statements_of([marked(0, n, 1) for n in range(3)]) == 2

    # when nobody else wrote: one statement, the INSERT, and nothing numbered again
    assert await statements_of([marked(0, 3, 1)]) == 1
    assert first.lag().renumbered == 0

    # when the second log appends two events to the same user meanwhile
    await appended(second, [marked(1, 10, 1), marked(1, 11, 1)])
    caplog.set_level(logging.WARNING, logger="adapters.store.event_writer")
    # then the first's next INSERT finds seq 5 taken by them, it reads that row (not its own) and the head, and
    # numbers its two events after the other's: four statements
    assert await statements_of([marked(0, 4, 1), marked(0, 5, 1)]) == 4
    assert await stored(first, 1) == [(1, 0, 0), (2, 0, 1), (3, 0, 2), (4, 0, 3), (5, 1, 10), (6, 1, 11),
                                      (7, 0, 4), (8, 0, 5)]
    assert first.lag().renumbered == 2 and second.lag().renumbered == 0
    assert [r.getMessage() for r in caplog.records] == [
        "event log: user 1 has events up to seq 6 from another writer; this process's 2 events are numbered "
        "after them, from seq 7"]
    # and from there on it is alone again: one statement a batch
    assert await statements_of([marked(0, 6, 1)]) == 1
    assert await audit_lines(first) == clean_audit(users=1, events=9)


class _AnswerLost:
    """The log's real database, except that the next INSERT of events loses its answer, as a connection cut after
    the server took the statement and before its reply: it runs (`lands`) or it does not, and raises either way.
    `meanwhile` runs in between, as the time before the writer sends again."""

    def __init__(self, database, *, lands: bool, meanwhile=None) -> None:
        self._database, self._lands, self._meanwhile = database, lands, meanwhile
        self.lost = 0

    @contextlib.asynccontextmanager
    async def autocommit(self):
        async with self._database.autocommit() as tx:
            outer = self

            class Tx:
                async def execute(self, name, *args, **kwargs):
                    if name != "events/insert" or outer.lost:
                        return await tx.execute(name, *args, **kwargs)
                    outer.lost += 1
                    if outer._lands:
                        await tx.execute(name, *args, **kwargs)
                    if outer._meanwhile is not None:
                        await outer._meanwhile()
                    raise DatabaseError("events/insert failed: the connection was lost before the answer")

                def __getattr__(self, name):
                    return getattr(tx, name)

            yield Tx()

    def __getattr__(self, name):
        return getattr(self._database, name)


@pytest.mark.parametrize("lands", [True, False], ids=["it-had-landed", "it-had-not"])
async def test_a_write_whose_answer_was_lost_is_written_exactly_once(two_logs, lands):
    first, _ = two_logs
    await appended(first, [marked(0, 0, 1)])
    lost = first._chain_writer._db = _AnswerLost(first._chain_writer._db, lands=lands)

    # when the INSERT of three events (two users) loses its answer, and the writer sends it again
    await appended(first, [marked(0, 1, 1), marked(0, 2, 2), marked(0, 3, 1)])

    # then each event is stored once, in its place, and the second send learnt which was the case
    assert lost.lost == 1
    assert await stored(first, 1) == [(1, 0, 0), (2, 0, 1), (3, 0, 3)]
    assert await stored(first, 2) == [(1, 0, 2)]
    lag = first.lag()
    assert (lag.landed, lag.renumbered, lag.written, lag.consecutive_failures) == (3 if lands else 0, 0, 4, 0)
    assert await audit_lines(first) == clean_audit(users=2, events=4)


async def test_a_write_whose_answer_was_lost_is_found_after_another_writer_appended_past_it(two_logs):
    first, second = two_logs

    async def the_other_writer_appends() -> None:
        await appended(second, [marked(1, 10, 1), marked(1, 11, 1)])

    lost = first._chain_writer._db = _AnswerLost(first._chain_writer._db, lands=True,
                                                 meanwhile=the_other_writer_appends)

    # when the first log's INSERT lands but its answer is lost, and the second log appends after it before the
    # first sends it again: the user's head is the second's, not the first's last event
    await appended(first, [marked(0, 0, 1), marked(0, 1, 1)])

    # then the first finds its events at their numbers and writes nothing again; the second's follow them
    assert lost.lost == 1
    assert await stored(first, 1) == [(1, 0, 0), (2, 0, 1), (3, 1, 10), (4, 1, 11)]
    assert (first.lag().landed, first.lag().renumbered) == (2, 0)
    assert await audit_lines(first) == clean_audit(users=1, events=4)
