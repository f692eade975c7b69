"""Per-account results that a step keeps while the content they were computed from keeps its version.

The store hands out each account's snapshot and FIFO history with a version that stays while the rows are
unchanged and is never given to other rows (adapters/store/kept.py), so a step can skip rebuilding what
depends only on them (the order book's leg index, the FIFO result) by comparing versions, not contents.
Bounded: past `max_accounts` the oldest entry is dropped and simply computed again next time. Used from the
one I/O loop only.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_ACCOUNTS = 50_000


class AccountMemo(Generic[T]):
    def __init__(self, max_accounts: int = MAX_ACCOUNTS) -> None:
        self._max_accounts = max_accounts
        self._kept: dict[tuple[int, int], tuple[int, Hashable, T]] = {}

    def get(self, user_id: int, account_id: int, version: int, extra: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`, or what it returned last time for this account if the content it read had the same
        `version` and `extra` (what else the result depends on) is equal."""
        key = (user_id, account_id)
        kept = self._kept.get(key)
        if kept is not None and kept[0] == version and kept[1] == extra:
            return kept[2]
        result = compute()
        self._kept.pop(key, None)
        if len(self._kept) >= self._max_accounts:
            del self._kept[next(iter(self._kept))]
        self._kept[key] = (version, extra, result)
        return result
