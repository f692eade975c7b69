"""Commands: what a UserMonitor asks a worker to do. One tagged union, `Command`.

Every command names the user, the cycle and the accounts it applies to; `step` says which row of the
cycle's matrix it executes. `PlaceEntries` is the one a worker gets from outside a cycle: the batch API's.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from domain.entries import NewEntry
from messages.common import CycleError, CycleSummary, Step


class _CommandBase(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    step: ClassVar[Step]
    user_id: int
    cycle_id: str
    account_ids: tuple[int, ...] = ()


class LoadCycleContext(_CommandBase, tag="load_cycle_context"):
    """Read the user's active accounts, regeneration permissions and kill-switch state."""

    step: ClassVar[Step] = Step.CONTEXT


class FetchSnapshots(_CommandBase, tag="fetch_snapshots"):
    """Order book and positions of every listed account, all calls at once."""

    step: ClassVar[Step] = Step.FETCH


class ComputePnl(_CommandBase, tag="compute_pnl"):
    """FIFO profit and loss of every listed account from its fresh snapshot."""

    step: ClassVar[Step] = Step.PNL


class SyncOrders(_CommandBase, tag="sync_orders"):
    """Bring `orders` in step with the snapshot and PnL, one transaction per account."""

    step: ClassVar[Step] = Step.SYNC


class PlaceProtectiveOrders(_CommandBase, tag="place_protective_orders"):
    """Missing or undersized SL/TP legs of RUNNING orders, and OCO cancels; while the user is
    paused, also cancels of the entries still open (`cancel_open_entries`)."""

    step: ClassVar[Step] = Step.PROTECT
    oco_cancels_only: bool = False
    cancel_open_entries: bool = False


class ModifyEntries(_CommandBase, tag="modify_entries"):
    """Convert untriggered entries whose stop the fair price has crossed to LIMIT."""

    step: ClassVar[Step] = Step.MODIFY_ENTRIES


class ModifyStopLosses(_CommandBase, tag="modify_stop_losses"):
    """Convert untriggered SLs whose stop the fair price has crossed to LIMIT."""

    step: ClassVar[Step] = Step.MODIFY_STOP_LOSSES


class ArchiveRejected(_CommandBase, tag="archive_rejected"):
    """Move orders whose entry was rejected to `orders_archive`."""

    step: ClassVar[Step] = Step.ARCHIVE_REJECTED


class RegenerateEntries(_CommandBase, tag="regenerate_entries"):
    """Turn archived rejected entries of the permitted strategies into `entry_regenerate` rows."""

    step: ClassVar[Step] = Step.REGENERATE
    strategies: tuple[str, ...]


class PlaceRegenerated(_CommandBase, tag="place_regenerated"):
    """Send the pending `entry_regenerate` rows, one batch per account."""

    step: ClassVar[Step] = Step.PLACE_REGENERATED


class ReportErrors(_CommandBase, tag="report_errors"):
    """Send `monitoring_errors` with every error of the cycle to the user's clients."""

    step: ClassVar[Step] = Step.REPORT
    errors: tuple[CycleError, ...]


class SendSummary(_CommandBase, tag="send_summary"):
    """Make the cycle's events durable, then send its `cycle_summary` to the user's clients."""

    step: ClassVar[Step] = Step.SUMMARY
    summary: CycleSummary


class FinishCycle(_CommandBase, tag="finish_cycle"):
    """Close the cycle; handled by the UserMonitor itself, which logs `CycleFinished`."""

    step: ClassVar[Step] = Step.FINISH


Command = (
    LoadCycleContext
    | FetchSnapshots
    | ComputePnl
    | SyncOrders
    | PlaceProtectiveOrders
    | ModifyEntries
    | ModifyStopLosses
    | ArchiveRejected
    | RegenerateEntries
    | PlaceRegenerated
    | ReportErrors
    | SendSummary
    | FinishCycle
)


class PlaceEntries(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="place_entries"):
    """New entries of one account from the batch API, in the order given: the OrderPlacer writes, sends and
    settles each, and answers `EntriesPlaced` (or `PlaceEntriesFailed`)."""

    user_id: int
    account_id: int
    entries: tuple[NewEntry, ...]


WorkerCommand = Command | PlaceEntries
"""Everything a worker answers."""
