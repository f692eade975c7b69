"""The OrderSyncer worker: answers the commands whose work is in the system of record. A thin shell."""

from __future__ import annotations

from actors.io_loop import IoLoop
from actors.worker import StepHandler, Worker
from domain.ports.clock import Clock
from messages.commands import ArchiveRejected, LoadCycleContext, RegenerateEntries, SyncOrders


class OrderSyncer(Worker):
    def __init__(
        self,
        io: IoLoop,
        clock: Clock,
        *,
        load_cycle_context: StepHandler,
        sync_orders: StepHandler,
        archive_rejected: StepHandler,
        regenerate_entries: StepHandler,
    ) -> None:
        super().__init__(io, clock, {
            LoadCycleContext: load_cycle_context,
            SyncOrders: sync_orders,
            ArchiveRejected: archive_rejected,
            RegenerateEntries: regenerate_entries,
        })
