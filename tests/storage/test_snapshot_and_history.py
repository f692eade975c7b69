"""Step 1's snapshot and Step 2's FIFO history replace one account's rows and nobody else's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.store.factory import connect_store
from domain.broker import BrokerOrder, BrokerPosition
from domain.errors import DatabaseError
from domain.pnl import Match, OpenLot
from domain.status import SERVICE_STATUSES, OrderStatus
from tests.storage.conftest import T0, given_user_with_account


def a_broker_order(app_order_id: int, **overrides) -> BrokerOrder:
    fields = dict(
        client_id="C1",
        app_order_id=app_order_id,
        exchange_order_id=f"X{app_order_id}",
        exchange_segment="NSECM",
        instrument_id=2885,
        symbol="RELIANCE",
        side="BUY",
        order_type="LIMIT",
        product_type="NRML",
        quantity=15,
        limit_price=Decimal("254.55"),
        status="Filled",
        filled_qty=15,
        leaves_qty=0,
        avg_price=Decimal("254.5"),
        created_at=T0,
        updated_at=T0 + timedelta(seconds=1),
        tag=f"T{app_order_id}",
    )
    fields.update(overrides)
    return BrokerOrder(**fields)


def a_position(symbol: str = "RELIANCE", net_qty: int = 15) -> BrokerPosition:
    return BrokerPosition(
        client_id="C1",
        symbol=symbol,
        exchange_segment="NSECM",
        instrument_id=2885,
        product_type="NRML",
        net_qty=net_qty,
        buy_avg_price=Decimal("254.5"),
        mtm=Decimal("-12.25"),
        multiplier=Decimal(1),
    )


async def stored_rows(store, user_id: int,
                      account_id: int) -> tuple[tuple[BrokerOrder, ...], tuple[BrokerPosition, ...]]:
    """The account's stored snapshot as (orders, positions), its version aside."""
    snapshot = await store.broker_snapshot(user_id, account_id)
    return snapshot.orders, snapshot.positions


