"""Steps 5 and 6's rules on one order, one order book and one fair price: when an untriggered stop entry, and
when a live stop-loss, becomes a LIMIT at the fair price, at which tick, and when the fair price is too old
or missing to judge. Pure: given an order row, a book and a fair price, the modification the rules return."""

from datetime import datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from actors.order_placer.rules import (
    FairPriceCheck,
    ModifyLeg,
    exit_side,
    plan_entry_modification,
    plan_stop_loss_modification,
    to_tick,
    usable_fair_price,
)
from actors.order_syncer.sync import fresh_fair_prices
from domain.book import BookIndex
from domain.broker import BrokerOrder, ModifyRequest
from domain.records import FairPrice, OrderRow
from domain.tags import order_tag
from tests.orders.given import T

MAX_AGE = timedelta(minutes=2)
MAX_MODIFICATIONS = 3
ENTRY_STOP = Decimal("100")
LONG_SL_STOP = Decimal("95")
SHORT_SL_STOP = Decimal("105")
SPREAD = Decimal("1")
"""Between the buy and the sell fair price: a rule reading the wrong side of the quote judges differently."""


def fair(*, buy: Decimal | None = None, sell: Decimal | None = None, updated_at: datetime = T) -> FairPrice:
    """A fair price quoted `SPREAD` wide around whichever side is given."""
    buy = buy if buy is not None else sell + SPREAD
    sell = sell if sell is not None else buy - SPREAD
    return FairPrice(symbol="SBIN", buy_fair_price=buy, sell_fair_price=sell, updated_at=updated_at)


def stop_entry_order(side: str, **fields) -> OrderRow:
    base = dict(id=7, user_id=1, account_id=2, strategy="s", symbol="SBIN", exchange_segment="NSECM",
                instrument_id=3045, side=side, quantity=10, entry_type="STOPLIMIT", entry_stop_price=ENTRY_STOP,
                entry_limit_price=ENTRY_STOP, entry_tag=order_tag(7, "entry", 1), entry_order_id=100,
                entry_orderstatus="Trigger Pending", status="ENTRY_OPEN")
    base.update(fields)
    return OrderRow(**base)


def stop_entry_row(side: str, order_type: str = "STOPLIMIT", status: str = "Trigger Pending") -> BrokerOrder:
    return BrokerOrder(client_id="C", app_order_id=100, exchange_segment="NSECM", instrument_id=3045, symbol="SBIN",
                       side=side, order_type=order_type, product_type="MIS", quantity=10, stop_price=ENTRY_STOP,
                       limit_price=ENTRY_STOP, status=status, tag=order_tag(7, "entry", 1))


def plan_entry(order: OrderRow, rows: list[BrokerOrder], fair_price: FairPrice | FairPriceCheck):
    return plan_entry_modification(order, BookIndex(rows), fair_price, max_entry_modifications=MAX_MODIFICATIONS)


def entry_to_limit(limit: Decimal, fair_price: Decimal) -> ModifyLeg:
    return ModifyLeg(order_id=7, account_id=2, leg="entry",
                     reason=f"fair price {fair_price} crossed the entry stop {ENTRY_STOP}",
                     request=ModifyRequest(app_order_id=100, order_type="LIMIT", quantity=10,
                                           tag=order_tag(7, "entry", 1), product_type="MIS", limit_price=limit))


def running_trade(side: str, **fields) -> OrderRow:
    base = dict(id=7, user_id=1, account_id=2, strategy="s", symbol="SBIN", exchange_segment="NSECM",
                instrument_id=3045, side=side, quantity=10, entry_type="LIMIT", entry_tag=order_tag(7, "entry", 1),
                entry_order_id=100, entry_orderstatus="Filled", filled_qty=10, avg_entry_price=Decimal("100"),
                sl_stop_price=LONG_SL_STOP if side == "BUY" else SHORT_SL_STOP, sl_tag=order_tag(7, "sl", 1),
                sl_order_id=200, sl_orderstatus="Trigger Pending", sl_qty=10, status="RUNNING")
    base.update(fields)
    return OrderRow(**base)


