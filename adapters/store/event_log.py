"""`SqlEventLog`: the monitor_events log with group commit, over the MySQL or SQLite database.

`append` is thread-safe and never blocks. One writer task takes a window's events and has `EventWriter` number,
chain (event_chain.py) and write them in one multi-row INSERT, after each user's stored head whoever else writes
the user; a failed write is retried until durable, never dropped. `flush()` returns once everything appended
before it is committed (README.md, Storage; the versioning rule is at `EVENT_VERSIONS`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from adapters.store.event_chain import canonical_bytes
from adapters.store.event_writer import EventWriter, PendingEvent, parts
from adapters.store.port import ChainLink, LoggedEvent, UndecodableEvent, UserEventSpan
from adapters.store.repository import Database
from adapters.store.values import JsonDocument, utc
from domain.errors import DatabaseError
from domain.records import CycleRecord
from messages.events import Event

log = logging.getLogger(__name__)

EVENT_VERSIONS: Mapping[str, int] = {}
"""Schema version of each event tag written now; a tag not listed is at version 1. A field added with a default
is compatible (bump the tag's version here for the record); a renamed or retyped field, or a new required one,
gets a new tag (`fetch_failed_v2`) and the old class stays in the `Event` union so old logs still decode."""

MAX_CYCLE_ID = 64
"""monitor_events.cycle_id is VARCHAR(64)."""
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
"""The largest event payload logged (JSON). MySQL receives payloads as hex, twice their size, and refuses
a statement past `max_allowed_packet` (16 MiB by default on MariaDB and on MySQL 5.7)."""
MAX_INSERT_PAYLOAD_BYTES = MAX_PAYLOAD_BYTES
"""Payload bytes one INSERT of the writer carries at most: a batch of bigger events goes as several."""
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 31, tzinfo=UTC)
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Event)


def event_tag(event: Event) -> str:
    return str(type(event).__struct_config__.tag)


class EventLogLag(msgspec.Struct, frozen=True, kw_only=True):
    """What the writer has not made durable yet, and why."""

    pending: int
    oldest_pending_s: float | None
    consecutive_failures: int
    last_error: str
    written: int
    batches: int
    renumbered: int = 0
    """Events numbered again after another writer's, which had appended to their user meanwhile."""
    landed: int = 0
    """Events found written by a send whose answer was lost (and so not written again)."""


def _pending(event: Event) -> PendingEvent:
    """The event as it will be stored; ValueError (or TypeError, for a naive time) if it never could be, so the
    caller learns it rather than the writer wedging on it."""
    if len(event.cycle_id) > MAX_CYCLE_ID:
        raise ValueError(f"cycle_id longer than {MAX_CYCLE_ID} characters cannot be logged")
    tag = event_tag(event)
    payload = _encoder.encode(event)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"a {type(event).__name__} of {len(payload):,} bytes of JSON cannot be logged: "
                         f"the most is {MAX_PAYLOAD_BYTES:,}")
    return PendingEvent(event.user_id, event.cycle_id, utc(event.at), tag, EVENT_VERSIONS.get(tag, 1),
                        JsonDocument(payload))


