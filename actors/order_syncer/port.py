"""What the OrderSyncer's steps ask of the store: the orders, the snapshots and fair prices, and the archive."""

from __future__ import annotations

from typing import Protocol

from adapters.store.port import ArchiveStore, FairPriceStore, OrderStore, SnapshotStore


class SyncerStore(OrderStore, SnapshotStore, FairPriceStore, ArchiveStore, Protocol):
    """The concerns of the store this room uses; `SqlStore` is one."""
