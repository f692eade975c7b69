"""`EventWriter`: writes the event log's batches into monitor_events as each user's one gapless hash chain, however
many processes write the user (a replica whose lease was taken still writing its last events, say).

A part of a batch (`parts`) is one INSERT, atomic: it lands whole or not at all. Its events are numbered and
chained from each user's head as the writer knows it: the last seq and hash it wrote, or read (events/max_seq)
when it knows none. A user's seqs are gapless, so a head another process moved meanwhile has taken the next
number, and the INSERT fails with a duplicate key: at once on one server (or once the other's row commits),
through another Galera node at certification (1213, the whole INSERT run again until it meets the other's
row). A part therefore commits only where every head it numbered from is the stored head at its commit; no
lock is taken and no statement is added while no one else writes. On a duplicate key the writer reads its
part's first row: holding that event's hash, an earlier send of these rows committed (its answer was lost) and
the part is durable; holding another, these rows can never land, and the part is numbered and chained again
from the stored heads, after the other writer's events, and sent again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime

from adapters.store.event_chain import canonical_bytes, chain_hash, is_hash
from adapters.store.multi_row import MAX_PARAMS_PER_STATEMENT
from adapters.store.repository import Database
from adapters.store.rerun import RERUN_POLICY, RerunPolicy, rerun_when_aborted
from adapters.store.values import JsonDocument
from domain.errors import DuplicateKey

log = logging.getLogger(__name__)

Head = tuple[int, str | None]
"""A user's last seq and that event's hash (None: the next event starts the chain); (0, None) before any."""
_COLUMNS = 8
MAX_ROWS_PER_INSERT = MAX_PARAMS_PER_STATEMENT // _COLUMNS
"""Rows one INSERT carries at most, so that a part is one statement."""


class PendingEvent:
    """One appended event on its way to the database, as it will be stored; numbered when its part is."""

    __slots__ = ("at", "cycle_id", "durable", "enqueued", "hash", "payload", "seq", "tag", "user_id", "version")

    def __init__(self, user_id: int, cycle_id: str, at: datetime, tag: str, version: int,
                 payload: JsonDocument) -> None:
        self.user_id, self.cycle_id, self.at, self.tag, self.version = user_id, cycle_id, at, tag, version
        self.payload = payload
        self.enqueued = time.monotonic()
        self.seq: int | None = None
        self.hash = ""
        self.durable = False

    def number(self, seq: int, previous_hash: str | None) -> str:
        """Give the event its seq and its hash, chained from `previous_hash`; the hash."""
        self.seq = seq
        self.hash = chain_hash(previous_hash, canonical_bytes(self.user_id, seq, self.cycle_id, self.at, self.tag,
                                                              self.version, self.payload.utf8))
        return self.hash

    def row(self) -> tuple[object, ...]:
        return (self.user_id, self.seq, self.cycle_id, self.at, self.tag, self.version, self.payload, self.hash)


def parts(batch: list[PendingEvent], max_payload_bytes: int) -> list[list[PendingEvent]]:
    """The batch in order, cut so that no part carries more than `max_payload_bytes` of payloads or more than
    MAX_ROWS_PER_INSERT rows."""
    cut: list[list[PendingEvent]] = [[]]
    size = 0
    for record in batch:
        length = len(record.payload.utf8)
        if cut[-1] and (size + length > max_payload_bytes or len(cut[-1]) == MAX_ROWS_PER_INSERT):
            cut.append([])
            size = 0
        cut[-1].append(record)
        size += length
    return cut


class EventWriter:
    """Writes parts on the loop the database lives on, one at a time; `renumbered` counts the events it numbered
    again after another writer's, `landed` those an earlier send had written when its answer was lost."""

    def __init__(self, database: Database, rerun_policy: RerunPolicy = RERUN_POLICY) -> None:
        self._db = database
        self.rerun_policy = rerun_policy
        self._heads: dict[int, Head] = {}
        self._forgotten: set[int] = set()
        self.renumbered = 0
        self.landed = 0

    def forget(self, user_id: int) -> None:
        """Read the user's head again before numbering its next events (any thread): another process may write
        it now. A hint, never needed for correctness: a head it moved is found at the INSERT anyway, one failed
        statement later."""
        self._forgotten.add(user_id)

    async def write(self, part: list[PendingEvent]) -> None:
        """Make `part` durable, numbered and chained after each user's stored head. On an exception the outcome
        may be unknown: call again with the same part, which goes with the numbers it had (found if it had
        landed, numbered again if it cannot)."""
        if part[0].seq is None:  # a part is numbered whole, so its first event tells
            while self._forgotten:
                self._heads.pop(self._forgotten.pop(), None)
            users = {record.user_id for record in part}
            heads = {user_id: self._heads[user_id] for user_id in users if user_id in self._heads}
            if unknown := sorted(users - heads.keys()):
                heads.update(await self._stored_heads(unknown))
            _number(part, heads)
        await self._insert_part(part)
        for record in part:
            assert record.seq is not None
            self._heads[record.user_id] = (record.seq, record.hash)

    @rerun_when_aborted
    async def _insert_part(self, part: list[PendingEvent]) -> None:
        while True:
            rows = [value for record in sorted(part, key=_key) for value in record.row()]  # one lock order
            try:
                async with self._db.autocommit() as tx:
                    await tx.execute("events/insert", rows, counts=(len(part),))
                return
            except DuplicateKey:
                if await self._has_landed(part[0]):
                    self.landed += len(part)
                    log.warning("event log: %d events had been written by a send whose answer was lost; "
                                "not written again", len(part))
                    return
            self._renumber(part, await self._stored_heads(sorted({record.user_id for record in part})))

    def _renumber(self, part: list[PendingEvent], heads: dict[int, Head]) -> None:
        """Number `part` again after the stored heads, and say whose events another writer had appended."""
        first_seq: dict[int, int] = {}
        for record in part:
            assert record.seq is not None
            first_seq.setdefault(record.user_id, record.seq)
        _number(part, heads)
        for user_id, seq in first_seq.items():
            head = heads[user_id][0]
            if head + 1 != seq:
                moved = sum(1 for record in part if record.user_id == user_id)
                self.renumbered += moved
                log.warning("event log: user %d has events up to seq %d from another writer; this process's %d "
                            "events are numbered after them, from seq %d", user_id, head, moved, head + 1,
                            extra={"user_id": user_id})

    async def _has_landed(self, first: PendingEvent) -> bool:
        """Whether the part `first` begins holds its number: its hash there (every part's rows land together)."""
        async with self._db.autocommit() as tx:
            rows = await tx.fetch_all("events/hash_at", (first.user_id, first.seq))
        return bool(rows) and rows[0]["hash"] == first.hash

    async def _stored_heads(self, user_ids: list[int]) -> dict[int, Head]:
        """The users' stored heads; a mangled stored hash gives None (the chain starts again after it)."""
        async with self._db.autocommit() as tx:
            rows = await tx.fetch_all("events/max_seq", user_ids, counts=(len(user_ids),))
        stored = {row["user_id"]: (row["max_seq"], row["hash"] if is_hash(row["hash"]) else None) for row in rows}
        return {user_id: stored.get(user_id, (0, None)) for user_id in user_ids}


def _number(part: Iterable[PendingEvent], heads: dict[int, Head]) -> None:
    """Number and chain each user's events of `part`, in order, from its head."""
    last = dict(heads)
    for record in part:
        seq, previous = last[record.user_id][0] + 1, last[record.user_id][1]
        last[record.user_id] = (seq, record.number(seq, previous))


def _key(record: PendingEvent) -> tuple[int, int]:
    assert record.seq is not None
    return record.user_id, record.seq
