"""What Step 4 leaves needing the trader: the running trades it reports as running without a stop-loss (and
why), and the entries the broker never took. Pure: given the orders as Step 3 left them, the actions planned
and what became of the requests, the attentions `exposure` returns for the cycle summary."""

from decimal import Decimal

import msgspec
import pytest

from actors.order_placer.exposure import entries_not_seen, unprotected_trades
from actors.order_placer.rules import CancelLeg, EntryNotSeen, PlaceLeg, Unprotected
from domain.broker import OrderRequest
from domain.records import ExitFill, OrderRow
from domain.tags import order_tag
from messages.events import OrderAction, OrderAttention


def running(order_id: int = 7, side: str = "BUY", **fields) -> OrderRow:
    """A trade of 10 whose entry filled, with a live stop-loss unless `fields` say otherwise."""
    base = dict(id=order_id, user_id=1, account_id=2, strategy="s", symbol="SBIN", exchange_segment="NSECM",
                instrument_id=3045, side=side, quantity=10, entry_type="LIMIT", entry_orderstatus="Filled",
                filled_qty=10, avg_entry_price=Decimal("100"), sl_stop_price=Decimal("95" if side == "BUY" else "105"),
                sl_tag=order_tag(order_id, "sl", 1), sl_orderstatus="Trigger Pending", status="RUNNING")
    return OrderRow(**{**base, **fields})


def place(order: OrderRow, leg: str = "sl", attempt: int = 2) -> PlaceLeg:
    request = OrderRequest(exchange_segment="NSECM", instrument_id=3045, symbol="SBIN", side="SELL",
                           order_type="STOPLIMIT", quantity=10, tag=order_tag(order.id, leg, attempt),
                           limit_price=Decimal("95"), stop_price=Decimal("95"))
    return PlaceLeg(order_id=order.id, account_id=order.account_id, leg=leg, attempt=attempt, request=request)


def answered(action: PlaceLeg | CancelLeg, what: str, detail: str = "") -> OrderAction:
    tag = action.tag if isinstance(action, CancelLeg) else action.request.tag
    return OrderAction(order_id=action.order_id, account_id=action.account_id, leg=action.leg, action=what,
                       tag=tag, detail=detail)


def reasons(orders, planned=(), done=(), oco_cancels_only: bool = False) -> dict[int, str]:
    found = unprotected_trades(orders, planned, done, oco_cancels_only=oco_cancels_only)
    return {attention.order_id: attention.reason for attention in found}


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_a_running_trade_sent_without_a_stop_loss_price_is_reported_with_its_account_and_symbol(side):
    order = running(side=side, sl_stop_price=None, sl_tag=None, sl_orderstatus=None)
    assert unprotected_trades([order], [], [], oco_cancels_only=False) == (OrderAttention(
        order_id=7, account_id=2, symbol="SBIN", reason="it was sent without a stop-loss price"),)


@pytest.mark.parametrize(("exited", "reported"), [(9, True), (10, False)], ids=["one-left", "all-exited"])
def test_a_trade_is_reported_only_while_its_record_holds_a_quantity_after_its_exit_fills(exited, reported):
    fills = (ExitFill(app_order_id=300, qty=exited - 4, avg_price=Decimal("110")),
             ExitFill(app_order_id=301, qty=4, avg_price=Decimal("111")))
    order = running(sl_stop_price=None, exit_fills=fills)
    assert (7 in reasons([order])) is reported


@pytest.mark.parametrize("status", ["PENDING", "ENTRY_OPEN", "CLOSED", "CANCELLED"])
def test_an_order_that_is_not_running_is_never_reported(status):
    assert reasons([running(status=status, sl_stop_price=None)], oco_cancels_only=True) == {}


def test_a_running_trade_with_a_live_stop_loss_is_not_reported():
    assert reasons([running()]) == {}


def test_a_stop_loss_the_rules_gave_up_on_is_reported_with_their_reason_and_a_take_profit_given_up_is_not():
    order, other = running(7, sl_orderstatus="Rejected"), running(8)
    planned = [(order, Unprotected(order_id=7, account_id=2, leg="sl", reason="SL rejected 3 times")),
               (other, Unprotected(order_id=8, account_id=2, leg="tp", reason="TP rejected 3 times"))]
    assert reasons([order, other], planned) == {7: "SL rejected 3 times"}


def test_a_stop_loss_placed_this_step_and_refused_is_reported_as_placed_again_next_cycle():
    order = running(sl_orderstatus="Cancelled")
    sl = place(order)
    assert reasons([order], [(order, sl)], [answered(sl, "rejected", "RMS: margin shortfall")]) == {
        7: "its stop-loss was not placed (RMS: margin shortfall); it is placed again next cycle"}


@pytest.mark.parametrize("outcome", ["place", "in_flight"])
def test_a_stop_loss_placed_this_step_and_taken_or_in_flight_is_not_reported(outcome):
    order = running(sl_orderstatus="Cancelled")
    sl = place(order)
    assert reasons([order], [(order, sl)], [answered(sl, outcome)]) == {}


def test_a_refused_take_profit_or_a_refused_cancel_of_the_stop_loss_does_not_report_the_trade():
    order = running()
    tp = place(order, "tp")
    cancel = CancelLeg(order_id=7, account_id=2, leg="sl", app_order_id=201, tag=order_tag(7, "sl", 9),
                       reason="duplicate live order for this leg")
    done = [answered(tp, "rejected", "RMS"), answered(cancel, "rejected", "RMS")]
    assert reasons([order], [(order, tp), (order, cancel)], done) == {}


@pytest.mark.parametrize("status", [None, "Rejected", "Cancelled", "NotSent"])
def test_a_paused_cycle_reports_a_running_trade_whose_stop_loss_is_not_live(status):
    order = running(sl_orderstatus=status)
    assert reasons([order], oco_cancels_only=True) == {7: "automation is paused and places no stop-loss"}
    assert reasons([order], oco_cancels_only=False) == {}


@pytest.mark.parametrize("status", ["Trigger Pending", "New", "PartiallyFilled", "PendingSubmit", "Unconfirmed"])
def test_a_paused_cycle_does_not_report_a_stop_loss_that_is_live_or_in_flight(status):
    assert reasons([running(sl_orderstatus=status)], oco_cancels_only=True) == {}


def test_every_unprotected_trade_is_reported_in_the_order_of_the_orders_whatever_orders_come_between():
    orders = [running(9, sl_stop_price=None), running(7), running(6, status="CLOSED", sl_stop_price=None),
              running(8, sl_stop_price=None)]
    assert [a.order_id for a in unprotected_trades(orders, [], [], oco_cancels_only=False)] == [9, 8]


def test_an_entry_the_broker_never_took_is_reported_with_the_rules_reason_and_nothing_else_is():
    pending = msgspec.structs.replace(running(12, status="PENDING", filled_qty=0), symbol="TCS", account_id=3)
    planned = [(pending, EntryNotSeen(order_id=12, account_id=3, reason="the broker never took it")),
               (running(7), place(running(7)))]
    assert entries_not_seen(planned) == (
        OrderAttention(order_id=12, account_id=3, symbol="TCS", reason="the broker never took it"),)
