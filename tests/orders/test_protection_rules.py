"""Step 4's rules on one order and one order book: the SL and TP placed for long and short trades, when a
missing leg may be placed again and when the book is too old to say, resizing to what is open, the attempts a
leg gets, OCO cancels, and carried trades sized to the broker's positions. Pure: given an order row and a book,
the actions the rules return."""

from datetime import datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from actors.order_placer.rules import (
    CancelLeg,
    EntryNotSeen,
    ModifyLeg,
    PlaceLeg,
    PositionMismatch,
    Unprotected,
    carried_exit_limits,
    plan_protection,
    protection_clock_view,
)
from domain.book import BookIndex
from domain.broker import BrokerOrder, BrokerPosition, ModifyRequest, OrderRequest
from domain.records import OrderRow
from domain.status import OPEN_STATUSES, OrderStatus
from domain.tags import order_tag
from tests.orders.given import T

SETTLE = timedelta(seconds=30)


def running(**legs) -> OrderRow:
    return OrderRow(id=7, user_id=1, account_id=2, strategy="s", symbol="SBIN", exchange_segment="NSECM",
                    instrument_id=3045, side="BUY", quantity=10, entry_type="LIMIT", entry_tag=order_tag(7, "entry", 1),
                    entry_order_id=100, entry_orderstatus="Filled", filled_qty=10, avg_entry_price=Decimal("99"),
                    sl_stop_price=Decimal("95"), status="RUNNING", **legs)


def entry_row() -> BrokerOrder:
    return BrokerOrder(client_id="C", app_order_id=100, exchange_segment="NSECM", instrument_id=3045, symbol="SBIN",
                       side="BUY", order_type="LIMIT", product_type="NRML", quantity=10, status="Filled",
                       filled_qty=10, avg_price=Decimal("99"), tag=order_tag(7, "entry", 1))


def sl_row(tag: str, app_order_id: int, status: str = "Trigger Pending") -> BrokerOrder:
    return BrokerOrder(client_id="C", app_order_id=app_order_id, exchange_segment="NSECM", instrument_id=3045,
                       symbol="SBIN", side="SELL", order_type="STOPLIMIT", product_type="NRML", quantity=10,
                       stop_price=Decimal("95"), limit_price=Decimal("95"), status=status, tag=tag)


def plan(order: OrderRow, rows: list[BrokerOrder], fetched_at: datetime | None) -> list:
    return plan_protection(order, BookIndex(rows), oco_cancels_only=False, max_attempts=3,
                           book_fetched_at=fetched_at, settle=SETTLE)


def test_a_leg_acknowledged_after_the_book_was_fetched_is_not_placed_again():
    order = running(sl_tag=order_tag(7, "sl", 1), sl_order_id=200, sl_orderstatus="New", sl_qty=10,
                    legs_changed_at=T)
    assert plan(order, [entry_row()], fetched_at=T - timedelta(seconds=1)) == []


def test_a_leg_that_vanished_from_a_newer_book_is_placed_under_a_new_attempt():
    order = running(sl_tag=order_tag(7, "sl", 1), sl_order_id=200, sl_orderstatus="Trigger Pending", sl_qty=10,
                    legs_changed_at=T)
    [action] = plan(order, [entry_row()], fetched_at=T + timedelta(seconds=1))
    assert isinstance(action, PlaceLeg) and action.request.tag == order_tag(7, "sl", 2)


def test_an_in_flight_leg_is_left_alone_until_the_settle_time_has_passed():
    order = running(sl_tag=order_tag(7, "sl", 1), sl_orderstatus="PendingSubmit", sl_qty=10, legs_changed_at=T)
    assert plan(order, [entry_row()], fetched_at=T + SETTLE - timedelta(seconds=1)) == []
    [action] = plan(order, [entry_row()], fetched_at=T + SETTLE)
    assert isinstance(action, PlaceLeg) and action.resend and action.request.tag == order_tag(7, "sl", 1)


def test_an_in_flight_leg_found_in_any_book_is_not_sent_again():
    tag = order_tag(7, "sl", 1)
    order = running(sl_tag=tag, sl_orderstatus="Unconfirmed", sl_qty=10, legs_changed_at=T)
    assert plan(order, [entry_row(), sl_row(tag, 200)], fetched_at=T + timedelta(seconds=1)) == []


def test_a_second_live_stop_loss_of_the_same_order_is_cancelled_whatever_the_books_age():
    first, second = order_tag(7, "sl", 1), order_tag(7, "sl", 2)
    order = running(sl_tag=second, sl_order_id=201, sl_orderstatus="Trigger Pending", sl_qty=10, legs_changed_at=T)
    actions = plan(order, [entry_row(), sl_row(first, 200), sl_row(second, 201)], fetched_at=T - timedelta(hours=1))
    assert actions == [CancelLeg(order_id=7, account_id=2, leg="sl", app_order_id=200, tag=first,
                                 reason="duplicate live order for this leg")]


def test_a_second_stop_loss_whose_cancel_is_under_way_is_not_cancelled_again():
    first, second = order_tag(7, "sl", 1), order_tag(7, "sl", 2)
    order = running(sl_tag=second, sl_order_id=201, sl_orderstatus="Trigger Pending", sl_qty=10, legs_changed_at=T)
    book = [entry_row(), sl_row(first, 200, status="PendingCancel"), sl_row(second, 201)]
    assert plan(order, book, fetched_at=T + timedelta(seconds=1)) == []