def sl_row(trade_side: str, order_type: str = "STOPLIMIT", status: str = "Trigger Pending") -> BrokerOrder:
    stop = LONG_SL_STOP if trade_side == "BUY" else SHORT_SL_STOP
    return BrokerOrder(client_id="C", app_order_id=200, exchange_segment="NSECM", instrument_id=3045, symbol="SBIN",
                       side="SELL" if trade_side == "BUY" else "BUY", order_type=order_type, product_type="MIS",
                       quantity=10, stop_price=stop, limit_price=stop, status=status, tag=order_tag(7, "sl", 1))


def plan_sl(order: OrderRow, rows: list[BrokerOrder], fair_price: FairPrice | FairPriceCheck):
    return plan_stop_loss_modification(order, BookIndex(rows), fair_price)


def sl_to_limit(stop: Decimal, limit: Decimal, fair_price: Decimal) -> ModifyLeg:
    return ModifyLeg(order_id=7, account_id=2, leg="sl", reason=f"fair price {fair_price} crossed the stop-loss {stop}",
                     request=ModifyRequest(app_order_id=200, order_type="LIMIT", quantity=10,
                                           tag=order_tag(7, "sl", 1), product_type="MIS", limit_price=limit))


# --- the tick and the exit side ----------------------------------------------------------------------------


@pytest.mark.parametrize(("price", "side", "expected"), [
    ("100.01", "BUY", "100.05"),
    ("100.04", "BUY", "100.05"),
    ("100.01", "SELL", "100.00"),
    ("100.04", "SELL", "100.00"),
    ("100.05", "BUY", "100.05"),
    ("100.05", "SELL", "100.05"),
])
def test_a_price_off_the_tick_is_rounded_up_for_a_buy_and_down_for_a_sell_and_one_on_it_is_kept(price, side,
                                                                                                  expected):
    assert to_tick(Decimal(price), side) == Decimal(expected)


@pytest.mark.parametrize(("entry_side", "expected"), [("BUY", "SELL"), ("SELL", "BUY")])
def test_a_trade_exits_on_the_side_opposite_its_entry(entry_side, expected):
    assert exit_side(running_trade(entry_side)) == expected


# --- a usable fair price -----------------------------------------------------------------------------------


def test_no_fair_price_is_reported_missing():
    assert usable_fair_price(None, T, MAX_AGE) == FairPriceCheck("missing")


def test_a_fair_price_exactly_max_age_old_is_still_fresh():
    fresh = fair(buy=Decimal("100"), updated_at=T - MAX_AGE)
    assert usable_fair_price(fresh, T, MAX_AGE) is fresh


def test_a_fair_price_older_than_max_age_is_reported_stale():
    old = fair(buy=Decimal("100"), updated_at=T - MAX_AGE - timedelta(microseconds=1))
    assert usable_fair_price(old, T, MAX_AGE) == FairPriceCheck("stale")


def test_fresh_fair_prices_give_each_symbol_once_in_order_with_its_fair_price_while_fresh_else_none():
    at_max_age = msgspec.structs.replace(fair(buy=Decimal("200"), updated_at=T - MAX_AGE), symbol="TCS")
    stale = msgspec.structs.replace(fair(buy=Decimal("300"), updated_at=T - MAX_AGE - timedelta(microseconds=1)),
                                    symbol="INFY")
    now_quoted = fair(buy=Decimal("100"))
    known = {"TCS": at_max_age, "INFY": stale, "SBIN": now_quoted}

    seen = fresh_fair_prices(known, ["TCS", "SBIN", "INFY", "SBIN", "HDFC"], T, MAX_AGE)

    assert seen == (("HDFC", None), ("INFY", None), ("SBIN", now_quoted), ("TCS", at_max_age))


# --- Step 5: an untriggered stop entry the fair price crossed ----------------------------------------------


