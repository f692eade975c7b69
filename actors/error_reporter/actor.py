"""The ErrorReporter worker: answers ReportErrors (Step 10) and SendSummary. A thin shell."""

from __future__ import annotations

from actors.error_reporter.report import AccountFrames, ReportCycleErrors, SendCycleSummary
from actors.io_loop import IoLoop
from actors.worker import Worker
from adapters.store.port import EventLog
from adapters.web.port import Notifier
from domain.ports.clock import Clock
from messages.commands import ReportErrors, SendSummary


class ErrorReporter(Worker):
    def __init__(self, io: IoLoop, clock: Clock, *, notifier: Notifier, event_log: EventLog,
                 account_frames: AccountFrames | None = None) -> None:
        super().__init__(io, clock, {
            ReportErrors: ReportCycleErrors(notifier, clock),
            SendSummary: SendCycleSummary(notifier, event_log, clock, account_frames),
        })
