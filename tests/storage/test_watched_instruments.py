"""Which instruments the fair-price feed watches, on SQLite and MariaDB: those of open orders (PENDING,
ENTRY_OPEN, RUNNING) and of non-flat positions (long or short) of the given users' active accounts of the given
brokers, each once — not a finished order's, a flat position's, an inactive account's, another broker's or
another user's — over as many statements as the users need."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.store import fair_prices
from domain.broker import BrokerPosition
from domain.quotes import WatchedInstrument
from tests.storage.conftest import an_order

AT = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
SBIN = {"symbol": "SBIN", "exchange_segment": "NSECM", "instrument_id": 3045}
INFY = {"symbol": "INFY", "exchange_segment": "NSECM", "instrument_id": 1594}
TCS = {"symbol": "TCS", "exchange_segment": "NSECM", "instrument_id": 11536}
NIFTY = {"symbol": "NIFTY26DECFUT", "exchange_segment": "NSEFO", "instrument_id": 35001}


def watched(*instruments: dict) -> list[WatchedInstrument]:
    return sorted((WatchedInstrument(**i) for i in instruments),
                  key=lambda i: (i.exchange_segment, i.instrument_id, i.symbol))


def position(net_qty: int, instrument: dict) -> BrokerPosition:
    return BrokerPosition(client_id="C", product_type="MIS", net_qty=net_qty, **instrument)


async def user_with(store, name: str, broker: str = "paper") -> tuple[int, int]:
    user_id, _ = await store.add_user(name)
    return user_id, await store.add_account(user_id, broker, "http://127.0.0.1:9000", f"{name}-1")


@pytest.mark.parametrize("status", ["PENDING", "ENTRY_OPEN", "RUNNING"])
async def test_an_open_orders_instrument_is_watched(store, status):
    user_id, account = await user_with(store, "alice")
    await store.insert_order(an_order(user_id, account, status=status, **SBIN))
    assert await store.watched_instruments([user_id], ["paper"]) == watched(SBIN)


@pytest.mark.parametrize("status", ["CLOSED", "REJECTED", "CANCELLED"])
async def test_a_finished_orders_instrument_is_not(store, status):
    user_id, account = await user_with(store, "alice")
    await store.insert_order(an_order(user_id, account, status=status, **SBIN))
    assert await store.watched_instruments([user_id], ["paper"]) == []


async def test_long_and_short_positions_are_watched_and_a_flat_one_is_not(store):
    user_id, account = await user_with(store, "alice")
    await store.replace_broker_snapshot(user_id, account, [], [position(5, SBIN), position(-3, INFY),
                                                               position(0, TCS)], AT)
    assert await store.watched_instruments([user_id], ["paper"]) == watched(SBIN, INFY)


async def test_each_instrument_once_over_orders_positions_and_users(store):
    alice, alices = await user_with(store, "alice")
    bob, bobs = await user_with(store, "bob")
    await store.insert_order(an_order(alice, alices, status="RUNNING", **SBIN))
    await store.replace_broker_snapshot(alice, alices, [], [position(5, SBIN)], AT)
    await store.insert_order(an_order(bob, bobs, status="ENTRY_OPEN", **SBIN))
    await store.insert_order(an_order(bob, bobs, status="PENDING", **NIFTY))
    assert await store.watched_instruments([alice, bob], ["paper"]) == watched(SBIN, NIFTY)
    assert await store.watched_instruments([alice], ["paper"]) == watched(SBIN)


async def test_an_inactive_account_another_broker_and_an_unlisted_user_are_not_watched(store):
    alice, alices = await user_with(store, "alice")
    bob, kites = await user_with(store, "bob", broker="kite")
    carol, carols = await user_with(store, "carol")
    for user_id, account, instrument in ((alice, alices, SBIN), (bob, kites, INFY), (carol, carols, TCS)):
        await store.insert_order(an_order(user_id, account, status="RUNNING", **instrument))
    await store.set_account_active(alices, False)

    assert await store.watched_instruments([alice, bob, carol], ["paper", "xts"]) == watched(TCS)
    assert await store.watched_instruments([alice, bob, carol], ["kite"]) == watched(INFY)
    assert await store.watched_instruments([], ["paper"]) == []
    assert await store.watched_instruments([carol], []) == []


async def test_users_beyond_one_statement_are_read_by_the_next(store, monkeypatch):
    monkeypatch.setattr(fair_prices, "WATCHED_USERS_PER_QUERY", 2)
    instruments = [SBIN, INFY, TCS]
    users = []
    for n, instrument in enumerate(instruments):
        user_id, account = await user_with(store, f"u{n}")
        await store.insert_order(an_order(user_id, account, status="RUNNING", **instrument))
        users.append(user_id)
    assert await store.watched_instruments(users, ["paper"]) == watched(*instruments)