def test_a_leg_never_sent_is_placed_at_once():
    [action] = plan(running(), [entry_row()], fetched_at=T)
    assert isinstance(action, PlaceLeg) and action.request.tag == order_tag(7, "sl", 1)
    assert action.request.quantity == 10


def cancelled_partial_sl(tag: str, app_order_id: int, filled: int) -> BrokerOrder:
    return BrokerOrder(client_id="C", app_order_id=app_order_id, exchange_segment="NSECM", instrument_id=3045,
                       symbol="SBIN", side="SELL", order_type="STOPLIMIT", product_type="NRML", quantity=10,
                       stop_price=Decimal("95"), limit_price=Decimal("95"), status="Cancelled", filled_qty=filled,
                       avg_price=Decimal("95"), tag=tag)


def live_sl(tag: str, app_order_id: int, qty: int, filled: int = 0, status: str = "Trigger Pending") -> BrokerOrder:
    return BrokerOrder(client_id="C", app_order_id=app_order_id, exchange_segment="NSECM", instrument_id=3045,
                       symbol="SBIN", side="SELL", order_type="STOPLIMIT", product_type="NRML", quantity=qty,
                       stop_price=Decimal("95"), limit_price=Decimal("95"), status=status, filled_qty=filled,
                       avg_price=Decimal("95") if filled else None, tag=tag)


def test_a_live_stop_loss_is_not_resized_over_what_an_earlier_attempt_already_sold():
    first, second = order_tag(7, "sl", 1), order_tag(7, "sl", 2)
    order = running(sl_tag=second, sl_order_id=201, sl_orderstatus="Trigger Pending", sl_qty=5, legs_changed_at=T)
    book = [entry_row(), cancelled_partial_sl(first, 200, filled=5), live_sl(second, 201, qty=5)]
    assert plan(order, book, fetched_at=T + timedelta(seconds=1)) == []


def test_no_stop_loss_is_placed_once_two_attempts_together_sold_the_whole_position():
    first, second = order_tag(7, "sl", 1), order_tag(7, "sl", 2)
    order = running(sl_tag=second, sl_order_id=201, sl_orderstatus="Filled", sl_qty=5, legs_changed_at=T)
    book = [entry_row(), cancelled_partial_sl(first, 200, filled=5), live_sl(second, 201, qty=5, filled=5,
                                                                             status="Filled")]
    assert plan(order, book, fetched_at=T + timedelta(seconds=1)) == []


def test_the_next_attempt_after_a_partial_fill_is_sized_to_what_is_still_open():
    first = order_tag(7, "sl", 1)
    order = running(sl_tag=first, sl_order_id=200, sl_orderstatus="Cancelled", sl_qty=10, legs_changed_at=T)
    book = [entry_row(), cancelled_partial_sl(first, 200, filled=4)]
    [action] = plan(order, book, fetched_at=T + timedelta(seconds=1))
    assert isinstance(action, PlaceLeg) and action.request.tag == order_tag(7, "sl", 2)
    assert action.request.quantity == 6


def test_an_attempt_in_flight_is_not_judged_by_the_row_of_the_attempt_before_it():
    first, second = order_tag(7, "sl", 1), order_tag(7, "sl", 2)
    order = running(sl_tag=second, sl_order_id=200, sl_orderstatus="Unconfirmed", sl_qty=10, legs_changed_at=T)
    book = [entry_row(), sl_row(first, 200, status="Cancelled")]
    assert plan(order, book, fetched_at=T + timedelta(seconds=1)) == [], "wait for the settle time"
    [action] = plan(order, book, fetched_at=T + SETTLE)
    assert isinstance(action, PlaceLeg) and action.resend and action.request.tag == second


def position(net_qty: int) -> BrokerPosition:
    return BrokerPosition(client_id="C", symbol="SBIN", exchange_segment="NSECM", instrument_id=3045,
                          product_type="NRML", net_qty=net_qty)


def carried_plan(orders: list[OrderRow], rows: list[BrokerOrder], positions: list[BrokerPosition]) -> dict:
    book = BookIndex(rows)
    limits = carried_exit_limits(orders, book, positions)
    return {order.id: plan_protection(order, book, oco_cancels_only=False, max_attempts=3, book_fetched_at=T,
                                      settle=SETTLE, carried=order.id in limits, exit_limit=limits.get(order.id))
            for order in orders}


def test_a_carried_trade_the_broker_shows_flat_gets_no_exit_and_is_reported():
    [capped] = carried_plan([running()], [], [position(0)])[7]
    assert isinstance(capped, PositionMismatch) and "leaves 0" in capped.reason


def test_a_carried_trade_whose_position_is_still_held_is_protected_in_full():
    [action] = carried_plan([running()], [], [position(10)])[7]
    assert isinstance(action, PlaceLeg) and action.request.quantity == 10


def test_a_carried_trade_shares_the_position_with_the_days_trades_of_the_instrument():
    today = msgspec.structs.replace(running(), id=8, entry_tag=order_tag(8, "entry", 1), entry_order_id=101)
    todays_entry = BrokerOrder(client_id="C", app_order_id=101, exchange_segment="NSECM", instrument_id=3045,
                               symbol="SBIN", side="BUY", order_type="LIMIT", product_type="NRML", quantity=10,
                               status="Filled", filled_qty=10, avg_price=Decimal("99"), tag=order_tag(8, "entry", 1))
    plans = carried_plan([running(), today], [todays_entry], [position(14)])
    capped, placed = plans[7]
    assert isinstance(capped, PositionMismatch) and isinstance(placed, PlaceLeg) and placed.request.quantity == 4
    [todays_sl] = plans[8]
    assert isinstance(todays_sl, PlaceLeg) and todays_sl.request.quantity == 10


