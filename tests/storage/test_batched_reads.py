"""The cycle's hot reads are shared by concurrent callers: many users' reads, few statements, each caller
answered exactly as a read of its own would be. On SQLite and MariaDB."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.store.repository import SqlStore
from domain.errors import DatabaseError
from domain.records import FairPrice
from tests.storage.conftest import mysql_admin, mysql_server

NOW = datetime(2025, 3, 3, 4, 0, tzinfo=UTC)


async def given_users(store: SqlStore, count: int) -> list[tuple[int, list[int]]]:
    """Users with two accounts each; every third user paused, every other one with a strategy, and the
    second account of every fourth user awaiting a session."""
    users = []
    for n in range(count):
        user_id, _ = await store.add_user(f"trader{n}")
        accounts = [await store.add_account(user_id, "paper", "http://127.0.0.1:9000", f"C{n}-{k}", "app", "key")
                    for k in range(2)]
        if n % 3 == 0:
            await store.set_paused(user_id, True, "by hand")
        if n % 2 == 0:
            await store.set_permissions(user_id, ["breakout", "momentum"][: 1 + n % 4 // 2])
        if n % 4 == 0:
            await store.set_session_needed(user_id, accounts[1])
        users.append((user_id, accounts))
    return users


async def test_concurrent_cycle_contexts_share_statements_and_each_is_its_users(store: SqlStore):
    users = await given_users(store, 12)
    alone = [await store.load_cycle_context(user_id) for user_id, _ in users]
    before = store.database.statements

    together = await asyncio.gather(*(store.load_cycle_context(user_id) for user_id, _ in users))

    def without_time(context):
        return (context.account_ids, context.awaiting_session, context.regeneration_strategies, context.paused,
                context.pause_reason, context.daily_loss_limit)

    assert [without_time(c) for c in together] == [without_time(c) for c in alone]
    assert together[0].paused and together[0].awaiting_session == (users[0][1][1],)
    assert store.database.statements - before == 1  # one statement: flags, accounts, strategies of all 12


async def test_a_user_gets_only_its_own_accounts_credentials_when_reads_are_shared(store: SqlStore):
    (alice, alice_accounts), (bob, bob_accounts) = await given_users(store, 2)

    mine, stolen, bobs = await asyncio.gather(
        store.broker_accounts(alice, alice_accounts),
        store.broker_accounts(alice, bob_accounts),
        store.broker_accounts(bob, [*bob_accounts, alice_accounts[0]]),
    )

    assert [a.account_id for a in mine] == sorted(alice_accounts)
    assert stolen == []
    assert [a.account_id for a in bobs] == sorted(bob_accounts)


async def test_concurrent_fair_price_reads_are_one_statement_with_each_callers_symbols(store: SqlStore):
    prices = (("SBIN", 800), ("TCS", 4000), ("INFY", 1500))
    await store.upsert_desk_prices([FairPrice(symbol=s, buy_fair_price=Decimal(p) + 1, sell_fair_price=Decimal(p),
                                              updated_at=NOW) for s, p in prices])
    before = store.database.statements

    sbin, tcs_infy, unknown = await asyncio.gather(
        store.fair_prices(["SBIN"]), store.fair_prices(["TCS", "INFY", "TCS"]), store.fair_prices(["NOPE"]))

    assert store.database.statements - before == 1
    assert {s: p.sell_fair_price for s, p in sbin.items()} == {"SBIN": Decimal(800)}
    assert sorted(tcs_infy) == ["INFY", "TCS"] and tcs_infy["TCS"].buy_fair_price == Decimal(4001)
    assert unknown == {}


async def test_a_read_asked_after_a_write_sees_it_even_while_an_earlier_batch_is_out(store: SqlStore):
    await store.upsert_desk_prices([FairPrice(symbol="SBIN", buy_fair_price=Decimal("801"),
                                              sell_fair_price=Decimal("800"), updated_at=NOW)])
    earlier = asyncio.create_task(store.fair_prices(["SBIN"]))
    await asyncio.sleep(0)  # the first batch is on its way
    await store.upsert_desk_prices([FairPrice(symbol="SBIN", buy_fair_price=Decimal("811"),
                                              sell_fair_price=Decimal("810"), updated_at=NOW)])

    later = await store.fair_prices(["SBIN"])

    assert later["SBIN"].sell_fair_price == Decimal("810")
    assert (await earlier)["SBIN"].sell_fair_price in (Decimal("800"), Decimal("810"))


@pytest.mark.mysql
async def test_a_failed_shared_read_fails_every_caller_with_the_databases_message(mysql_store: SqlStore):
    database = mysql_store.database.url.database
    admin = await mysql_admin(mysql_server(), database)
    try:
        async with admin.cursor() as cursor:
            await cursor.execute("RENAME TABLE mainapp_fairprice TO fairprice_elsewhere")

        outcomes = await asyncio.gather(mysql_store.fair_prices(["SBIN"]), mysql_store.fair_prices(["TCS"]),
                                        return_exceptions=True)

        assert all(isinstance(o, DatabaseError) and "1146" in o.message for o in outcomes), outcomes
        async with admin.cursor() as cursor:
            await cursor.execute("RENAME TABLE fairprice_elsewhere TO mainapp_fairprice")
        assert await mysql_store.fair_prices(["SBIN"]) == {}  # and the next read works again
    finally:
        admin.close()
