"""What the OrderPlacer's steps ask of the store: accounts, orders, snapshots, fair prices and pending regenerations."""

from __future__ import annotations

from typing import Protocol

from adapters.store.port import AccountStore, ArchiveStore, FairPriceStore, OrderStore, SnapshotStore


class PlacerStore(AccountStore, OrderStore, SnapshotStore, FairPriceStore, ArchiveStore, Protocol):
    """The concerns of the store this room uses; `SqlStore` is one."""