def test_a_leg_refused_before_the_broker_processed_it_is_sent_again_under_its_own_tag():
    tag = order_tag(7, "sl", 1)
    order = running(sl_tag=tag, sl_orderstatus="NotSent", sl_qty=10, legs_changed_at=T)
    [action] = plan(order, [entry_row()], fetched_at=T + timedelta(seconds=1))
    assert isinstance(action, PlaceLeg) and action.resend and action.request.tag == tag


def test_attempts_that_expired_or_were_cancelled_do_not_use_up_the_rejection_budget():
    tags = [order_tag(7, "sl", n) for n in (1, 2, 3)]
    order = running(sl_tag=tags[2], sl_order_id=202, sl_orderstatus="Expired", sl_qty=10, legs_changed_at=T)
    book = [entry_row(), sl_row(tags[0], 200, "Cancelled"), sl_row(tags[1], 201, "Expired"),
            sl_row(tags[2], 202, "Expired")]
    [action] = plan(order, book, fetched_at=T + timedelta(seconds=1))
    assert isinstance(action, PlaceLeg) and action.request.tag == order_tag(7, "sl", 4)


def test_a_leg_the_broker_rejected_max_attempts_times_leaves_the_trade_reported_unprotected():
    tags = [order_tag(7, "sl", n) for n in (1, 2, 3, 4)]
    order = running(sl_tag=tags[3], sl_order_id=203, sl_orderstatus="Rejected", sl_qty=10, sl_rejections=2,
                    legs_changed_at=T)
    book = [entry_row(), sl_row(tags[1], 201, "Expired"), sl_row(tags[3], 203, "Rejected")]
    [action] = plan(order, book, fetched_at=T + timedelta(seconds=1))
    assert isinstance(action, Unprotected) and "rejected 3 times" in action.reason


def test_rejections_when_placing_count_although_the_book_never_lists_them():
    order = running(sl_tag=order_tag(7, "sl", 2), sl_orderstatus="Rejected", sl_qty=10, sl_rejections=1,
                    legs_changed_at=T)
    [action] = plan(order, [entry_row()], fetched_at=T + timedelta(seconds=1))
    assert isinstance(action, PlaceLeg) and action.request.tag == order_tag(7, "sl", 3) and action.rejections == 2
    order = running(sl_tag=order_tag(7, "sl", 3), sl_orderstatus="Rejected", sl_qty=10, sl_rejections=2,
                    legs_changed_at=T)
    [action] = plan(order, [entry_row()], fetched_at=T + timedelta(seconds=1))
    assert isinstance(action, Unprotected)


def test_a_carried_trade_without_an_nrml_position_keeps_its_exits_and_is_reported():
    holding = BrokerPosition(client_id="C", symbol="SBIN", exchange_segment="NSECM", instrument_id=3045,
                             product_type="CNC", net_qty=0)
    mismatch, action = carried_plan([running()], [], [holding])[7]
    assert isinstance(mismatch, PositionMismatch) and "no NRML position" in mismatch.reason
    assert isinstance(action, PlaceLeg) and action.request.quantity == 10


def test_an_entry_request_no_book_lists_after_the_settle_time_is_reported_and_never_sent_again():
    order = msgspec.structs.replace(running(), status="PENDING", entry_order_id=None, entry_orderstatus="PendingSubmit",
                                    filled_qty=0, avg_entry_price=None, legs_changed_at=T)
    assert plan(order, [], fetched_at=T + SETTLE - timedelta(seconds=1)) == []
    [report] = plan(order, [], fetched_at=T + SETTLE)
    assert isinstance(report, EntryNotSeen) and order.entry_tag in report.reason
    listed = BrokerOrder(client_id="C", app_order_id=100, exchange_segment="NSECM", instrument_id=3045, symbol="SBIN",
                         side="BUY", order_type="LIMIT", product_type="NRML", quantity=10, status="New",
                         tag=order.entry_tag)
    assert plan(order, [listed], fetched_at=T + SETTLE) == [], "in the book: Step 3 adopts it"


def test_a_days_trade_of_the_instrument_does_not_make_an_unlisted_position_look_flat():
    today = msgspec.structs.replace(running(), id=8, entry_tag=order_tag(8, "entry", 1), entry_order_id=101)
    todays_entry = BrokerOrder(client_id="C", app_order_id=101, exchange_segment="NSECM", instrument_id=3045,
                               symbol="SBIN", side="BUY", order_type="LIMIT", product_type="NRML", quantity=10,
                               status="Filled", filled_qty=10, avg_price=Decimal("99"), tag=order_tag(8, "entry", 1))
    assert carried_exit_limits([running(), today], BookIndex([todays_entry]), []) == {7: None}


# --- the exits' shape, both sides of a trade ---------------------------------------------------------------


def trade(side: str = "BUY", **fields) -> OrderRow:
    """A running trade of 10 whose entry filled as MIS: SL 95 / TP 110 when long, SL 105 / TP 90 when short."""
    long = side == "BUY"
    base = dict(id=7, user_id=1, account_id=2, strategy="s", symbol="SBIN", exchange_segment="NSECM",
                instrument_id=3045, side=side, quantity=10, entry_type="LIMIT", entry_tag=order_tag(7, "entry", 1),
                entry_order_id=100, entry_orderstatus="Filled", filled_qty=10, avg_entry_price=Decimal("100"),
                sl_stop_price=Decimal("95" if long else "105"), tp_price=Decimal("110" if long else "90"),
                status="RUNNING")
    base.update(fields)
    return OrderRow(**base)


