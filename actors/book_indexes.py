"""Each account's `BookIndex`, kept while its stored snapshot keeps its version, so the four steps of a cycle
that look legs up (and every cycle whose book did not change) build it once."""

from __future__ import annotations

from actors.account_memo import AccountMemo
from domain.book import BookIndex
from domain.records import BrokerSnapshot

_INDEXES: AccountMemo[BookIndex] = AccountMemo()


def book_index(user_id: int, account_id: int, snapshot: BrokerSnapshot) -> BookIndex:
    """The account's `BookIndex` of the snapshot's orders, built again only for another version."""
    return _INDEXES.get(user_id, account_id, snapshot.version, None, lambda: BookIndex(snapshot.orders))
