"""Step 4's rules on one order and one order book: when a missing leg may be placed again, and when the
book is too old to say. Pure: given an order row and a book, the actions the rules return."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec

from actors.order_placer.rules import (
    CancelLeg,
    EntryNotSeen,
    PlaceLeg,
    PositionMismatch,
    Unprotected,
    carried_exit_limits,
    plan_protection,
)
from actors.order_placer.tags import order_tag
from actors.order_syncer.book import BookIndex
from adapters.broker.types import BrokerOrder, BrokerPosition
from adapters.store.rows import OrderRow

T = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)
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


def plan(order: OrderRow, rows: list[BrokerOrder], fetched_at: datetime) -> list:
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