@pytest.mark.parametrize(("side", "quoted", "price", "limit"), [
    pytest.param("BUY", "buy", "100.01", "100.05", id="buy-rounded-up"),
    pytest.param("BUY", "buy", "100", "100", id="buy-at-the-stop"),
    pytest.param("SELL", "sell", "99.99", "99.95", id="sell-rounded-down"),
    pytest.param("SELL", "sell", "100", "100", id="sell-at-the-stop"),
])
def test_a_stop_entry_becomes_a_limit_on_the_tick_when_the_fair_price_of_its_side_reaches_its_stop(
        side, quoted, price, limit):
    given = fair(**{quoted: Decimal(price)})
    assert plan_entry(stop_entry_order(side), [stop_entry_row(side)], given) == \
        entry_to_limit(Decimal(limit), Decimal(price))


@pytest.mark.parametrize(("side", "given"), [
    pytest.param("BUY", fair(buy=Decimal("99.99")), id="buy-fair-price-just-below"),
    pytest.param("SELL", fair(sell=Decimal("100.01")), id="sell-fair-price-just-above"),
])
def test_a_stop_entry_is_left_alone_while_the_fair_price_of_its_side_has_not_reached_its_stop(side, given):
    assert plan_entry(stop_entry_order(side), [stop_entry_row(side)], given) is None


@pytest.mark.parametrize("status", ["ENTRY_OPEN", "PENDING"])
@pytest.mark.parametrize("order_type", ["STOPLIMIT", "STOPMARKET"])
def test_a_crossed_stop_entry_of_an_open_or_pending_order_is_modified_whatever_its_stop_type(status, order_type):
    actions = plan_entry(stop_entry_order("BUY", status=status), [stop_entry_row("BUY", order_type)],
                         fair(buy=Decimal("101")))
    assert actions == entry_to_limit(Decimal("101"), Decimal("101"))


@pytest.mark.parametrize("status", ["RUNNING", "CLOSED", "CANCELLED"])
def test_the_entry_of_an_order_neither_open_nor_pending_is_never_modified(status):
    order = stop_entry_order("BUY", status=status)
    assert plan_entry(order, [stop_entry_row("BUY")], fair(buy=Decimal("101"))) is None


def test_an_entry_the_book_lists_as_a_limit_is_never_modified_however_far_the_fair_price_went():
    assert plan_entry(stop_entry_order("BUY"), [stop_entry_row("BUY", "LIMIT")], fair(buy=Decimal("101"))) is None


@pytest.mark.parametrize("status", ["New", "PartiallyFilled", "Filled", "Cancelled"])
def test_a_stop_entry_already_triggered_or_ended_is_never_modified(status):
    assert plan_entry(stop_entry_order("BUY"), [stop_entry_row("BUY", status=status)],
                      fair(buy=Decimal("101"))) is None


def test_a_stop_entry_the_book_does_not_list_is_never_modified():
    assert plan_entry(stop_entry_order("BUY"), [], fair(buy=Decimal("101"))) is None


def test_a_stop_entry_without_a_stop_price_on_record_is_never_modified():
    order = stop_entry_order("BUY", entry_stop_price=None)
    assert plan_entry(order, [stop_entry_row("BUY")], fair(buy=Decimal("101"))) is None


def test_the_last_allowed_entry_modification_is_still_made():
    order = stop_entry_order("BUY", entry_modifications=MAX_MODIFICATIONS - 1)
    assert plan_entry(order, [stop_entry_row("BUY")], fair(buy=Decimal("101"))) == \
        entry_to_limit(Decimal("101"), Decimal("101"))


def test_an_entry_modified_max_entry_modifications_times_is_not_modified_again():
    order = stop_entry_order("BUY", entry_modifications=MAX_MODIFICATIONS)
    assert plan_entry(order, [stop_entry_row("BUY")], fair(buy=Decimal("101"))) is None


@pytest.mark.parametrize("reason", ["missing", "stale"])
def test_a_qualifying_stop_entry_without_a_usable_fair_price_gets_the_check_back(reason):
    assert plan_entry(stop_entry_order("BUY"), [stop_entry_row("BUY")], FairPriceCheck(reason)) == \
        FairPriceCheck(reason)


def test_an_entry_that_does_not_qualify_is_not_counted_for_a_missing_fair_price():
    order = stop_entry_order("BUY", entry_modifications=MAX_MODIFICATIONS)
    assert plan_entry(order, [stop_entry_row("BUY")], FairPriceCheck("missing")) is None


