"""The ErrorReporter worker: answers ReportErrors (Step 10) and SendSummary. A thin shell."""

from __future__ import annotations

from actors.error_reporter.report import ReportCycleErrors, SendCycleSummary
from actors.worker import Worker
from adapters.store.port import EventLog, Store
from adapters.web.port import Notifier
from messages.commands import ReportErrors, SendSummary
from service.clock import Clock
from service.io_loop import IoLoop


class ErrorReporter(Worker):
    def __init__(self, io: IoLoop, clock: Clock, *, notifier: Notifier, event_log: EventLog,
                 store: Store | None = None) -> None:
        super().__init__(io, clock, {
            ReportErrors: ReportCycleErrors(notifier, clock),
            SendSummary: SendCycleSummary(notifier, event_log, clock, store),
        })
