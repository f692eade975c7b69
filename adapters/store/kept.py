"""What the store keeps in memory of per-account rows, so a steady cycle neither re-reads nor re-writes them.

`diff_rows` says which positions of an account's row list changed since it was last written, `apply_diff`
updates the kept rows (as the database returns them) by that diff, and `KeptRows` is an LRU of per-account
values bounded by a total row budget. `next_version` numbers the contents the store hands out: a content
keeps its version while unchanged, any other gets a new one from one process-wide counter, so a version is
never reused (not after an eviction, not by another store) and consumers key what they compute on it.
Evicting an entry never makes a result wrong: the next write rewrites the account's rows, the next read
goes to the database and gets a new version.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

V = TypeVar("V")
R = TypeVar("R")
AccountKey = tuple[int, int]
"""(user id, account id)."""

_VERSIONS = itertools.count(1)


def next_version() -> int:
    """A version no content of this process had before."""
    return next(_VERSIONS)


class RowDiff(NamedTuple):
    """How to turn the stored rows into the new ones, by ordinal (a row's position in its list)."""

    delete_all: bool
    """Delete all the account's rows first (what is stored is not known)."""
    delete: list[int]
    """Delete the rows at these ordinals: changed ones, and those past the end of a shorter new list."""
    insert: list[int]
    """Insert the new rows at these ordinals: changed ones, then those past the end of a shorter old list."""

    @property
    def empty(self) -> bool:
        return not (self.delete_all or self.delete or self.insert)


def diff_rows(stored: Sequence[Any] | None, new: Sequence[Any]) -> RowDiff:
    """Compare `new` with `stored` position by position; `stored=None` (unknown) rewrites everything."""
    if stored is None:
        return RowDiff(True, [], list(range(len(new))))
    if len(stored) == len(new) and tuple(stored) == tuple(new):  # compares identical rows by identity alone
        return RowDiff(False, [], [])
    changed = [i for i in range(min(len(stored), len(new))) if stored[i] is not new[i] and stored[i] != new[i]]
    return RowDiff(False, changed + list(range(len(new), len(stored))), changed + list(range(len(stored), len(new))))


def apply_diff(view: Sequence[R], new: Sequence[Any], diff: RowDiff, as_stored: Callable[[Any], R]) -> tuple[R, ...]:
    """`view` (the stored rows as the database returns them) after `diff` wrote `new`: rows the diff inserts
    are converted with `as_stored`, the others kept; an empty diff gives back `view` itself."""
    if diff.empty:
        return tuple(view)
    if diff.delete_all:
        return tuple(as_stored(row) for row in new)
    updated = list(view[: len(new)])
    for ordinal in diff.insert:
        if ordinal < len(updated):
            updated[ordinal] = as_stored(new[ordinal])
        else:
            updated.append(as_stored(new[ordinal]))
    return tuple(updated)


class KeptRows(Generic[V]):
    """Per-account values, least recently used evicted first once their rows pass `max_rows` in all."""

    def __init__(self, max_rows: int) -> None:
        if max_rows < 0:
            raise ValueError("max_rows must not be negative")
        self._max_rows = max_rows
        self._entries: OrderedDict[AccountKey, tuple[V, int]] = OrderedDict()
        self._accounts_of_user: dict[int, set[int]] = {}
        self._rows = 0

    def get(self, key: AccountKey) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: AccountKey, value: V, rows: int) -> None:
        self.forget(key)
        if rows > self._max_rows:
            return
        self._entries[key] = (value, rows)
        self._accounts_of_user.setdefault(key[0], set()).add(key[1])
        self._rows += rows
        while self._rows > self._max_rows:
            self.forget(next(iter(self._entries)))

    def forget(self, key: AccountKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._rows -= entry[1]
        accounts = self._accounts_of_user[key[0]]
        accounts.discard(key[1])
        if not accounts:
            del self._accounts_of_user[key[0]]

    def forget_user(self, user_id: int) -> None:
        for account_id in list(self._accounts_of_user.get(user_id, ())):
            self.forget((user_id, account_id))

    @property
    def rows(self) -> int:
        return self._rows

    def __len__(self) -> int:
        return len(self._entries)