def mis_entry(side: str = "BUY", qty: int = 10, status: str = "Filled") -> BrokerOrder:
    return BrokerOrder(client_id="C", app_order_id=100, exchange_segment="NSECM", instrument_id=3045, symbol="SBIN",
                       side=side, order_type="LIMIT", product_type="MIS", quantity=qty, status=status, filled_qty=qty,
                       avg_price=Decimal("100"), tag=order_tag(7, "entry", 1))


def exit_row(leg: str, attempt: int, app_order_id: int, *, status: str = "Trigger Pending", qty: int = 10,
             filled: int = 0, reject_reason: str = "") -> BrokerOrder:
    """An attempt of a long trade's SL (STOPLIMIT at 95) or TP (LIMIT at 110), as MIS."""
    order_type, limit, stop = ("STOPLIMIT", Decimal("95"), Decimal("95")) if leg == "sl" else \
        ("LIMIT", Decimal("110"), Decimal(0))
    return BrokerOrder(client_id="C", app_order_id=app_order_id, exchange_segment="NSECM", instrument_id=3045,
                       symbol="SBIN", side="SELL", order_type=order_type, product_type="MIS", quantity=qty,
                       limit_price=limit, stop_price=stop, status=status, filled_qty=filled,
                       avg_price=limit if filled else None, reject_reason=reject_reason,
                       tag=order_tag(7, leg, attempt))


def long_sl_placed(attempt: int, qty: int = 10, *, resend: bool = False, rejections: int = 0) -> PlaceLeg:
    return PlaceLeg(order_id=7, account_id=2, leg="sl", attempt=attempt, resend=resend, rejections=rejections,
                    request=OrderRequest(exchange_segment="NSECM", instrument_id=3045, symbol="SBIN", side="SELL",
                                         order_type="STOPLIMIT", quantity=qty, tag=order_tag(7, "sl", attempt),
                                         product_type="MIS", limit_price=Decimal("95"), stop_price=Decimal("95")))


def long_tp_placed(attempt: int, qty: int = 10, *, resend: bool = False, rejections: int = 0) -> PlaceLeg:
    return PlaceLeg(order_id=7, account_id=2, leg="tp", attempt=attempt, resend=resend, rejections=rejections,
                    request=OrderRequest(exchange_segment="NSECM", instrument_id=3045, symbol="SBIN", side="SELL",
                                         order_type="LIMIT", quantity=qty, tag=order_tag(7, "tp", attempt),
                                         product_type="MIS", limit_price=Decimal("110")))


def test_a_long_trade_without_exits_gets_a_sell_stop_limit_sl_at_its_stop_and_a_sell_limit_tp():
    assert plan(trade("BUY"), [mis_entry("BUY")], fetched_at=T) == [long_sl_placed(1), long_tp_placed(1)]


def test_a_short_trade_without_exits_gets_a_buy_stop_limit_sl_at_its_stop_and_a_buy_limit_tp():
    def placed(leg: str, **request) -> PlaceLeg:
        return PlaceLeg(order_id=7, account_id=2, leg=leg, attempt=1,
                        request=OrderRequest(exchange_segment="NSECM", instrument_id=3045, symbol="SBIN", side="BUY",
                                             quantity=10, tag=order_tag(7, leg, 1), product_type="MIS", **request))

    assert plan(trade("SELL"), [mis_entry("SELL")], fetched_at=T) == [
        placed("sl", order_type="STOPLIMIT", limit_price=Decimal("105"), stop_price=Decimal("105")),
        placed("tp", order_type="LIMIT", limit_price=Decimal("90")),
    ]


def test_the_exits_of_a_trade_whose_entry_the_book_no_longer_lists_are_placed_as_nrml():
    [action] = carried_plan([running()], [], [position(10)])[7]
    assert action == PlaceLeg(order_id=7, account_id=2, leg="sl", attempt=1, request=OrderRequest(
        exchange_segment="NSECM", instrument_id=3045, symbol="SBIN", side="SELL", order_type="STOPLIMIT", quantity=10,
        tag=order_tag(7, "sl", 1), product_type="NRML", limit_price=Decimal("95"), stop_price=Decimal("95")))


@pytest.mark.parametrize("status", ["PendingSubmit", "Unconfirmed", "NotSent"])
def test_a_take_profit_not_taken_by_the_broker_is_sent_again_as_it_was_under_its_own_tag(status):
    order = trade(sl_tag=order_tag(7, "sl", 1), sl_orderstatus="Trigger Pending", tp_tag=order_tag(7, "tp", 2),
                  tp_orderstatus=status, tp_rejections=1, legs_changed_at=T)
    book = [mis_entry(), exit_row("sl", 1, 200), exit_row("tp", 1, 201, status="Rejected")]
    assert plan(order, book, fetched_at=T + SETTLE) == [long_tp_placed(2, resend=True)]


# --- resizing a live leg to what is open -------------------------------------------------------------------


