"""The desk's fair prices take precedence over the feed's, in the SQL of each writer: a feed write never
overwrites a desk's price, a desk write replaces a feed's, and once the desk clears a symbol the feed prices it
again; a desk write and a feed write crossing on one symbol both succeed and leave the desk's. Admin tokens are
kept as their hash, apart from the users' tokens: neither is ever taken for the other."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from adapters.store.repository import SqlStore
from adapters.store.tokens import hash_token
from domain.records import FairPrice
from tests.storage.conftest import opened_store

T0 = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def priced(symbol: str, buy: str, sell: str, at: datetime = T0) -> FairPrice:
    return FairPrice(symbol=symbol, buy_fair_price=Decimal(buy), sell_fair_price=Decimal(sell), updated_at=at)


async def stored(store: SqlStore, symbol: str) -> tuple[Decimal, Decimal, datetime, str] | None:
    price = (await store.fair_prices([symbol])).get(symbol)
    return None if price is None else (price.buy_fair_price, price.sell_fair_price, price.updated_at, price.source)


async def test_a_feed_write_after_a_desk_write_leaves_the_desks_price(store: SqlStore):
    await store.upsert_desk_prices([priced("SBIN", "800.10", "799.90")])

    await store.upsert_feed_prices([priced("SBIN", "805", "804.95", T0 + timedelta(seconds=1)),
                                    priced("TCS", "3500.05", "3500", T0 + timedelta(seconds=1))])

    assert await stored(store, "SBIN") == (Decimal("800.1"), Decimal("799.9"), T0, "desk")
    assert await stored(store, "TCS") == (Decimal("3500.05"), Decimal("3500"), T0 + timedelta(seconds=1), "feed")


async def test_a_desk_write_after_a_feed_write_wins(store: SqlStore):
    await store.upsert_feed_prices([priced("SBIN", "805", "804.95")])
    assert await stored(store, "SBIN") == (Decimal("805"), Decimal("804.95"), T0, "feed")

    await store.upsert_desk_prices([priced("SBIN", "800.10", "799.90", T0 + timedelta(seconds=1))])

    assert await stored(store, "SBIN") == (Decimal("800.1"), Decimal("799.9"), T0 + timedelta(seconds=1), "desk")


async def test_a_feed_write_updates_the_feeds_own_price(store: SqlStore):
    await store.upsert_feed_prices([priced("SBIN", "805", "804.95")])

    await store.upsert_feed_prices([priced("SBIN", "806", "805.95", T0 + timedelta(seconds=1))])

    assert await stored(store, "SBIN") == (Decimal("806"), Decimal("805.95"), T0 + timedelta(seconds=1), "feed")


async def test_after_the_desk_clears_a_symbol_the_feed_prices_it_again(store: SqlStore):
    await store.upsert_desk_prices([priced("SBIN", "800.10", "799.90")])

    assert await store.clear_desk_price("SBIN") is True
    assert await stored(store, "SBIN") is None
    await store.upsert_feed_prices([priced("SBIN", "805", "804.95", T0 + timedelta(seconds=1))])

    assert await stored(store, "SBIN") == (Decimal("805"), Decimal("804.95"), T0 + timedelta(seconds=1), "feed")


async def test_clearing_a_symbol_the_desk_has_not_priced_removes_nothing(store: SqlStore):
    await store.upsert_feed_prices([priced("SBIN", "805", "804.95")])

    assert await store.clear_desk_price("SBIN") is False
    assert await store.clear_desk_price("NOPE") is False
    assert await stored(store, "SBIN") == (Decimal("805"), Decimal("804.95"), T0, "feed")


async def test_the_list_holds_every_price_by_symbol_with_its_source(store: SqlStore):
    await store.upsert_feed_prices([priced("TCS", "3500.05", "3500"), priced("INFY", "1500", "1499.95")])
    await store.upsert_desk_prices([priced("SBIN", "800.10", "799.90")])

    assert [(p.symbol, p.source) for p in await store.list_fair_prices()] == [
        ("INFY", "feed"), ("SBIN", "desk"), ("TCS", "feed")]


async def test_a_desk_write_and_a_feed_write_crossing_on_one_symbol_both_succeed_and_the_desks_stays(
        database_url, store: SqlStore):
    symbols = [f"S{n:03}" for n in range(50)]
    async with opened_store(database_url) as feed:
        for round_ in range(20):
            desk_price = Decimal(800 + round_)
            await asyncio.gather(
                store.upsert_desk_prices([priced("SBIN", f"{desk_price}", f"{desk_price - 1}")]),
                feed.upsert_feed_prices([priced(symbol, "900", "899") for symbol in reversed([*symbols, "SBIN"])]))

            assert await stored(store, "SBIN") == (desk_price, desk_price - 1, T0, "desk")
    assert {p.source for p in (await store.fair_prices(symbols)).values()} == {"feed"}


async def test_an_admin_token_is_stored_as_its_hash_and_opens_only_the_admin_lookup(store: SqlStore):
    token = await store.add_admin_token("desk-1")
    user_id, user_token = await store.add_user("alice")

    assert await store.admin_for_token(token) == "desk-1"
    assert await store.admin_for_token(user_token) is None
    assert await store.user_for_token(token) is None
    assert await store.user_for_token(user_token) == user_id
    assert await store.admin_for_token(hash_token(token)) is None
    async with store.transaction() as tx:
        [row] = await tx.fetch_all("admin_tokens/by_token_hash", (hash_token(token),))
    assert token not in row.values()


async def test_admin_tokens_are_listed_by_name_and_a_removed_one_opens_nothing(store: SqlStore):
    first, second = await store.add_admin_token("desk-b"), await store.add_admin_token("desk-a")

    assert [t.name for t in await store.list_admin_tokens()] == ["desk-a", "desk-b"]
    assert await store.remove_admin_token("desk-b") is True
    assert await store.remove_admin_token("desk-b") is False

    assert await store.admin_for_token(first) is None
    assert await store.admin_for_token(second) == "desk-a"
    assert [t.name for t in await store.list_admin_tokens()] == ["desk-a"]
