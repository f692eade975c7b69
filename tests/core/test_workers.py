"""Workers on the real asyncio loop thread: every command is answered, by events or by its failure event."""

import asyncio
import queue
import threading
import time
from datetime import UTC, datetime

import pytest

from actors.error_reporter.actor import ErrorReporter
from actors.error_reporter.report import ReportCycleErrors, SendCycleSummary
from actors.io_loop import IoLoop
from actors.order_syncer.context import LoadContext
from actors.worker import CANCEL_GRACE_S, Request, Worker
from adapters.store.port import CycleContext
from domain.errors import DatabaseError, ErrorKind
from messages.commands import FetchSnapshots, LoadCycleContext, PlaceEntries, ReportErrors, SendSummary
from messages.common import CycleError, CycleSummary, Step
from messages.control import StepOutcome
from messages.events import EntriesPlaced, PlaceEntriesFailed, SnapshotFetched
from messages.frames import CycleSummaryFrame, MonitoringErrors, SessionNeeded
from service.clock import SystemClock
from tests.doubles import RecordingNotifier

AT = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)


class Inbox:
    """Thread-safe reply-to that a test can wait on; a `StepOutcome` is unpacked into its events, and the
    messages themselves are counted."""

    def __init__(self):
        self._queue = queue.Queue()
        self.messages = 0

    def tell(self, message):
        self.messages += 1
        for event in message.events if isinstance(message, StepOutcome) else (message,):
            self._queue.put(event)

    def next(self, timeout=5.0):
        return self._queue.get(timeout=timeout)


@pytest.fixture
def io():
    loop = IoLoop()
    yield loop
    loop.stop()


@pytest.fixture
def clock(io):
    return SystemClock(io.loop)


def request(command, reply_to):
    return Request(command=command, reply_to=reply_to, deadline_s=10)


def start_worker(io, clock, handlers):
    """A room answering exactly the commands `handlers` has a handler for."""
    room = type("Room", (Worker,), {"ANSWERS": tuple(handlers)})
    return room.start(io, clock, handlers)


def reporter_of(io, clock, notifier, event_log):
    return ErrorReporter.start(io, clock, {ReportErrors: ReportCycleErrors(notifier, clock),
                                           SendSummary: SendCycleSummary(notifier, event_log, clock)})


def test_a_room_started_without_a_handler_for_a_command_it_answers_says_which(io, clock):
    with pytest.raises(ValueError, match="ErrorReporter answers SendSummary but no handler is given"):
        ErrorReporter(io, clock, {ReportErrors: ReportCycleErrors(RecordingNotifier(), clock)})


def test_a_handler_runs_on_the_io_loop_and_its_events_come_back(io, clock):
    ran_on = []

    async def fetch(command):
        ran_on.append(threading.current_thread().name)
        return (SnapshotFetched(user_id=command.user_id, cycle_id=command.cycle_id, at=clock.now(),
                                account_ids=command.account_ids, order_rows=3),)

    worker = start_worker(io, clock, {FetchSnapshots: fetch})
    inbox = Inbox()
    try:
        worker.tell(request(FetchSnapshots(user_id=1, cycle_id="c", account_ids=(4,)), inbox))
        event = inbox.next()
        assert isinstance(event, SnapshotFetched) and event.order_rows == 3 and event.account_ids == (4,)
        assert ran_on == ["io-loop"]
    finally:
        worker.stop()


@pytest.mark.parametrize(("error", "kind", "message"), [
    (DatabaseError("deadlock found; transaction rolled back"), ErrorKind.DB, "deadlock found; transaction rolled back"),
    (TimeoutError(), ErrorKind.TIMEOUT, "timed out"),
    (ZeroDivisionError("boom"), ErrorKind.INTERNAL, "internal error (ZeroDivisionError)"),
])
def test_a_raising_handler_becomes_the_steps_failure_event_for_every_account(io, clock, error, kind, message):
    async def fetch(command):
        raise error

    worker = start_worker(io, clock, {FetchSnapshots: fetch})
    inbox = Inbox()
    try:
        worker.tell(request(FetchSnapshots(user_id=1, cycle_id="c", account_ids=(4, 5)), inbox))
        event = inbox.next()
        assert type(event).__name__ == "FetchFailed"
        assert (event.kind, event.message, event.account_ids) == (kind, message, (4, 5))
        assert worker.is_alive()
    finally:
        worker.stop()


def test_a_steps_events_for_several_accounts_reach_the_monitor_in_one_message(io, clock):
    async def fetch(command):
        return tuple(SnapshotFetched(user_id=1, cycle_id="c", at=AT, account_ids=(account_id,), order_rows=0,
                                     position_rows=0) for account_id in command.account_ids)

    worker = start_worker(io, clock, {FetchSnapshots: fetch})
    inbox = Inbox()
    try:
        worker.tell(request(FetchSnapshots(user_id=1, cycle_id="c", account_ids=(4, 5, 6)), inbox))
        assert [inbox.next().account_ids for _ in range(3)] == [(4,), (5,), (6,)]
        assert inbox.messages == 1
    finally:
        worker.stop()


