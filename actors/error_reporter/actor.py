"""The ErrorReporter room's actor: runs the handlers that report a cycle's errors and its summary (report.py)."""

from __future__ import annotations

from actors.worker import Worker
from messages.commands import ReportErrors, SendSummary


class ErrorReporter(Worker):
    ANSWERS = (ReportErrors, SendSummary)
