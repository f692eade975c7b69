"""What the fetch step asks of the store: the accounts' credentials and sessions, and their snapshots."""

from __future__ import annotations

from typing import Protocol

from adapters.store.port import AccountStore, SnapshotStore


class FetchStore(AccountStore, SnapshotStore, Protocol):
    """The concerns of the store this room uses; `SqlStore` is one."""
