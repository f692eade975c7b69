"""The `pnl` frame's fair prices on SQLite and MariaDB: each open position shows the fair price that marks it (the
sell price for a long, the buy price for a short), when and by whom it was written, and whether it is stale as
of the frame's time — exactly `fair_price_max_age_s` old is still fresh, as for the order steps, a microsecond
more is stale, and no price at all is stale. A flat row carries none. (Over the service's sockets:
tests/web/test_pnl_fair_prices.py.)"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.store.repository import SqlStore
from domain.pnl import Match, OpenLot
from domain.records import FairPrice
from service.snapshots import pnl_frame
from tests.storage.conftest import T0, given_user_with_account

MAX_AGE = timedelta(seconds=120)
D = Decimal


def long_lot(symbol: str, order_id: int = 1) -> OpenLot:
    return OpenLot(symbol=symbol, order_id=order_id, direction="LONG", qty=10, entry_price=D("800"))


def short_lot(symbol: str, order_id: int = 2) -> OpenLot:
    return OpenLot(symbol=symbol, order_id=order_id, direction="SHORT", qty=5, entry_price=D("1500"))


def closed(symbol: str) -> Match:
    return Match(symbol=symbol, entry_order_id=3, exit_order_id=4, direction="LONG", qty=2, entry_price=D("3900"),
                 exit_price=D("3910"), realized_pnl=D("20"))


def price(symbol: str, buy: str, sell: str, age: timedelta) -> FairPrice:
    return FairPrice(symbol=symbol, buy_fair_price=D(buy), sell_fair_price=D(sell), updated_at=T0 - age)


async def frame_rows(store: SqlStore, user_id: int, account_ids: list[int], age_limit: timedelta = MAX_AGE) -> dict:
    frame = await pnl_frame(store, user_id, account_ids, T0, age_limit)
    assert frame.fair_price_max_age_s == age_limit.total_seconds()
    return {row.symbol: row for row in frame.rows}


async def test_a_long_is_marked_by_the_sell_price_a_short_by_the_buy_price_and_a_flat_row_carries_none(
        store: SqlStore):
    user_id, account = await given_user_with_account(store, "asha")
    await store.replace_live_history(user_id, account, [closed("TCS")], [long_lot("SBIN"), short_lot("INFY")], T0)
    await store.upsert_desk_prices([price("SBIN", "800.10", "799.90", timedelta(seconds=12)),
                                    price("TCS", "3911", "3909", timedelta(seconds=1))])
    await store.upsert_feed_prices([price("INFY", "1500.25", "1499.75", timedelta(seconds=30))])

    rows = await frame_rows(store, user_id, [account])

    sbin, infy, tcs = rows["SBIN"], rows["INFY"], rows["TCS"]
    assert (sbin.open_qty, sbin.fair_price, sbin.fair_price_updated_at, sbin.fair_price_source,
            sbin.fair_price_stale) == (10, D("799.90"), T0 - timedelta(seconds=12), "desk", False)
    assert (infy.open_qty, infy.fair_price, infy.fair_price_updated_at, infy.fair_price_source,
            infy.fair_price_stale) == (-5, D("1500.25"), T0 - timedelta(seconds=30), "feed", False)
    assert (tcs.open_qty, tcs.realized_pnl, tcs.fair_price, tcs.fair_price_updated_at, tcs.fair_price_source,
            tcs.fair_price_stale) == (0, D("20"), None, None, None, None), "flat: priced or not, it shows none"


@pytest.mark.parametrize(("age", "stale"), [(MAX_AGE, False), (MAX_AGE + timedelta(microseconds=1), True)],
                         ids=["exactly-the-limit-is-fresh", "past-the-limit-is-stale"])
async def test_a_price_is_stale_once_older_than_the_limit_at_the_frames_time_long_and_short(
        store: SqlStore, age: timedelta, stale: bool):
    user_id, account = await given_user_with_account(store, "bala")
    await store.replace_live_history(user_id, account, [], [long_lot("SBIN"), short_lot("INFY")], T0)
    await store.upsert_feed_prices([price("SBIN", "800.10", "799.90", age), price("INFY", "1500.25", "1499.75", age)])

    rows = await frame_rows(store, user_id, [account])

    assert (rows["SBIN"].fair_price, rows["SBIN"].fair_price_stale) == (D("799.90"), stale)
    assert (rows["INFY"].fair_price, rows["INFY"].fair_price_stale) == (D("1500.25"), stale)


async def test_an_open_position_without_a_fair_price_is_stale_and_shows_no_price(store: SqlStore):
    user_id, account = await given_user_with_account(store, "chitra")
    await store.replace_live_history(user_id, account, [], [short_lot("INFY")], T0)
    await store.upsert_desk_prices([price("SBIN", "800.10", "799.90", timedelta(0))])

    [infy] = (await frame_rows(store, user_id, [account])).values()

    assert (infy.open_qty, infy.fair_price, infy.fair_price_updated_at, infy.fair_price_source,
            infy.fair_price_stale) == (-5, None, None, None, True)


async def test_the_limit_is_the_one_the_frame_is_built_with(store: SqlStore):
    user_id, account = await given_user_with_account(store, "deepa")
    await store.replace_live_history(user_id, account, [], [long_lot("SBIN")], T0)
    await store.upsert_desk_prices([price("SBIN", "800.10", "799.90", timedelta(seconds=5))])

    assert (await frame_rows(store, user_id, [account], timedelta(seconds=5)))["SBIN"].fair_price_stale is False
    assert (await frame_rows(store, user_id, [account], timedelta(seconds=4)))["SBIN"].fair_price_stale is True


async def test_the_prices_of_every_account_in_the_frame_are_read_in_one_statement(store: SqlStore):
    user_id, first = await given_user_with_account(store, "esha", "E1")
    second = await store.add_account(user_id, "paper", "http://127.0.0.1:9000", "E2")
    await store.replace_live_history(user_id, first, [], [long_lot("SBIN"), short_lot("INFY")], T0)
    await store.replace_live_history(user_id, second, [], [long_lot("SBIN", 5), long_lot("RELIANCE", 6)], T0)
    await store.upsert_desk_prices([price(symbol, "10.10", "9.90", timedelta(0)) for symbol in ("SBIN", "INFY")])
    before = store.database.statements

    rows = (await pnl_frame(store, user_id, [first, second], T0, MAX_AGE)).rows

    assert store.database.statements - before == 1, "the histories are kept; the fair prices are one read"
    assert [(row.account_id, row.symbol, row.fair_price, row.fair_price_stale) for row in rows] == [
        (first, "INFY", D("10.10"), False), (first, "SBIN", D("9.90"), False),
        (second, "RELIANCE", None, True), (second, "SBIN", D("9.90"), False)]

