"""Vocabulary shared by every message family: cycle steps, step outcomes, cycle errors and summaries."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

import msgspec

from domain.errors import ErrorKind
from domain.time import UtcDateTime

CycleTrigger = Literal["schedule", "manual", "connect", "takeover"]
"""What started a cycle: `schedule` the user's interval tick; `manual` a person (`run_cycle`, a pause);
`connect` the client connection with which this replica took the user's lease (back); `takeover` this replica
taking the lease later, for clients already connected to it (its holder stopped renewing it)."""


class Step(StrEnum):
    """The cycle's steps in execution order (DESIGN.md's matrix numbers them 1-10)."""

    CONTEXT = "context"
    FETCH = "fetch"
    PNL = "pnl"
    SYNC = "sync"
    PROTECT = "protect"
    MODIFY_ENTRIES = "modify_entries"
    MODIFY_STOP_LOSSES = "modify_stop_losses"
    ARCHIVE_REJECTED = "archive_rejected"
    REGENERATE = "regenerate"
    PLACE_REGENERATED = "place_regenerated"
    REPORT = "report"
    SUMMARY = "summary"
    FINISH = "finish"


MATRIX_NUMBER: dict[Step, int] = {
    Step.FETCH: 1,
    Step.PNL: 2,
    Step.SYNC: 3,
    Step.PROTECT: 4,
    Step.MODIFY_ENTRIES: 5,
    Step.MODIFY_STOP_LOSSES: 6,
    Step.ARCHIVE_REJECTED: 7,
    Step.REGENERATE: 8,
    Step.PLACE_REGENERATED: 9,
    Step.REPORT: 10,
}


class Outcome(StrEnum):
    """What happened to one account in one step."""

    OK = "ok"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"


class CycleError(msgspec.Struct, frozen=True, kw_only=True):
    """One failure of a cycle, as the user reads it in `monitoring_errors`."""

    step: Step
    account_id: int | None
    kind: ErrorKind
    message: str
    at: UtcDateTime


class StepReport(msgspec.Struct, frozen=True, kw_only=True):
    """One step's outcome for one account (account_id None for user-level steps) in a cycle summary."""

    step: Step
    account_id: int | None
    outcome: Outcome
    duration_ms: int | None = None


class CycleSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What every cycle reports to the user's clients when it ends."""

    user_id: int
    cycle_id: str
    started_at: UtcDateTime
    account_ids: tuple[int, ...]
    steps: tuple[StepReport, ...]
    error_count: int
    notices: tuple[str, ...] = ()
    paused: bool = False
    stale_fair_prices: int = 0
    """Orders the modify-entries and modify-stop-losses steps left alone because their symbol's fair price was
    missing or too old, over every account (0 in the summaries of cycles logged before it was counted)."""