def test_a_live_sl_is_resized_to_the_open_quantity_when_more_of_the_entry_fills():
    order = trade(filled_qty=15, tp_price=None, sl_tag=order_tag(7, "sl", 1), sl_order_id=200,
                  sl_orderstatus="PartiallyFilled", legs_changed_at=T)
    book = [mis_entry(qty=15), exit_row("sl", 1, 200, status="PartiallyFilled", filled=4)]
    assert plan(order, book, fetched_at=T + SETTLE) == [ModifyLeg(
        order_id=7, account_id=2, leg="sl", reason="resize to the open quantity 11",
        request=ModifyRequest(app_order_id=200, order_type="STOPLIMIT", quantity=15, tag=order_tag(7, "sl", 1),
                              product_type="MIS", limit_price=Decimal("95"), stop_price=Decimal("95")))]


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_a_sl_whose_cancel_is_under_way_is_still_live_so_neither_resized_nor_placed_again(side):
    order = trade(side, filled_qty=15, tp_price=None, sl_tag=order_tag(7, "sl", 1), sl_order_id=200,
                  sl_orderstatus="PendingCancel", legs_changed_at=T)
    sl = exit_row("sl", 1, 200, status="PendingCancel", filled=4)
    book = [mis_entry(side, qty=15), msgspec.structs.replace(sl, side="SELL" if side == "BUY" else "BUY")]
    assert plan(order, book, fetched_at=T + SETTLE) == []


def test_a_partly_filled_live_sl_whose_rest_covers_what_is_open_is_left_as_it_is():
    order = trade(tp_price=None, sl_tag=order_tag(7, "sl", 1), sl_order_id=200, sl_orderstatus="PartiallyFilled",
                  legs_changed_at=T)
    book = [mis_entry(), exit_row("sl", 1, 200, status="PartiallyFilled", filled=4)]
    assert plan(order, book, fetched_at=T + SETTLE) == []


def test_a_live_tp_is_resized_down_to_the_last_share_still_open():
    order = trade(sl_stop_price=None, tp_tag=order_tag(7, "tp", 2), tp_order_id=201, tp_orderstatus="New",
                  legs_changed_at=T)
    book = [mis_entry(), exit_row("tp", 1, 200, status="Cancelled", filled=9), exit_row("tp", 2, 201, status="New")]
    assert plan(order, book, fetched_at=T + SETTLE) == [ModifyLeg(
        order_id=7, account_id=2, leg="tp", reason="resize to the open quantity 1",
        request=ModifyRequest(app_order_id=201, order_type="LIMIT", quantity=1, tag=order_tag(7, "tp", 2),
                              product_type="MIS", limit_price=Decimal("110")))]


def test_a_live_sl_is_not_resized_to_nothing_once_the_tp_sold_the_whole_position():
    order = trade(sl_tag=order_tag(7, "sl", 1), sl_order_id=200, sl_orderstatus="Trigger Pending",
                  tp_tag=order_tag(7, "tp", 1), tp_order_id=201, tp_orderstatus="Filled", legs_changed_at=T)
    book = [mis_entry(), exit_row("sl", 1, 200), exit_row("tp", 1, 201, status="Filled", filled=10)]
    assert plan(order, book, fetched_at=T + SETTLE) == []


def test_a_missing_sl_is_placed_for_the_last_share_still_open():
    order = trade(tp_price=None, sl_tag=order_tag(7, "sl", 1), sl_order_id=200, sl_orderstatus="Cancelled",
                  legs_changed_at=T)
    book = [mis_entry(), exit_row("sl", 1, 200, status="Cancelled", filled=9)]
    assert plan(order, book, fetched_at=T + SETTLE) == [long_sl_placed(2, qty=1)]


# --- how many attempts a leg gets ---------------------------------------------------------------------------


def rejected_sl(rejections_before: int) -> tuple[OrderRow, list[BrokerOrder]]:
    """The SL's first attempt, rejected in the book while the record still shows it pending."""
    order = trade(tp_price=None, sl_tag=order_tag(7, "sl", 1), sl_order_id=200, sl_orderstatus="Trigger Pending",
                  sl_rejections=rejections_before, legs_changed_at=T)
    return order, [mis_entry(), exit_row("sl", 1, 200, status="Rejected", reject_reason="RMS: margin exceeds")]


def test_a_rejection_the_book_shows_counts_before_the_record_has_caught_up_with_it():
    order, book = rejected_sl(rejections_before=0)
    assert plan(order, book, fetched_at=T + SETTLE) == [long_sl_placed(2, rejections=1)]


def test_the_last_allowed_attempt_after_max_attempts_minus_one_rejections_is_placed():
    order, book = rejected_sl(rejections_before=1)
    assert plan(order, book, fetched_at=T + SETTLE) == [long_sl_placed(2, rejections=2)]


def test_the_rejection_that_uses_up_max_attempts_is_reported_with_the_brokers_reason():
    order, book = rejected_sl(rejections_before=2)
    assert plan(order, book, fetched_at=T + SETTLE) == [Unprotected(
        order_id=7, account_id=2, leg="sl",
        reason="SL rejected 3 times, placed 1 times today (last: RMS: margin exceeds); the position is unprotected")]


def test_a_rejection_at_placing_that_uses_up_max_attempts_is_reported_with_the_recorded_status():
    order = trade(tp_price=None, sl_tag=order_tag(7, "sl", 3), sl_orderstatus="Rejected", sl_rejections=2,
                  legs_changed_at=T)
    assert plan(order, [mis_entry()], fetched_at=T + SETTLE) == [Unprotected(
        order_id=7, account_id=2, leg="sl",
        reason="SL rejected 3 times, placed 0 times today (last: Rejected); the position is unprotected")]


