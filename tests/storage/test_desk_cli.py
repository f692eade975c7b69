"""The desk's commands run as a person would (`python3 run.py ...`): `admin-tokens add` prints the token once and
stores only its hash, `list` never prints one, `remove` revokes it; `fair-prices set` writes the desk's price,
checked as the route checks it (a refused one writes nothing), `clear` hands the symbol back to the feed, and
`list` shows each price with its source and age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.store.factory import migrate_url
from adapters.store.tokens import hash_token
from domain.records import FairPrice
from tests.storage.conftest import opened_store
from tests.storage.test_admin_cli import run_py


def printed_token(stdout: str) -> str:
    return stdout.strip().splitlines()[-1].rsplit(" ", 1)[-1]


async def test_an_admin_token_is_printed_once_stored_as_its_hash_listed_by_name_and_removed(database_url):
    await migrate_url(database_url)

    added = run_py("admin-tokens", "add", "desk-1", "--database", database_url)
    again = run_py("admin-tokens", "add", "desk-1", "--database", database_url)
    listed = run_py("admin-tokens", "list", "--database", database_url)

    assert added.returncode == 0, added.stderr
    token = printed_token(added.stdout)
    assert added.stdout.count(token) == 1 and "shown once" in added.stdout
    assert (again.returncode, again.stderr) == (1, "error: an admin token named 'desk-1' already exists\n")
    assert listed.returncode == 0, listed.stderr
    assert "desk-1" in listed.stdout and token not in listed.stdout and hash_token(token) not in listed.stdout
    async with opened_store(database_url) as store:
        assert await store.admin_for_token(token) == "desk-1"
        assert await store.user_for_token(token) is None

    removed = run_py("admin-tokens", "remove", "desk-1", "--database", database_url)
    twice = run_py("admin-tokens", "remove", "desk-1", "--database", database_url)

    assert removed.returncode == 0, removed.stderr
    assert (twice.returncode, twice.stderr) == (1, "error: no admin token named 'desk-1'\n")
    async with opened_store(database_url) as store:
        assert await store.admin_for_token(token) is None


@pytest.mark.parametrize("name", ["", "d" * 65])
async def test_an_admin_token_name_outside_1_to_64_characters_is_refused(database_url, name):
    await migrate_url(database_url)

    result = run_py("admin-tokens", "add", name, "--database", database_url)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "error: an admin token's name has 1 to 64 characters\n"


async def test_the_desk_sets_a_price_the_feed_cannot_overwrite_then_clears_it_for_the_feed(database_url):
    await migrate_url(database_url)

    result = run_py("fair-prices", "set", "SBIN", "800.10", "799.90", "--database", database_url)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "desk fair price of 'SBIN': buy 800.10, sell 799.90\n"
    feed_price = FairPrice(symbol="SBIN", buy_fair_price=Decimal("805"), sell_fair_price=Decimal("804.95"),
                           updated_at=datetime.now(UTC))
    async with opened_store(database_url) as store:
        await store.upsert_feed_prices([feed_price])
        sbin = (await store.fair_prices(["SBIN"]))["SBIN"]
    assert (sbin.buy_fair_price, sbin.sell_fair_price, sbin.source) == (Decimal("800.1"), Decimal("799.9"), "desk")
    assert datetime.now(UTC) - sbin.updated_at < timedelta(seconds=60)

    cleared = run_py("fair-prices", "clear", "SBIN", "--database", database_url)
    again = run_py("fair-prices", "clear", "SBIN", "--database", database_url)

    assert cleared.returncode == 0, cleared.stderr
    assert (again.returncode, again.stderr) == (1, "error: the desk has no fair price of 'SBIN'\n")
    async with opened_store(database_url) as store:
        await store.upsert_feed_prices([feed_price])
        assert (await store.fair_prices(["SBIN"]))["SBIN"] == FairPrice(
            symbol="SBIN", buy_fair_price=Decimal("805"), sell_fair_price=Decimal("804.95"),
            updated_at=feed_price.updated_at, source="feed")


async def test_the_list_shows_symbol_buy_sell_source_and_age(database_url):
    await migrate_url(database_url)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1, minutes=2)
    async with opened_store(database_url) as store:
        await store.upsert_feed_prices([FairPrice(symbol="TCS", buy_fair_price=Decimal("3500.05"),
                                                  sell_fair_price=Decimal("3500"), updated_at=an_hour_ago)])
    run_py("fair-prices", "set", "SBIN", "800.10", "799.90", "--database", database_url)

    result = run_py("fair-prices", "list", "--database", database_url)

    assert result.returncode == 0, result.stderr
    header, sbin, tcs = result.stdout.splitlines()
    assert header.split() == ["symbol", "buy", "sell", "source", "age"]
    assert sbin.split()[:4] == ["SBIN", "800.1000", "799.9000", "desk"] and sbin.split()[4].endswith("s")
    assert tcs.split() == ["TCS", "3500.0500", "3500.0000", "feed", "1h", "2m"]


@pytest.mark.parametrize(("symbol", "buy", "sell", "why"), [
    ("SBIN", "0", "799.90", "buy_fair_price must be a price above zero"),
    ("SBIN", "800.10", "-1", "sell_fair_price must be a price above zero"),
    ("SBIN", "800.12345", "799.90", "buy_fair_price has more than 4 decimal places"),
    ("SBIN", "800.10", "100000000000000", "sell_fair_price must be below 100000000000000"),
    ("SBIN", "abc", "799.90", "Invalid decimal string"),
    ("S" * 65, "800.10", "799.90", "Expected `str` of length <= 64"),
])
async def test_a_refused_price_is_named_and_writes_nothing(database_url, symbol, buy, sell, why):
    await migrate_url(database_url)

    result = run_py("fair-prices", "set", symbol, buy, sell, "--database", database_url)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(f"error: {symbol!r} not set: ") and why in result.stderr
    async with opened_store(database_url) as store:
        assert await store.list_fair_prices() == []


async def test_the_largest_price_and_a_64_character_symbol_are_set(database_url):
    await migrate_url(database_url)

    result = run_py("fair-prices", "set", "S" * 64, "99999999999999.9999", "0.0001", "--database", database_url)

    assert result.returncode == 0, result.stderr
    async with opened_store(database_url) as store:
        [price] = await store.list_fair_prices()
    assert (price.symbol, price.buy_fair_price, price.sell_fair_price) == (
        "S" * 64, Decimal("99999999999999.9999"), Decimal("0.0001"))
