"""The OrderSyncer room's actor: runs the handlers of the steps whose work is in the system of record."""

from __future__ import annotations

from actors.worker import Worker
from messages.commands import ArchiveRejected, LoadCycleContext, RegenerateEntries, SyncOrders


class OrderSyncer(Worker):
    ANSWERS = (LoadCycleContext, SyncOrders, ArchiveRejected, RegenerateEntries)
