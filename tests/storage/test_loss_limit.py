"""The daily loss limit and the day's PnL a cycle compares with it, on both dialects."""

from decimal import Decimal

import pytest

from domain.errors import DatabaseError
from domain.pnl import Match, OpenLot
from tests.storage.conftest import T0, given_user_with_account


async def test_the_limit_is_stored_read_back_with_the_context_and_cleared(store):
    user_id, _ = await given_user_with_account(store, "alice")
    assert (await store.load_cycle_context(user_id)).daily_loss_limit is None
    await store.set_daily_loss_limit(user_id, Decimal("5000.50"))
    assert (await store.load_cycle_context(user_id)).daily_loss_limit == Decimal("5000.50")
    await store.set_daily_loss_limit(user_id, None)
    assert (await store.load_cycle_context(user_id)).daily_loss_limit is None


async def test_nonsense_limits_and_unknown_users_are_refused(store):
    user_id, _ = await given_user_with_account(store, "bob")
    with pytest.raises(ValueError, match="positive"):
        await store.set_daily_loss_limit(user_id, Decimal("-1"))
    with pytest.raises(DatabaseError, match="does not exist"):
        await store.set_daily_loss_limit(user_id + 99, Decimal("10"))


async def test_day_pnl_sums_realized_and_unrealized_of_every_account_exactly(store):
    user_id, first = await given_user_with_account(store, "carol", "C1")
    second = await store.add_account(user_id, "paper", "http://127.0.0.1:9000", "C2")
    other_user, other_account = await given_user_with_account(store, "dave", "D1")
    match = Match(symbol="SBIN", entry_order_id=1, exit_order_id=2, direction="LONG", qty=10,
                     entry_price=Decimal("99"), exit_price=Decimal("90.05"), realized_pnl=Decimal("-89.5"))
    lot = OpenLot(symbol="INFY", order_id=3, direction="SHORT", qty=5, entry_price=Decimal("1500"),
                     mark=Decimal("1500.1"), unrealized_pnl=Decimal("-0.5"))
    unmarked = OpenLot(symbol="TCS", order_id=4, direction="LONG", qty=1, entry_price=Decimal("4000"))
    await store.replace_live_history(user_id, first, [match], [lot], T0)
    await store.replace_live_history(user_id, second, [match], [unmarked], T0)
    await store.replace_live_history(other_user, other_account, [match], [], T0)
    assert await store.day_pnl(user_id) == Decimal("-179.5")