class SqlEventLog:
    """Start with `await start()` on the loop that owns the database; stop with `await close()`.

    Appending takes no lock: events go into a deque (whose append is atomic), so ten thousand monitor threads
    never queue behind each other or behind the writer. Only the writer, on the loop, takes them out, in
    order; a flush waits for the last event queued at its call, and flushes are answered oldest first."""

    def __init__(
        self,
        database: Database,
        *,
        window_s: float = 0.015,
        max_batch: int = 500,
        max_backoff_s: float = 5.0,
    ) -> None:
        self._db = database
        self._chain_writer = EventWriter(database)
        self._window_s = window_s
        self._max_batch = max_batch
        self._max_backoff_s = max_backoff_s
        self._queued: deque[PendingEvent] = deque()
        self._writing: list[PendingEvent] = []
        self._durable = 0
        self._batches = 0
        self._failures = 0
        self._last_error = ""
        self._waiters: deque[tuple[PendingEvent, asyncio.Future[None]]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._urgent = False
        self._wake_requested = False
        self._last_write_at = float("-inf")
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = self._loop.create_task(self._writer(), name="event-log-writer")

    # --- writing ----------------------------------------------------------------------------------

    def append(self, event: Event) -> None:
        if self._loop is None or self._wake is None:
            raise RuntimeError("event log not started: await start() on the database's loop first")
        self._queued.append(_pending(event))
        if not self._wake_requested:  # one wake-up of the loop per batch, not one per event
            self._wake_requested = True
            self._loop.call_soon_threadsafe(self._wake.set)

    async def flush(self, timeout: float | None = None) -> None:
        """Return when every event appended before this call is durable; DatabaseError after `timeout`
        seconds (the events stay queued and will still be written). It makes the writer go at once, but never
        more than once a window, so that many cycles flushing each second still share batches."""
        last = self._queued[-1] if self._queued else (self._writing[-1] if self._writing else None)
        if last is None or last.durable:
            return
        assert self._loop is not None and self._wake is not None
        waiter = self._loop.create_future()
        self._waiters.append((last, waiter))
        self._urgent = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except TimeoutError:
            lag = self.lag()
            raise DatabaseError(
                f"event log: {lag.pending} events not durable after {timeout:g} s"
                + (f" (last error: {lag.last_error})" if lag.last_error else "")
            ) from None

    def lag(self) -> EventLogLag:
        """What is not durable yet; callable from any thread (a racing drain only makes it a moment old)."""
        writing, queued = self._writing, self._queued
        try:
            oldest = writing[0].enqueued if writing else queued[0].enqueued
        except IndexError:
            oldest = None
        return EventLogLag(
            pending=len(writing) + len(queued),
            oldest_pending_s=None if oldest is None else time.monotonic() - oldest,
            consecutive_failures=self._failures,
            last_error=self._last_error,
            written=self._durable,
            batches=self._batches,
            renumbered=self._chain_writer.renumbered,
            landed=self._chain_writer.landed,
        )

    def forget_sequence(self, user_id: int) -> None:
        """The user's events may be written by another process from now on, or were since this one last did
        (the user's lease moved): the user's head is read again before its next events are numbered, sparing
        the INSERT that would find it moved (`EventWriter.forget`). Any thread."""
        self._chain_writer.forget(user_id)

    async def _writer(self) -> None:
        assert self._wake is not None and self._loop is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            wait = self._window_s
            if self._urgent:  # a flush: write now, unless a batch went out less than a window ago
                wait = self._last_write_at + self._window_s - self._loop.time()
            if len(self._queued) < self._max_batch and wait > 0:
                await asyncio.sleep(wait)
            self._urgent = False
            self._wake_requested = False  # an append from here on wakes the writer again; the drain takes the rest
            await self._drain()

    async def _drain(self) -> None:
        """Write what was queued when the drain began; what comes meanwhile waits for the next window."""
        left = len(self._queued)
        while left:
            take = min(left, self._max_batch)
            left -= take
            self._writing = [self._queued.popleft() for _ in range(take)]
            await self._write_until_durable(self._writing)
            for record in self._writing:
                record.durable = True
            self._durable += take
            self._batches += 1
            self._writing = []
            while self._waiters and self._waiters[0][0].durable:
                waiter = self._waiters.popleft()[1]
                if not waiter.done():
                    waiter.set_result(None)

    async def _write_until_durable(self, batch: list[PendingEvent]) -> None:
        for part in parts(batch, MAX_INSERT_PAYLOAD_BYTES):
            await self._write_part_until_durable(part)

    async def _write_part_until_durable(self, part: list[PendingEvent]) -> None:
        assert self._loop is not None
        while True:
            self._last_write_at = self._loop.time()
            try:
                await self._chain_writer.write(part)
            except Exception as exc:
                self._failures += 1
                self._last_error = exc.message if isinstance(exc, DatabaseError) else type(exc).__name__
                backoff = min(self._max_backoff_s, 0.05 * 2 ** min(self._failures, 10))
                log.error(
                    "event log write failed (%d in a row, %d events waiting), retrying in %.2f s: %s",
                    self._failures,
                    self.lag().pending,
                    backoff,
                    self._last_error,
                    exc_info=not isinstance(exc, DatabaseError),
                )
                await asyncio.sleep(backoff)
                continue
            if self._failures:
                log.warning("event log write recovered after %d failures", self._failures)
            self._failures = 0
            self._last_error = ""
            return

    async def close(self, timeout: float = 10.0) -> None:
        """Flush what is queued (up to `timeout`), then stop the writer."""
        try:
            await self.flush(timeout)
        finally:
            if self._task is not None:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
                self._task = None

    # --- reading ----------------------------------------------------------------------------------

    @staticmethod
    def _logged(rows: list[dict[str, object]]) -> list[LoggedEvent]:
        return [LoggedEvent(seq=row["seq"], event=_decoder.decode(row["payload"])) for row in rows]  # type: ignore[arg-type]

    async def read_cycle(self, user_id: int, cycle_id: str) -> list[LoggedEvent]:
        """The cycle's durable events in sequence order (`flush()` first to include the latest)."""
        async with self._db.transaction() as tx:
            return self._logged(await tx.fetch_all("events/cycle", (user_id, cycle_id)))

    async def read_events(self, user_id: int, since: datetime, until: datetime) -> list[LoggedEvent]:
        async with self._db.transaction() as tx:
            return self._logged(await tx.fetch_all("events/range", (user_id, since, until)))

    async def read_events_of_type(self, user_id: int, event_type: str, since: datetime,
                                  until: datetime) -> list[LoggedEvent]:
        async with self._db.transaction() as tx:
            return self._logged(await tx.fetch_all("events/of_type", (user_id, since, until, event_type)))

    async def cycles(
        self, user_id: int, limit: int = 50, since: datetime | None = None, until: datetime | None = None
    ) -> list[CycleRecord]:
        async with self._db.transaction() as tx:
            rows = await tx.fetch_all("events/cycles", (user_id, since or _EARLIEST, until or _LATEST, limit))
        return [msgspec.convert(row, CycleRecord) for row in rows]


    async def spans(self, since: datetime | None = None, until: datetime | None = None) -> list[UserEventSpan]:
        async with self._db.transaction() as tx:
            rows = await tx.fetch_all("events/spans", (since or _EARLIEST, until or _LATEST))
        return [msgspec.convert(row, UserEventSpan) for row in rows]

    async def scan(
        self, user_id: int, first_seq: int, last_seq: int, limit: int = 1000
    ) -> list[LoggedEvent | UndecodableEvent]:
        """A page of raw rows, each decoded on its own (a row that does not decode is reported, not raised) and
        with its `link` in the user's hash chain, for the audit to check."""
        async with self._db.transaction() as tx:
            rows = await tx.fetch_all("events/scan", (user_id, first_seq, last_seq, limit))
        return [decode_stored_event(row, _link(user_id, row)) for row in rows]


def decode_stored_event(row: dict[str, object], link: ChainLink | None = None) -> LoggedEvent | UndecodableEvent:
    """A monitor_events row (seq, cycle_id, at, type, payload) as its event, or as why it does not decode."""
    try:
        return LoggedEvent(seq=row["seq"], event=_decoder.decode(row["payload"]), link=link)  # type: ignore[arg-type]
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return UndecodableEvent(seq=row["seq"], cycle_id=row["cycle_id"], at=utc(row["at"]),  # type: ignore[arg-type]
                                type=str(row["type"]), error=str(exc), link=link)


def _link(user_id: int, row: dict[str, Any]) -> ChainLink:
    payload = row["payload"]
    utf8 = payload.encode() if isinstance(payload, str) else bytes(payload)
    return ChainLink(hash=row["hash"], canonical=canonical_bytes(user_id, row["seq"], row["cycle_id"], utc(row["at"]),
                                                                 row["type"], row["version"], utf8))


async def open_event_log(
    database: Database, *, window_s: float = 0.015, max_batch: int = 500, max_backoff_s: float = 5.0
) -> SqlEventLog:
    """A started event log on the running loop, which must be the loop the database lives on."""
    event_log = SqlEventLog(database, window_s=window_s, max_batch=max_batch, max_backoff_s=max_backoff_s)
    await event_log.start()
    return event_log
