"""What the PnL step asks of the store: the fetched snapshots, the fair prices, and the FIFO history it writes."""

from __future__ import annotations

from typing import Protocol

from adapters.store.port import FairPriceStore, SnapshotStore


class PnlStore(SnapshotStore, FairPriceStore, Protocol):
    """The concerns of the store this room uses; `SqlStore` is one."""
