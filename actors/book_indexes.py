"""Each account's `BookIndex`, kept while its fetched book is the same object, so the four steps of a cycle that
look legs up (and every cycle whose book did not change) build it once."""

from __future__ import annotations

from collections.abc import Sequence

from actors.account_memo import AccountMemo
from domain.book import BookIndex
from domain.broker import BrokerOrder

_INDEXES: AccountMemo[BookIndex] = AccountMemo()


def book_index(user_id: int, account_id: int, rows: Sequence[BrokerOrder]) -> BookIndex:
    """The account's `BookIndex` of `rows`, built again only when `rows` is not the object indexed last."""
    return _INDEXES.get(user_id, account_id, rows, None, lambda: BookIndex(rows))