def test_a_tp_whose_rejections_are_used_up_before_any_attempt_on_record_is_reported_as_not_placed():
    order = trade(sl_stop_price=None, tp_rejections=3)
    assert plan(order, [mis_entry()], fetched_at=T) == [Unprotected(
        order_id=7, account_id=2, leg="tp",
        reason="TP rejected 3 times, placed 0 times today (last: not placed); the position is unprotected")]


def test_a_cancelled_attempt_is_placed_again_without_using_up_a_rejection():
    order = trade(tp_price=None, sl_tag=order_tag(7, "sl", 1), sl_order_id=200, sl_orderstatus="Cancelled",
                  sl_rejections=1, legs_changed_at=T)
    book = [mis_entry(), exit_row("sl", 1, 200, status="Cancelled")]
    assert plan(order, book, fetched_at=T + SETTLE) == [long_sl_placed(2, rejections=1)]


def cancelled_attempts(count: int) -> tuple[OrderRow, list[BrokerOrder]]:
    """An SL placed `count` times today, every attempt cancelled."""
    order = trade(tp_price=None, sl_tag=order_tag(7, "sl", count), sl_order_id=199 + count,
                  sl_orderstatus="Cancelled", legs_changed_at=T)
    return order, [mis_entry(), *(exit_row("sl", n, 199 + n, status="Cancelled") for n in range(1, count + 1))]


def test_the_twentieth_placement_of_a_leg_in_a_day_is_still_made():
    order, book = cancelled_attempts(19)
    assert plan(order, book, fetched_at=T + SETTLE) == [long_sl_placed(20)]


def test_a_leg_placed_twenty_times_in_a_day_is_reported_unprotected():
    order, book = cancelled_attempts(20)
    assert plan(order, book, fetched_at=T + SETTLE) == [Unprotected(
        order_id=7, account_id=2, leg="sl",
        reason="SL rejected 0 times, placed 20 times today (last: Cancelled); the position is unprotected")]


# --- OCO and what Step 4 leaves alone ----------------------------------------------------------------------


def closed(**legs) -> OrderRow:
    return trade(status="CLOSED", sl_tag=order_tag(7, "sl", 1), sl_order_id=200, tp_tag=order_tag(7, "tp", 1),
                 tp_order_id=201, legs_changed_at=T, **legs)


@pytest.mark.parametrize("oco_cancels_only", [False, True])
def test_a_closed_trade_cancels_its_live_sl_tp_and_entry(oco_cancels_only):
    order = closed(sl_orderstatus="Trigger Pending", tp_orderstatus="New", entry_orderstatus="PartiallyFilled")
    book = BookIndex([mis_entry(status="PartiallyFilled"), exit_row("sl", 1, 200),
                      exit_row("tp", 1, 201, status="New")])
    assert plan_protection(order, book, oco_cancels_only=oco_cancels_only, max_attempts=3, book_fetched_at=T,
                           settle=SETTLE) == [
        CancelLeg(order_id=7, account_id=2, leg=leg, app_order_id=app_order_id, tag=tag,
                  reason="OCO: the trade is closed")
        for leg, app_order_id, tag in (("sl", 200, order_tag(7, "sl", 1)), ("tp", 201, order_tag(7, "tp", 1)),
                                       ("entry", 100, order_tag(7, "entry", 1)))]


def test_once_the_sl_filled_and_closed_the_trade_only_the_live_tp_is_cancelled():
    order = closed(sl_orderstatus="Filled", tp_orderstatus="New")
    book = [mis_entry(), exit_row("sl", 1, 200, status="Filled", filled=10), exit_row("tp", 1, 201, status="New")]
    assert plan(order, book, fetched_at=T) == [CancelLeg(order_id=7, account_id=2, leg="tp", app_order_id=201,
                                                         tag=order_tag(7, "tp", 1), reason="OCO: the trade is closed")]


def test_a_closed_trade_does_not_cancel_again_a_leg_whose_cancel_is_under_way():
    order = closed(sl_orderstatus="PendingCancel", tp_orderstatus="New", entry_orderstatus="PendingCancel")
    book = [open_entry("PendingCancel", filled=10), exit_row("sl", 1, 200, status="PendingCancel"),
            exit_row("tp", 1, 201, status="New")]
    assert plan(order, book, fetched_at=T) == [CancelLeg(order_id=7, account_id=2, leg="tp", app_order_id=201,
                                                         tag=order_tag(7, "tp", 1), reason="OCO: the trade is closed")]


def test_with_oco_cancels_only_a_running_trade_missing_its_exits_gets_nothing_placed():
    assert plan_protection(trade(), BookIndex([mis_entry()]), oco_cancels_only=True, max_attempts=3,
                           book_fetched_at=T, settle=SETTLE) == []


def test_an_entry_request_not_seen_is_reported_with_its_tag_and_the_settle_time():
    order = trade(status="PENDING", entry_order_id=None, entry_orderstatus="Unconfirmed", filled_qty=0,
                  avg_entry_price=None, legs_changed_at=T)
    assert plan(order, [], fetched_at=T + SETTLE) == [EntryNotSeen(order_id=7, account_id=2, reason=(
        f"the entry request (tag {order_tag(7, 'entry', 1)}) is not in an order book fetched 30 s after it was "
        "sent: the broker never took it; nothing is sent again: place it anew or cancel the order"))]


# --- paused: open entries cancelled, exits still protected -------------------------------------------------


def open_entry(status: str, filled: int = 0) -> BrokerOrder:
    return msgspec.structs.replace(mis_entry(status=status), filled_qty=filled,
                                   avg_price=Decimal("100") if filled else None)


