"""Accounts of one user are written at the same time by a cycle: their replacements never deadlock."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from domain.pnl import Match, OpenLot
from tests.storage.conftest import given_user_with_account


async def test_concurrent_live_history_replacements_of_several_accounts_all_commit(store):
    user_id, first = await given_user_with_account(store, "alice", "C1")
    accounts = [first] + [await store.add_account(user_id, "paper", "http://127.0.0.1:9000", f"C{n}")
                          for n in range(2, 6)]

    def rows(n: int):
        matches = [Match(symbol=f"S{i}", entry_order_id=i, exit_order_id=i + 1, direction="LONG", qty=1,
                            entry_price=Decimal("10"), exit_price=Decimal("11"), realized_pnl=Decimal("1"))
                   for i in range(n)]
        lots = [OpenLot(symbol=f"S{i}", order_id=i, direction="SHORT", qty=2, entry_price=Decimal("5"))
                for i in range(n)]
        return matches, lots

    for round_ in range(15):
        await asyncio.gather(*(store.replace_live_history(user_id, a, *rows(3 + round_ % 4), datetime.now(UTC))
                               for a in accounts))
    for account_id in accounts:
        history = await store.live_history(user_id, account_id)
        assert len(history.matches) == 3 + 14 % 4 and len(history.open_lots) == 3 + 14 % 4
