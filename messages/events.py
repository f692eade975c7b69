"""Events: immutable facts appended to the event log. One tagged union, `Event`.

Every event names the user, the cycle and the accounts it concerns, and when it happened (UTC). A step's
outcome events carry `step` (a class constant) so the decider can fold them; failures carry a
machine-readable `kind` and a short message a trader can read. Adding a field with a default keeps old
logs decodable; an incompatible change gets a new tag and keeps the old class for decoding.
`EntriesAnswer`, the OrderPlacer's answer to the batch API's `PlaceEntries`, is told back and never logged.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Literal

import msgspec

from domain.entries import EntryResult
from domain.errors import ErrorKind
from domain.time import UtcDateTime
from messages.commands import Command
from messages.common import CycleTrigger, Step


class _EventBase(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    user_id: int
    cycle_id: str
    at: UtcDateTime
    account_ids: tuple[int, ...] = ()


class _StepSucceeded(_EventBase, frozen=True, kw_only=True):
    step: ClassVar[Step]
    succeeded: ClassVar[bool] = True


class _StepFailed(_EventBase, frozen=True, kw_only=True):
    step: ClassVar[Step]
    succeeded: ClassVar[bool] = False
    kind: ErrorKind
    message: str


class CyclePolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Service settings that shape a cycle's decisions, recorded so replay decides the same. A field added
    later defaults to what cycles logged before it did."""

    isolate_account_failures: bool = True
    protect_while_paused: bool = False
    """A paused cycle still places and resizes stop-losses and take-profits and rescues gapped stop-losses
    (config `protect_while_paused`, on by default); False: it sends OCO cancels only (as every cycle logged
    before this field existed did)."""
    cancel_entries_when_paused: bool = False
    """A paused cycle cancels the entries still open at the broker (config `cancel_entries_when_paused`)."""
    summary_from_step_events: bool = False
    """The summary also tells what the steps' events carry: the orders skipped for a stale fair price (counted)
    and a notice for each order archived, regenerated, running without a stop-loss or never seen at the broker.
    False: the summary of the cycles logged before this field existed, which said none of it."""


class OrderChange(msgspec.Struct, frozen=True, kw_only=True):
    """One field of one `orders` row changed by a step, before and after (money as decimal strings)."""

    order_id: int
    account_id: int
    field: str
    before: str | int | None
    after: str | int | None


class OrderAction(msgspec.Struct, frozen=True, kw_only=True):
    """One request a step made (or adopted) at the broker for a leg of an internal order."""

    order_id: int
    account_id: int
    leg: Literal["entry", "sl", "tp"]
    action: Literal["place", "adopt", "modify", "cancel", "in_flight", "rejected"]
    tag: str
    broker_order_id: int | None = None
    quantity: int | None = None
    price: Decimal | None = None
    detail: str = ""


class OrderAttention(msgspec.Struct, frozen=True, kw_only=True):
    """An order a step found needing the trader's attention, and why."""

    order_id: int
    account_id: int
    symbol: str
    reason: str


class RegeneratedEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A rejected entry made again (regenerate step), and the new order it was placed as (`order_id`, by the
    place-regenerated step)."""

    archived_order_id: int
    account_id: int
    symbol: str
    attempt: int
    order_id: int | None = None


class ArchivedOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order moved to `orders_archive`, with its whole row so nothing is lost."""

    order_id: int
    account_id: int
    reason: str
    row: dict[str, str | int | None]


# --- cycle lifecycle, written by the UserMonitor itself -------------------------------------------


class CycleStarted(_EventBase, tag="cycle_started"):
    trigger: CycleTrigger = "schedule"
    policy: CyclePolicy = CyclePolicy()


class CommandIssued(_EventBase, tag="command_issued"):
    """The decider's command, as sent; replay checks `decide` yields exactly this at this point."""

    command: Command
    deadline_s: float | None = None


class StepTimedOut(_EventBase, tag="step_timed_out"):
    """No reply for these accounts before the step's deadline; counts as the step's failure."""

    step: Step
    deadline_s: float


class CycleFinished(_EventBase, tag="cycle_finished"):
    error_count: int = 0