def test_work_still_running_past_its_deadline_is_cancelled_and_answered_as_timed_out(io, clock):
    cleaned_up = threading.Event()

    async def fetch(command):
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned_up.set()  # a transaction would roll back here, a broker request be abandoned

    worker = start_worker(io, clock, {FetchSnapshots: fetch})
    inbox = Inbox()
    try:
        started = time.monotonic()
        worker.tell(Request(command=FetchSnapshots(user_id=1, cycle_id="c", account_ids=(4,)), reply_to=inbox,
                            deadline_s=0.2))
        event = inbox.next()
        assert (type(event).__name__, event.kind, event.message) == ("FetchFailed", ErrorKind.TIMEOUT, "timed out")
        # uvloop's timers count in whole milliseconds of a cached loop time: one may fire up to ~1 ms early
        assert 0.2 + CANCEL_GRACE_S - 0.005 <= time.monotonic() - started < 0.2 + CANCEL_GRACE_S + 2
        assert cleaned_up.wait(2)
    finally:
        worker.stop()


def test_work_sent_without_a_deadline_runs_to_its_end(io, clock):
    async def place(command):
        await asyncio.sleep(CANCEL_GRACE_S + 0.3)
        return (EntriesPlaced(user_id=command.user_id, account_id=command.account_id, results=()),)

    worker = start_worker(io, clock, {PlaceEntries: place})
    inbox = Inbox()
    try:
        worker.tell(Request(command=PlaceEntries(user_id=1, account_id=4, entries=()), reply_to=inbox,
                            deadline_s=None))
        assert inbox.next() == EntriesPlaced(user_id=1, account_id=4, results=())
    finally:
        worker.stop()


def test_a_raising_placement_of_entries_is_answered_with_its_own_failure_not_a_cycles_event(io, clock):
    async def place(command):
        raise ZeroDivisionError("boom")

    worker = start_worker(io, clock, {PlaceEntries: place})
    inbox = Inbox()
    try:
        worker.tell(request(PlaceEntries(user_id=1, account_id=4, entries=()), inbox))
        assert inbox.next() == PlaceEntriesFailed(user_id=1, account_id=4, kind=ErrorKind.INTERNAL,
                                                  message="internal error (ZeroDivisionError)")
    finally:
        worker.stop()


def test_a_command_without_a_handler_is_answered_with_a_failure(io, clock):
    worker = start_worker(io, clock, {})
    inbox = Inbox()
    try:
        worker.tell(request(FetchSnapshots(user_id=1, cycle_id="c", account_ids=(4,)), inbox))
        assert type(inbox.next()).__name__ == "FetchFailed"
    finally:
        worker.stop()


def test_context_comes_from_the_store(io, clock):
    class Store:
        async def load_cycle_context(self, user_id):
            assert user_id == 9
            return CycleContext(account_ids=(1, 2), awaiting_session=(3,), regeneration_strategies=("m",),
                                paused=True, pause_reason="manual")

    worker = start_worker(io, clock, {LoadCycleContext: LoadContext(Store(), clock)})
    inbox = Inbox()
    try:
        worker.tell(request(LoadCycleContext(user_id=9, cycle_id="c"), inbox))
        event = inbox.next()
        assert (event.account_ids, event.awaiting_session, event.regeneration_strategies, event.paused) == (
            (1, 2), (3,), ("m",), True)
    finally:
        worker.stop()


def test_errors_reach_clients_with_one_session_needed_per_expired_account(io, clock):
    notifier = RecordingNotifier(clients={9: 2})
    reporter = reporter_of(io, clock, notifier, None)
    errors = (
        CycleError(step=Step.FETCH, account_id=1, kind=ErrorKind.SESSION_EXPIRED, message="expired", at=AT),
        CycleError(step=Step.FETCH, account_id=2, kind=ErrorKind.TIMEOUT, message="slow", at=AT),
        CycleError(step=Step.PNL, account_id=1, kind=ErrorKind.SESSION_EXPIRED, message="again", at=AT),
    )
    inbox = Inbox()
    try:
        reporter.tell(request(ReportErrors(user_id=9, cycle_id="c", account_ids=(1, 2), errors=errors), inbox))
        event = inbox.next()
        assert type(event).__name__ == "ErrorsReported" and event.clients == 2
        frames = [frame for _, frame in notifier.sent]
        assert isinstance(frames[0], MonitoringErrors) and frames[0].errors == errors
        assert [f.account_id for f in frames[1:] if isinstance(f, SessionNeeded)] == [1]
    finally:
        reporter.stop()


def test_the_summary_is_sent_only_after_the_event_log_is_flushed(io, clock):
    order = []

    class Log:
        async def flush(self):
            order.append("flush")

    class Notifier(RecordingNotifier):
        async def send(self, user_id, frame):
            order.append(type(frame).__name__)
            return 1

    reporter = reporter_of(io, clock, Notifier(), Log())
    summary = CycleSummary(user_id=9, cycle_id="c", started_at=AT, account_ids=(1,), steps=(), error_count=0)
    inbox = Inbox()
    try:
        reporter.tell(request(SendSummary(user_id=9, cycle_id="c", summary=summary), inbox))
        assert type(inbox.next()).__name__ == "SummarySent"
        assert order == ["flush", CycleSummaryFrame.__name__]
    finally:
        reporter.stop()