async def test_snapshot_reads_back_as_the_same_rows_in_fetch_order(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    orders = [
        a_broker_order(3),
        a_broker_order(1, avg_price=None, status="New", filled_qty=0, created_at=None),
        a_broker_order(2, symbol="O'Reilly'; DROP TABLE orders; --", reject_reason="RMS: 'margin'"),
    ]
    positions = [a_position(), a_position("TCS", -3)]

    await store.replace_broker_snapshot(user_id, account_id, orders, positions, T0)

    assert await stored_rows(store, user_id, account_id) == (tuple(orders), tuple(positions))


async def test_every_broker_status_reads_back_from_the_database_as_its_member(store, database_url):
    user_id, account_id = await given_user_with_account(store, "alice")
    statuses = [status for status in OrderStatus if status not in SERVICE_STATUSES]
    await store.replace_broker_snapshot(
        user_id, account_id, [a_broker_order(n, status=status) for n, status in enumerate(statuses, 1)], [], T0)

    reader = await connect_store(database_url, timeout_s=10)  # keeps nothing yet: reads the rows
    try:
        snapshot = await reader.broker_snapshot(user_id, account_id)
    finally:
        await reader.close()
    assert [order.status for order in snapshot.orders] == statuses
    assert {type(order.status) for order in snapshot.orders} == {OrderStatus}


async def test_snapshot_replace_touches_only_that_account(store):
    alice, first = await given_user_with_account(store, "alice", "C1")
    second = await store.add_account(alice, "paper", "http://127.0.0.1:9000", "C2")
    bob, bobs = await given_user_with_account(store, "bob", "C1")
    for user_id, account_id in ((alice, first), (alice, second), (bob, bobs)):
        await store.replace_broker_snapshot(
            user_id, account_id, [a_broker_order(account_id)], [a_position()], T0
        )

    await store.replace_broker_snapshot(alice, first, [a_broker_order(99), a_broker_order(100)], [], T0)

    assert [o.app_order_id for o in (await stored_rows(store, alice, first))[0]] == [99, 100]
    assert (await stored_rows(store, alice, first))[1] == ()
    assert await stored_rows(store, alice, second) == ((a_broker_order(second),), (a_position(),))
    assert await stored_rows(store, bob, bobs) == ((a_broker_order(bobs),), (a_position(),))


async def test_a_snapshot_for_another_users_account_is_refused_and_writes_nothing(store):
    alice, _ = await given_user_with_account(store, "alice")
    bob, bobs = await given_user_with_account(store, "bob")
    await store.replace_broker_snapshot(bob, bobs, [a_broker_order(1)], [], T0)

    with pytest.raises(DatabaseError):
        await store.replace_broker_snapshot(alice, bobs, [], [], T0)

    assert await stored_rows(store, bob, bobs) == ((a_broker_order(1),), ())


async def test_a_failing_insert_rolls_the_whole_snapshot_back(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    await store.replace_broker_snapshot(user_id, account_id, [a_broker_order(1)], [a_position()], T0)
    too_long_tag = a_broker_order(2, tag="T" * 500)

    with pytest.raises(DatabaseError):
        await store.replace_broker_snapshot(
            user_id, account_id, [a_broker_order(3)], [a_position("X" * 500)], T0
        )
    with pytest.raises(DatabaseError):
        await store.replace_broker_snapshot(user_id, account_id, [too_long_tag], [], T0)

    assert await stored_rows(store, user_id, account_id) == ((a_broker_order(1),), (a_position(),))


async def test_a_large_snapshot_is_written_whole(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    orders = [a_broker_order(i) for i in range(1, 2501)]

    await store.replace_broker_snapshot(user_id, account_id, orders, [], T0)

    assert (await stored_rows(store, user_id, account_id))[0] == tuple(orders)


@dataclass(frozen=True)
class FifoMatch:
    """The PnL calculator's shape, written elsewhere: the store needs only these attributes."""

    symbol: str
    entry_order_id: int
    exit_order_id: int
    direction: str
    qty: int
    entry_price: Decimal
    exit_price: Decimal
    realized_pnl: Decimal


@dataclass(frozen=True)
class FifoLot:
    symbol: str
    order_id: int
    direction: str
    qty: int
    entry_price: Decimal
    mark: Decimal | None
    unrealized_pnl: Decimal | None


async def test_live_history_replace_is_scoped_to_the_user_and_account(store):
    alice, first = await given_user_with_account(store, "alice", "C1")
    second = await store.add_account(alice, "paper", "http://127.0.0.1:9000", "C2")
    bob, bobs = await given_user_with_account(store, "bob")
    old = FifoMatch("TCS", 1, 2, "LONG", 5, Decimal("3500"), Decimal("3510.05"), Decimal("50.25"))
    for user_id, account_id in ((alice, first), (alice, second), (bob, bobs)):
        await store.replace_live_history(user_id, account_id, [old], [], T0)

    match = FifoMatch("INFY", 10, 11, "SHORT", 3, Decimal("1500.10"), Decimal("1490.05"), Decimal("30.15"))
    lot = FifoLot("INFY", 12, "LONG", 7, Decimal("1491"), Decimal("1495.55"), Decimal("31.85"))
    unmarked = FifoLot("SBIN", 13, "SHORT", 1, Decimal("800"), None, None)
    await store.replace_live_history(alice, first, [match], [lot, unmarked], T0 + timedelta(minutes=1))

    history = await store.live_history(alice, first)
    assert history.matches == (Match(**vars(match)),)
    assert history.open_lots == (OpenLot(**vars(lot)), OpenLot(**vars(unmarked)))
    assert history.computed_at == T0 + timedelta(minutes=1)
    assert (await store.live_history(alice, second)).matches == (Match(**vars(old)),)
    assert (await store.live_history(bob, bobs)).matches == (Match(**vars(old)),)


async def test_money_keeps_four_places_and_never_passes_through_float(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    precise = FifoMatch("TCS", 1, 2, "LONG", 3, Decimal("0.1"), Decimal("0.2"), Decimal("0.30004999"))

    await store.replace_live_history(user_id, account_id, [precise], [], T0)
    [stored] = (await store.live_history(user_id, account_id)).matches

    assert stored.realized_pnl == Decimal("0.3000") and isinstance(stored.realized_pnl, Decimal)
    assert stored.exit_price == Decimal("0.2")
    with pytest.raises(TypeError):
        await store.replace_live_history(
            user_id, account_id, [FifoMatch("TCS", 1, 2, "LONG", 3, 0.1, 0.2, 0.1)], [], T0
        )