PAUSED_CANCEL = CancelLeg(order_id=7, account_id=2, leg="entry", app_order_id=100, tag=order_tag(7, "entry", 1),
                          reason="automation paused: the open entry is cancelled")


def paused_plan(order: OrderRow, rows: list[BrokerOrder], *, cancel_open_entries: bool = True,
                oco_cancels_only: bool = False) -> list:
    return plan_protection(order, BookIndex(rows), oco_cancels_only=oco_cancels_only, max_attempts=3,
                           book_fetched_at=T, settle=SETTLE, cancel_open_entries=cancel_open_entries)


def waiting(**fields) -> OrderRow:
    """A trade whose entry is at the broker with nothing filled."""
    return trade(status="ENTRY_OPEN", entry_orderstatus="New", filled_qty=0, avg_entry_price=None, **fields)


@pytest.mark.parametrize("status", sorted(OPEN_STATUSES - {OrderStatus.PENDING_CANCEL}))
def test_while_paused_an_entry_still_open_at_the_broker_is_cancelled(status):
    assert paused_plan(waiting(), [open_entry(status)]) == [PAUSED_CANCEL]


def test_while_paused_an_entry_whose_cancel_is_under_way_is_not_cancelled_again():
    assert paused_plan(waiting(), [open_entry("PendingCancel")]) == []


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_an_entry_with_fills_whose_cancel_is_under_way_is_protected_and_not_cancelled_again(side):
    order = trade(side, entry_orderstatus="PendingCancel", filled_qty=4)
    entry = msgspec.structs.replace(mis_entry(side, status="PendingCancel"), filled_qty=4)
    [sl, tp] = paused_plan(order, [entry])
    assert (sl.leg, sl.request.side, sl.request.quantity) == ("sl", "SELL" if side == "BUY" else "BUY", 4)
    assert (tp.leg, tp.request.side, tp.request.quantity) == ("tp", "SELL" if side == "BUY" else "BUY", 4)


@pytest.mark.parametrize("status", ["Filled", "Cancelled", "Rejected"])
def test_while_paused_an_entry_that_can_no_longer_fill_is_not_cancelled(status):
    assert paused_plan(waiting(), [open_entry(status)]) == []


def test_unless_cancelling_is_asked_an_open_entry_is_left_alone():
    assert paused_plan(waiting(), [open_entry("New")], cancel_open_entries=False) == []


def test_while_paused_a_partly_filled_entry_is_cancelled_before_what_filled_gets_its_sl_and_tp():
    order = trade(entry_orderstatus="PartiallyFilled", filled_qty=4)
    assert paused_plan(order, [open_entry("PartiallyFilled", filled=4)]) == [
        PAUSED_CANCEL, long_sl_placed(1, qty=4), long_tp_placed(1, qty=4)]


def test_while_paused_an_entry_that_filled_whole_gets_its_sl_and_tp_and_nothing_is_cancelled():
    assert paused_plan(trade(), [mis_entry()]) == [long_sl_placed(1), long_tp_placed(1)]


def test_with_oco_cancels_only_an_open_entry_of_a_running_trade_is_still_cancelled_but_no_exit_placed():
    order = trade(entry_orderstatus="PartiallyFilled", filled_qty=4)
    assert paused_plan(order, [open_entry("PartiallyFilled", filled=4)], oco_cancels_only=True) == [PAUSED_CANCEL]


def test_while_paused_a_closed_trade_cancels_its_live_entry_once_for_oco():
    order = closed(entry_orderstatus="PartiallyFilled")
    assert paused_plan(order, [open_entry("PartiallyFilled", filled=10)]) == [
        CancelLeg(order_id=7, account_id=2, leg="entry", app_order_id=100, tag=order_tag(7, "entry", 1),
                  reason="OCO: the trade is closed")]


# --- carried trades and the broker's positions --------------------------------------------------------------


def test_a_carried_trade_the_broker_shows_flat_is_reported_with_what_the_record_and_the_position_say():
    assert carried_plan([running()], [], [position(0)])[7] == [PositionMismatch(order_id=7, account_id=2, reason=(
        "10 open by the record but the broker's net position leaves 0 for this trade (the book no longer lists "
        "its earlier legs): exits sized to 0; reconcile the order"))]


def test_a_carried_trade_without_an_nrml_position_is_reported_with_what_its_exits_stay_sized_to():
    mismatch, _ = carried_plan([running()], [], [])[7]
    assert mismatch == PositionMismatch(order_id=7, account_id=2, reason=(
        "10 open by the record, carried from an earlier day, but the broker lists no NRML position in SBIN: exits "
        "stay sized to 10; if it was closed or is a holding, reconcile it"))


def test_a_carried_trade_without_an_nrml_position_and_nothing_open_is_not_reported():
    order = running(sl_tag=order_tag(7, "sl", 1), sl_order_id=200, sl_orderstatus="Filled", legs_changed_at=T)
    filled = cancelled_partial_sl(order_tag(7, "sl", 1), 200, filled=10)
    assert carried_plan([order], [filled], [])[7] == []


def test_a_carried_trade_without_an_nrml_position_and_one_share_open_is_reported_and_protected():
    order = running(sl_tag=order_tag(7, "sl", 1), sl_order_id=200, sl_orderstatus="Cancelled", legs_changed_at=T)
    mismatch, placed = carried_plan([order], [cancelled_partial_sl(order_tag(7, "sl", 1), 200, filled=9)], [])[7]
    assert mismatch.reason.startswith("1 open by the record") and "exits stay sized to 1;" in mismatch.reason
    assert placed == PlaceLeg(order_id=7, account_id=2, leg="sl", attempt=2, request=OrderRequest(
        exchange_segment="NSECM", instrument_id=3045, symbol="SBIN", side="SELL", order_type="STOPLIMIT", quantity=1,
        tag=order_tag(7, "sl", 2), product_type="NRML", limit_price=Decimal("95"), stop_price=Decimal("95")))


