"""Per-account results that a step keeps while their input is the very same object it was computed from.

The store hands out an account's kept broker snapshot as the same immutable tuple until the snapshot
changes, so a step can tell "nothing changed" by identity alone (`is`, never a content comparison that
could be fooled) and skip rebuilding what depends only on it: the order book's leg index, the FIFO result.
Bounded: past `max_accounts` the oldest entry is dropped and simply computed again next time. Used from the
one I/O loop only.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

MAX_ACCOUNTS = 50_000


class AccountMemo(Generic[T]):
    def __init__(self, max_accounts: int = MAX_ACCOUNTS) -> None:
        self._max_accounts = max_accounts
        self._kept: dict[tuple[int, int], tuple[Any, Hashable, T]] = {}

    def get(self, user_id: int, account_id: int, source: Any, extra: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`, or what it returned last time for this account if `source` is the same object and
        `extra` (what else the result depends on) is equal."""
        key = (user_id, account_id)
        kept = self._kept.get(key)
        if kept is not None and kept[0] is source and kept[1] == extra:
            return kept[2]
        result = compute()
        self._kept.pop(key, None)
        if len(self._kept) >= self._max_accounts:
            del self._kept[next(iter(self._kept))]
        self._kept[key] = (source, extra, result)
        return result