class TickSkipped(_EventBase, tag="tick_skipped"):
    """A tick that did not start a cycle; `cycle_id` is the running cycle's when that was the reason.
    `waiting_for_capacity`: an earlier tick of the user still waits for its host's free slot."""

    reason: Literal["cycle_running", "draining", "no_connection", "waiting_for_capacity"]


class TradingWindowChanged(_EventBase, tag="trading_window_changed"):
    """Logged once per transition, so ticks outside the window write nothing else."""

    open: bool


class MonitorRestarted(_EventBase, tag="monitor_restarted"):
    """A UserMonitor crashed; `cycle_id` is the cycle it interrupted, if any. The Supervisor replaced it, or,
    `stopped`, did not (its restart budget is spent, or no client is left): the user is not monitored."""

    reason: str
    stopped: bool = False


# --- step outcomes, written by workers --------------------------------------------------------------


class CycleContextLoaded(_StepSucceeded, tag="cycle_context_loaded"):
    """`account_ids` are the accounts this cycle works on (active, with a live session)."""

    step: ClassVar[Step] = Step.CONTEXT
    awaiting_session: tuple[int, ...] = ()
    regeneration_strategies: tuple[str, ...] = ()
    paused: bool = False
    pause_reason: str = ""
    paused_by_loss_limit: bool = False
    """The daily loss limit paused automation as this context was loaded (it was running before)."""


class CycleContextFailed(_StepFailed, tag="cycle_context_failed"):
    step: ClassVar[Step] = Step.CONTEXT


class SnapshotFetched(_StepSucceeded, tag="snapshot_fetched"):
    step: ClassVar[Step] = Step.FETCH
    order_rows: int = 0
    position_rows: int = 0


class FetchFailed(_StepFailed, tag="fetch_failed"):
    step: ClassVar[Step] = Step.FETCH


class PnlComputed(_StepSucceeded, tag="pnl_computed"):
    step: ClassVar[Step] = Step.PNL
    realized_pnl: Decimal = Decimal(0)
    unrealized_pnl: Decimal = Decimal(0)
    """Of the marked open lots; `unmarked_lots` have no price to mark them."""
    matches: int = 0
    open_lots: int = 0
    unmarked_lots: int | None = None
    """None in events logged before it was recorded."""


class PnlFailed(_StepFailed, tag="pnl_failed"):
    step: ClassVar[Step] = Step.PNL


class OrdersSynced(_StepSucceeded, tag="orders_synced"):
    step: ClassVar[Step] = Step.SYNC
    changes: tuple[OrderChange, ...] = ()


class SyncFailed(_StepFailed, tag="sync_failed"):
    step: ClassVar[Step] = Step.SYNC


class ProtectiveOrdersPlaced(_StepSucceeded, tag="protective_orders_placed"):
    """`unprotected`: running trades the step leaves without a live stop-loss; `entries_not_seen`: entries whose
    request no order book lists long after it was sent (the broker never took them)."""

    step: ClassVar[Step] = Step.PROTECT
    actions: tuple[OrderAction, ...] = ()
    unprotected: tuple[OrderAttention, ...] = ()
    entries_not_seen: tuple[OrderAttention, ...] = ()


class ProtectiveOrdersFailed(_StepFailed, tag="protective_orders_failed"):
    step: ClassVar[Step] = Step.PROTECT
    actions: tuple[OrderAction, ...] = ()
    unprotected: tuple[OrderAttention, ...] = ()
    entries_not_seen: tuple[OrderAttention, ...] = ()


class EntriesModified(_StepSucceeded, tag="entries_modified"):
    step: ClassVar[Step] = Step.MODIFY_ENTRIES
    actions: tuple[OrderAction, ...] = ()
    stale_fair_prices: int = 0


class EntryModificationFailed(_StepFailed, tag="entry_modification_failed"):
    step: ClassVar[Step] = Step.MODIFY_ENTRIES
    actions: tuple[OrderAction, ...] = ()
    stale_fair_prices: int = 0