def carried_trade(order_id: int, side: str = "BUY", instrument_id: int = 3045, status: str = "RUNNING") -> OrderRow:
    return msgspec.structs.replace(running(), id=order_id, side=side, instrument_id=instrument_id, status=status,
                                   entry_tag=order_tag(order_id, "entry", 1), entry_order_id=None)


def test_the_nrml_rows_of_one_instrument_add_up_to_the_position_carried_trades_share():
    assert carried_exit_limits([carried_trade(7)], BookIndex([]), [position(6), position(4)]) == {7: 10}


def test_a_carried_short_trade_may_exit_no_more_than_the_short_position_left():
    limits = carried_exit_limits([carried_trade(7, side="SELL")], BookIndex([]), [position(-4)])
    assert limits == {7: 4} and type(limits[7]) is int


def test_a_long_position_leaves_nothing_for_a_carried_short_trade():
    assert carried_exit_limits([carried_trade(7, side="SELL")], BookIndex([]), [position(4)]) == {7: 0}


def test_carried_trades_share_the_position_in_order_id_order():
    orders = [carried_trade(9), carried_trade(7)]
    assert carried_exit_limits(orders, BookIndex([]), [position(14)]) == {7: 10, 9: 4}


def test_orders_that_are_not_running_are_passed_over_when_sharing_the_position():
    orders = [carried_trade(5, status="CLOSED"), carried_trade(7)]
    assert carried_exit_limits(orders, BookIndex([]), [position(10)]) == {7: 10}


def test_a_carried_trade_of_an_unlisted_instrument_does_not_keep_the_next_from_its_limit():
    orders = [carried_trade(7, instrument_id=1594), carried_trade(9)]
    assert carried_exit_limits(orders, BookIndex([]), [position(10)]) == {7: None, 9: 10}


def test_a_days_trade_that_exited_in_full_takes_nothing_from_a_carried_trades_share():
    today = msgspec.structs.replace(running(), id=8, entry_tag=order_tag(8, "entry", 1), entry_order_id=101)
    todays_rows = [
        BrokerOrder(client_id="C", app_order_id=101, exchange_segment="NSECM", instrument_id=3045, symbol="SBIN",
                    side="BUY", order_type="LIMIT", product_type="NRML", quantity=10, status="Filled", filled_qty=10,
                    avg_price=Decimal("99"), tag=order_tag(8, "entry", 1)),
        cancelled_partial_sl(order_tag(8, "sl", 1), 300, filled=10),
    ]
    assert carried_exit_limits([carried_trade(7), today], BookIndex(todays_rows), [position(10)]) == {7: 10}


# --- when a missing leg is known to be missing --------------------------------------------------------------


def sent_sl(status: str = "New", **fields) -> OrderRow:
    return trade(tp_price=None, sl_tag=order_tag(7, "sl", 1), sl_order_id=200, sl_orderstatus=status, **fields)


def test_a_missing_leg_is_not_judged_on_a_book_of_unknown_fetch_time():
    assert plan(sent_sl(legs_changed_at=T), [mis_entry()], fetched_at=None) == []


def test_a_leg_acknowledged_the_instant_the_book_was_fetched_is_not_placed_again():
    assert plan(sent_sl(legs_changed_at=T), [mis_entry()], fetched_at=T) == []


def test_a_sent_leg_with_no_change_time_on_record_is_judged_missing_from_any_book():
    assert plan(sent_sl(legs_changed_at=None), [mis_entry()], fetched_at=T) == [long_sl_placed(2)]


def test_a_leg_never_sent_is_placed_from_a_book_older_than_the_last_change_of_another_leg():
    order = trade(tp_price=None, legs_changed_at=T)
    assert plan(order, [mis_entry()], fetched_at=T - timedelta(hours=1)) == [long_sl_placed(1)]


# --- what a Step 4 plan reads of the book's fetch time -------------------------------------------------------


@pytest.mark.parametrize("status", ["RUNNING", "PENDING"])
@pytest.mark.parametrize(("fetched_at", "view"), [
    (None, (False, False)),
    (T - timedelta(seconds=1), (False, False)),
    (T, (False, False)),
    (T + timedelta(microseconds=1), (True, False)),
    (T + SETTLE - timedelta(microseconds=1), (True, False)),
    (T + SETTLE, (True, True)),
])
def test_the_clock_view_of_a_running_or_pending_order_is_whether_the_book_is_newer_and_settled(status, fetched_at,
                                                                                               view):
    assert protection_clock_view(trade(status=status, legs_changed_at=T), fetched_at, SETTLE) == view


@pytest.mark.parametrize("status", ["ENTRY_OPEN", "CLOSED", "CANCELLED"])
def test_the_fetch_time_decides_nothing_for_an_order_neither_running_nor_pending(status):
    assert protection_clock_view(trade(status=status, legs_changed_at=T), T + SETTLE, SETTLE) is None


def test_the_fetch_time_decides_nothing_for_an_order_whose_legs_never_changed():
    assert protection_clock_view(trade(legs_changed_at=None), T + SETTLE, SETTLE) is None