# --- Step 6: a live stop-loss the fair price crossed (a gap) -----------------------------------------------


@pytest.mark.parametrize(("side", "quoted", "price", "stop", "limit"), [
    pytest.param("BUY", "sell", "94.99", LONG_SL_STOP, "94.95", id="long-sl-sells-rounded-down"),
    pytest.param("BUY", "sell", "95", LONG_SL_STOP, "95", id="long-sl-at-the-stop"),
    pytest.param("SELL", "buy", "105.01", SHORT_SL_STOP, "105.05", id="short-sl-buys-rounded-up"),
    pytest.param("SELL", "buy", "105", SHORT_SL_STOP, "105", id="short-sl-at-the-stop"),
])
def test_an_sl_becomes_a_limit_on_the_tick_when_the_fair_price_of_its_exit_side_reaches_its_stop(
        side, quoted, price, stop, limit):
    given = fair(**{quoted: Decimal(price)})
    assert plan_sl(running_trade(side), [sl_row(side)], given) == sl_to_limit(stop, Decimal(limit), Decimal(price))


@pytest.mark.parametrize(("side", "given"), [
    pytest.param("BUY", fair(sell=Decimal("95.01")), id="long-sl-sell-fair-price-just-above"),
    pytest.param("SELL", fair(buy=Decimal("104.99")), id="short-sl-buy-fair-price-just-below"),
])
def test_an_sl_is_left_alone_while_the_fair_price_of_its_exit_side_has_not_reached_its_stop(side, given):
    assert plan_sl(running_trade(side), [sl_row(side)], given) is None


@pytest.mark.parametrize("order_type", ["STOPLIMIT", "STOPMARKET"])
@pytest.mark.parametrize("status", ["Trigger Pending", "New", "PartiallyFilled"])
def test_a_crossed_live_sl_is_modified_whatever_its_stop_type_and_open_status(order_type, status):
    assert plan_sl(running_trade("BUY"), [sl_row("BUY", order_type, status)], fair(sell=Decimal("94"))) == \
        sl_to_limit(LONG_SL_STOP, Decimal("94"), Decimal("94"))


def test_an_sl_already_made_a_limit_is_not_modified_again():
    assert plan_sl(running_trade("BUY"), [sl_row("BUY", "LIMIT", "New")], fair(sell=Decimal("94"))) is None


@pytest.mark.parametrize("status", ["Filled", "Cancelled", "Rejected"])
def test_an_sl_no_longer_live_is_never_modified(status):
    assert plan_sl(running_trade("BUY"), [sl_row("BUY", status=status)], fair(sell=Decimal("94"))) is None


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_a_crossed_sl_whose_cancel_is_under_way_is_not_modified(side):
    crossed = fair(sell=Decimal("94")) if side == "BUY" else fair(buy=Decimal("106"))
    assert plan_sl(running_trade(side), [sl_row(side, status="PendingCancel")], crossed) is None


def test_an_sl_the_book_does_not_list_is_never_modified():
    assert plan_sl(running_trade("BUY"), [], fair(sell=Decimal("94"))) is None


@pytest.mark.parametrize("status", ["PENDING", "ENTRY_OPEN", "CLOSED"])
def test_the_sl_of_an_order_not_running_is_never_modified(status):
    assert plan_sl(running_trade("BUY", status=status), [sl_row("BUY")], fair(sell=Decimal("94"))) is None


def test_an_sl_without_a_stop_price_on_record_is_never_modified():
    order = running_trade("BUY", sl_stop_price=None)
    assert plan_sl(order, [sl_row("BUY")], fair(sell=Decimal("94"))) is None


@pytest.mark.parametrize("reason", ["missing", "stale"])
def test_a_live_stop_sl_without_a_usable_fair_price_gets_the_check_back(reason):
    assert plan_sl(running_trade("SELL"), [sl_row("SELL")], FairPriceCheck(reason)) == FairPriceCheck(reason)


def test_an_sl_that_does_not_qualify_is_not_counted_for_a_stale_fair_price():
    assert plan_sl(running_trade("BUY", status="CLOSED"), [sl_row("BUY")], FairPriceCheck("stale")) is None