class StopLossesModified(_StepSucceeded, tag="stop_losses_modified"):
    step: ClassVar[Step] = Step.MODIFY_STOP_LOSSES
    actions: tuple[OrderAction, ...] = ()
    stale_fair_prices: int = 0


class StopLossModificationFailed(_StepFailed, tag="stop_loss_modification_failed"):
    step: ClassVar[Step] = Step.MODIFY_STOP_LOSSES
    actions: tuple[OrderAction, ...] = ()
    stale_fair_prices: int = 0


class RejectedArchived(_StepSucceeded, tag="rejected_archived"):
    step: ClassVar[Step] = Step.ARCHIVE_REJECTED
    archived: tuple[ArchivedOrder, ...] = ()


class ArchiveFailed(_StepFailed, tag="archive_failed"):
    step: ClassVar[Step] = Step.ARCHIVE_REJECTED


class EntriesRegenerated(_StepSucceeded, tag="entries_regenerated"):
    """`regenerated_order_ids`: the archived orders made again; `regenerated` says the same of each, with its
    symbol and attempt (empty in events logged before it existed)."""

    step: ClassVar[Step] = Step.REGENERATE
    regenerated_order_ids: tuple[int, ...] = ()
    regenerated: tuple[RegeneratedEntry, ...] = ()


class RegenerationFailed(_StepFailed, tag="regeneration_failed"):
    step: ClassVar[Step] = Step.REGENERATE


class RegeneratedPlaced(_StepSucceeded, tag="regenerated_placed"):
    """`regenerated`: each regenerated entry that became an order, with the order's id (its request's
    outcome is the entry action of that order in `actions`)."""

    step: ClassVar[Step] = Step.PLACE_REGENERATED
    actions: tuple[OrderAction, ...] = ()
    regenerated: tuple[RegeneratedEntry, ...] = ()


class RegeneratedPlacementFailed(_StepFailed, tag="regenerated_placement_failed"):
    step: ClassVar[Step] = Step.PLACE_REGENERATED
    actions: tuple[OrderAction, ...] = ()
    regenerated: tuple[RegeneratedEntry, ...] = ()


class ErrorsReported(_StepSucceeded, tag="errors_reported"):
    step: ClassVar[Step] = Step.REPORT
    clients: int = 0


class ErrorReportFailed(_StepFailed, tag="error_report_failed"):
    step: ClassVar[Step] = Step.REPORT


class SummarySent(_StepSucceeded, tag="summary_sent"):
    step: ClassVar[Step] = Step.SUMMARY
    clients: int = 0


class SummaryFailed(_StepFailed, tag="summary_failed"):
    step: ClassVar[Step] = Step.SUMMARY


StepSucceeded = (
    CycleContextLoaded
    | SnapshotFetched
    | PnlComputed
    | OrdersSynced
    | ProtectiveOrdersPlaced
    | EntriesModified
    | StopLossesModified
    | RejectedArchived
    | EntriesRegenerated
    | RegeneratedPlaced
    | ErrorsReported
    | SummarySent
)

StepFailed = (
    CycleContextFailed
    | FetchFailed
    | PnlFailed
    | SyncFailed
    | ProtectiveOrdersFailed
    | EntryModificationFailed
    | StopLossModificationFailed
    | ArchiveFailed
    | RegenerationFailed
    | RegeneratedPlacementFailed
    | ErrorReportFailed
    | SummaryFailed
)

Event = (
    CycleStarted
    | CommandIssued
    | StepTimedOut
    | CycleFinished
    | TickSkipped
    | TradingWindowChanged
    | MonitorRestarted
    | StepSucceeded
    | StepFailed
)


class EntriesPlaced(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="entries_placed"):
    """What became of each entry of a `PlaceEntries`, in the order given."""

    user_id: int
    account_id: int
    results: tuple[EntryResult, ...]


class PlaceEntriesFailed(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="place_entries_failed"):
    """`PlaceEntries` raised or ran past its deadline: what became of its entries is not known, and any of them
    may have been sent."""

    user_id: int
    account_id: int
    kind: ErrorKind
    message: str


EntriesAnswer = EntriesPlaced | PlaceEntriesFailed
