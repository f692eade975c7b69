"""Step 3's rules on one order and one order book: the lifecycle and PnL it computes from the legs the
book lists, across every attempt of an exit leg and, through the order's record of its exit fills, across
trading days whose books no longer list yesterday's legs; and the open quantity Step 4 sizes exits to from
the same exits. Pure: given an order row and a book, the changes `plan_order_sync` returns."""

from datetime import timedelta
from decimal import Decimal

import msgspec
import pytest

from actors.order_placer.rules import PlaceLeg, PositionMismatch, carried_exit_limits, plan_protection
from actors.order_syncer.sync import plan_order_sync
from domain.book import BookIndex
from domain.broker import BrokerOrder, BrokerPosition
from domain.records import ExitFill, FairPrice, OrderRow, OrderUpdate
from domain.tags import order_tag
from tests.orders.given import T


def long_trade(**fields) -> OrderRow:
    base = dict(id=7, user_id=1, account_id=2, strategy="s", symbol="SBIN", exchange_segment="NSECM",
                instrument_id=3045, side="BUY", quantity=10, entry_type="LIMIT", entry_tag=order_tag(7, "entry", 1),
                entry_order_id=100, entry_orderstatus="Filled", filled_qty=10, avg_entry_price=Decimal("100"),
                sl_stop_price=Decimal("95"), tp_price=Decimal("110"), status="RUNNING")
    base.update(fields)
    return OrderRow(**base)


def entry_row() -> BrokerOrder:
    return BrokerOrder(client_id="C", app_order_id=100, exchange_segment="NSECM", instrument_id=3045, symbol="SBIN",
                       side="BUY", order_type="LIMIT", product_type="NRML", quantity=10, status="Filled",
                       filled_qty=10, avg_price=Decimal("100"), tag=order_tag(7, "entry", 1))


def sl_row(attempt: int, app_order_id: int, status: str, filled: int) -> BrokerOrder:
    return BrokerOrder(client_id="C", app_order_id=app_order_id, exchange_segment="NSECM", instrument_id=3045,
                       symbol="SBIN", side="SELL", order_type="STOPLIMIT", product_type="NRML", quantity=10,
                       stop_price=Decimal("95"), limit_price=Decimal("95"), status=status, filled_qty=filled,
                       avg_price=Decimal("95") if filled else None, tag=order_tag(7, "sl", attempt))


def fair_at(buy: str, sell: str) -> FairPrice:
    return FairPrice(symbol="SBIN", buy_fair_price=Decimal(buy), sell_fair_price=Decimal(sell), updated_at=T)


def changes(order: OrderRow, rows: list[BrokerOrder], fair: FairPrice | None = None) -> dict:
    plan = plan_order_sync([order], BookIndex(rows), {fair.symbol: fair} if fair else {}, T, timedelta(minutes=2))
    return {c.field: c.after for c in plan.changes}


def test_two_attempts_that_together_sold_the_position_close_the_trade_with_the_pnl_of_both():
    order = long_trade(sl_tag=order_tag(7, "sl", 2), sl_order_id=201, sl_orderstatus="Trigger Pending")
    book = [entry_row(), sl_row(1, 200, "Cancelled", filled=4), sl_row(2, 201, "Filled", filled=6)]
    changed = changes(order, book)
    assert changed["status"] == "CLOSED"
    assert changed["realized_pnl"] == str(Decimal("-50.0000"))
    assert changed["exit_price"] == str(Decimal("95.0000"))


def test_a_closed_trade_whose_legs_a_new_days_book_no_longer_lists_is_left_as_it_was():
    order = long_trade(sl_tag=order_tag(7, "sl", 1), sl_order_id=200, sl_orderstatus="Filled", status="CLOSED",
                       exit_price=Decimal("95.0000"), realized_pnl=Decimal("-50.0000"),
                       unrealized_pnl=Decimal("0.0000"))
    assert changes(order, []) == {}


def test_a_running_trade_that_exited_in_part_yesterday_keeps_its_realized_pnl_on_a_new_days_book():
    order = long_trade(sl_tag=order_tag(7, "sl", 1), sl_order_id=200, sl_orderstatus="Cancelled",
                       realized_pnl=Decimal("-20.0000"), unrealized_pnl=Decimal("-30.0000"))
    assert "realized_pnl" not in changes(order, [])


def test_a_running_trade_without_exits_is_marked_on_its_whole_quantity_on_a_new_days_book():
    changed = changes(long_trade(), [], fair_at("103", "102"))
    assert (changed["ltp"], changed["unrealized_pnl"]) == ("102.0000", "20.0000")
    assert "realized_pnl" not in changed


def test_an_attempt_in_flight_keeps_its_status_when_the_book_only_lists_the_attempt_before_it():
    order = long_trade(sl_tag=order_tag(7, "sl", 2), sl_order_id=200, sl_orderstatus="Unconfirmed")
    changed = changes(order, [entry_row(), sl_row(1, 200, "Cancelled", filled=0)])
    assert "sl_orderstatus" not in changed and "sl_order_id" not in changed


# --- exits across two trading days ---------------------------------------------------------------------


def trade_of(side: str) -> OrderRow:
    """A trade of 10 entered at 100 with its SL and TP live: long (SL 95, TP 110) or short (SL 105, TP 90)."""
    long = side == "BUY"
    return long_trade(side=side, sl_stop_price=Decimal("95" if long else "105"),
                      tp_price=Decimal("110" if long else "90"), sl_tag=order_tag(7, "sl", 1), sl_order_id=200,
                      sl_orderstatus="Trigger Pending", tp_tag=order_tag(7, "tp", 1), tp_order_id=300,
                      tp_orderstatus="New")


def exit_row(order: OrderRow, leg: str, attempt: int, app_order_id: int, status: str, filled: int = 0,
             price: str | None = None) -> BrokerOrder:
    limit = order.sl_stop_price if leg == "sl" else order.tp_price
    return BrokerOrder(client_id="C", app_order_id=app_order_id, exchange_segment="NSECM", instrument_id=3045,
                       symbol="SBIN", side="SELL" if order.side == "BUY" else "BUY",
                       order_type="STOPLIMIT" if leg == "sl" else "LIMIT", product_type="NRML", quantity=10,
                       limit_price=limit, stop_price=limit if leg == "sl" else Decimal(0), status=status,
                       filled_qty=filled, avg_price=Decimal(price) if price else None, tag=order_tag(7, leg, attempt))


def synced(order: OrderRow, rows: list[BrokerOrder], fair: FairPrice | None = None) -> OrderRow:
    """The order as Step 3 leaves it after a sync on this book."""
    plan = plan_order_sync([order], BookIndex(rows), {fair.symbol: fair} if fair else {}, T, timedelta(minutes=2))
    return msgspec.structs.replace(order, **{k: v for update in plan.updates for k, v in update.changes.items()})


def after_day_one(side: str, sl_fill_price: str) -> OrderRow:
    """Day 1: the entry of 10 at 100 filled and the SL sold (or bought back) 4 at `sl_fill_price`; the last
    sync of the day saw it. Day 2: the SL and TP were placed again as attempt 2 (ids 201 and 301)."""
    order = trade_of(side)
    entry = msgspec.structs.replace(entry_row(), side=side)
    day_one = synced(order, [entry, exit_row(order, "sl", 1, 200, "PartiallyFilled", 4, sl_fill_price),
                             exit_row(order, "tp", 1, 300, "New")])
    assert (day_one.status, day_one.exit_fills) == ("RUNNING", (ExitFill(app_order_id=200, qty=4,
                                                                         avg_price=Decimal(sl_fill_price)),))
    return msgspec.structs.replace(day_one, sl_tag=order_tag(7, "sl", 2), sl_order_id=201,
                                   tp_tag=order_tag(7, "tp", 2), tp_order_id=301)


@pytest.mark.parametrize(("side", "sl_fill", "tp_fill", "realized", "exit_price"), [
    # (95.35 - 100) x 4 + (110.15 - 100) x 6; (95.35 x 4 + 110.15 x 6) / 10
    pytest.param("BUY", "95.35", "110.15", "42.3000", "104.2300", id="long"),
    # (100 - 105.20) x 4 + (100 - 89.90) x 6; (105.20 x 4 + 89.90 x 6) / 10
    pytest.param("SELL", "105.20", "89.90", "39.8000", "96.0200", id="short"),
])
def test_a_trade_that_exited_part_yesterday_and_the_rest_today_closes_with_the_pnl_of_both_days(
        side, sl_fill, tp_fill, realized, exit_price):
    order = after_day_one(side, sl_fill_price=sl_fill)

    closed = synced(order, [exit_row(order, "sl", 2, 201, "Cancelled"),
                            exit_row(order, "tp", 2, 301, "Filled", 6, tp_fill)])

    assert closed.status == "CLOSED"
    assert closed.realized_pnl == Decimal(realized)
    assert closed.exit_price == Decimal(exit_price)
    assert closed.unrealized_pnl == 0
    assert [fill.app_order_id for fill in closed.exit_fills] == [200, 301]


@pytest.mark.parametrize(("side", "sl_fill", "tp_fill", "fair", "realized", "unrealized"), [
    # (95.35 - 100) x 4 + (110.15 - 100) x 3; (108 - 100) x the 3 still open
    pytest.param("BUY", "95.35", "110.15", fair_at("108.10", "108"), "11.8500", "24.0000", id="long"),
    # (100 - 105.20) x 4 + (100 - 89.90) x 3; (100 - 95) x the 3 still open
    pytest.param("SELL", "105.20", "89.90", fair_at("95", "94.90"), "9.5000", "15.0000", id="short"),
])
def test_a_trade_that_exits_part_again_today_stays_running_with_the_pnl_of_both_days(
        side, sl_fill, tp_fill, fair, realized, unrealized):
    order = after_day_one(side, sl_fill_price=sl_fill)

    running = synced(order, [exit_row(order, "sl", 2, 201, "Trigger Pending"),
                             exit_row(order, "tp", 2, 301, "PartiallyFilled", 3, tp_fill)], fair)

    assert running.status == "RUNNING"
    assert running.realized_pnl == Decimal(realized)
    assert running.unrealized_pnl == Decimal(unrealized)
    assert running.exit_price is None


def test_a_new_days_book_without_exits_leaves_the_recorded_exits_and_their_pnl_as_they_were():
    order = after_day_one("BUY", sl_fill_price="95.35")

    assert synced(order, []) == order


def test_a_row_the_book_lists_again_replaces_its_recorded_fill_rather_than_adding_to_it():
    order = after_day_one("BUY", sl_fill_price="95.35")

    later = synced(order, [exit_row(order, "tp", 2, 301, "PartiallyFilled", 2, "110.15")])
    again = synced(later, [exit_row(order, "tp", 2, 301, "PartiallyFilled", 5, "110.10")])

    assert [(fill.app_order_id, fill.qty) for fill in again.exit_fills] == [(200, 4), (301, 5)]
    assert again.realized_pnl == Decimal("31.9000")  # (95.35 - 100) x 4 + (110.10 - 100) x 5


def test_the_exits_placed_on_a_new_day_are_sized_to_what_both_days_left_open():
    order = msgspec.structs.replace(after_day_one("BUY", sl_fill_price="95.35"), sl_orderstatus="Expired",
                                    tp_orderstatus="Expired", sl_order_id=200, tp_order_id=300,
                                    sl_tag=order_tag(7, "sl", 1), tp_tag=order_tag(7, "tp", 1))
    book = BookIndex([])
    position = BrokerPosition(client_id="C", symbol="SBIN", exchange_segment="NSECM", instrument_id=3045,
                              product_type="NRML", net_qty=6)

    limits = carried_exit_limits([order], book, [position])
    actions = plan_protection(order, book, oco_cancels_only=False, max_attempts=3, book_fetched_at=T,
                              settle=timedelta(seconds=30), carried=True, exit_limit=limits[7])

    assert not any(isinstance(action, PositionMismatch) for action in actions)
    assert [(a.leg, a.request.quantity) for a in actions if isinstance(a, PlaceLeg)] == [("sl", 6), ("tp", 6)]


def test_a_closed_order_from_before_the_record_keeps_its_pnl_when_the_book_lists_only_part_of_its_exits():
    order = long_trade(tp_tag=order_tag(7, "tp", 2), tp_order_id=301, tp_orderstatus="Filled", status="CLOSED",
                       exit_price=Decimal("104.2300"), realized_pnl=Decimal("42.3000"),
                       unrealized_pnl=Decimal("0.0000"))
    todays_tp = exit_row(order, "tp", 2, 301, "Filled", 6, "110.15")

    changed = changes(order, [todays_tp])

    assert "realized_pnl" not in changed and "exit_price" not in changed


def test_the_sync_event_carries_the_exit_fills_before_and_after_as_the_json_the_order_stores():
    order = after_day_one("BUY", sl_fill_price="95.35")

    plan = plan_order_sync([order], BookIndex([exit_row(order, "tp", 2, 301, "PartiallyFilled", 3, "110.15")]), {},
                           T, timedelta(minutes=2))

    [change] = [c for c in plan.changes if c.field == "exit_fills"]
    assert msgspec.json.decode(change.before) == [{"app_order_id": 200, "qty": 4, "avg_price": "95.3500"}]
    assert msgspec.json.decode(change.after) == [{"app_order_id": 200, "qty": 4, "avg_price": "95.3500"},
                                                 {"app_order_id": 301, "qty": 3, "avg_price": "110.1500"}]


def test_exit_rows_the_order_tracks_by_broker_id_count_though_they_carry_no_tag_of_ours():
    order = long_trade(sl_order_id=200, sl_orderstatus="Trigger Pending", tp_order_id=300, tp_orderstatus="New")
    untagged = [msgspec.structs.replace(exit_row(order, "sl", 1, 200, "Filled", 9, "95"), tag=""),
                msgspec.structs.replace(exit_row(order, "tp", 1, 300, "PartiallyFilled", 1, "110"), tag="")]

    closed = synced(order, [entry_row(), *untagged])

    assert closed.status == "CLOSED"
    assert closed.realized_pnl == Decimal("-35.0000")  # (95 - 100) x 9 + (110 - 100) x 1
    assert closed.exit_price == Decimal("96.5000")  # (95 x 9 + 110 x 1) / 10


def test_an_exit_row_with_no_fill_or_no_average_price_yet_adds_nothing_to_the_record():
    order = after_day_one("BUY", sl_fill_price="95.35")
    rows = [exit_row(order, "sl", 2, 201, "New", 0, "0"),
            msgspec.structs.replace(exit_row(order, "tp", 2, 301, "PartiallyFilled", 2), avg_price=None)]

    assert synced(order, rows).exit_fills == order.exit_fills


# --- mirroring the entry and the lifecycle ---------------------------------------------------------------


def pending_order(side: str = "BUY", **fields) -> OrderRow:
    """An order whose entry was sent (tagged) but that no sync has seen yet: no broker id, no fill."""
    base = dict(side=side, entry_order_id=None, entry_orderstatus=None, filled_qty=0, avg_entry_price=None,
                status="PENDING")
    base.update(fields)
    return long_trade(**base)


def entry_of(side: str, status: str, filled: int = 0, avg: str | None = None, reason: str = "") -> BrokerOrder:
    return msgspec.structs.replace(entry_row(), side=side, status=status, filled_qty=filled,
                                   avg_price=Decimal(avg) if avg else None, reject_reason=reason)


@pytest.mark.parametrize("side", ["BUY", "SELL"])
@pytest.mark.parametrize(("entry_status", "reason", "expected"), [
    ("New", "", {"status": "ENTRY_OPEN"}),
    ("Trigger Pending", "", {"status": "ENTRY_OPEN"}),
    ("PendingNew", "", {"status": "ENTRY_OPEN"}),
    ("PendingReplace", "", {"status": "ENTRY_OPEN"}),
    ("Replaced", "", {"status": "ENTRY_OPEN"}),
    ("PendingCancel", "", {"status": "ENTRY_OPEN"}),
    ("Cancelled", "", {"status": "CANCELLED"}),
    ("Rejected", "RMS: margin exceeds", {"status": "REJECTED", "reject_reason": "RMS: margin exceeds"}),
    ("Rejected", "", {"status": "REJECTED", "reject_reason": "rejected by the broker"}),
])
def test_an_unfilled_entry_the_book_lists_moves_a_pending_order_to_the_lifecycle_of_its_status(
        side, entry_status, reason, expected):
    changed = changes(pending_order(side), [entry_of(side, entry_status, reason=reason)])

    assert changed == {"entry_order_id": 100, "entry_orderstatus": entry_status, **expected}


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_a_pending_order_whose_entry_the_book_does_not_list_stays_pending(side):
    assert changes(pending_order(side), []) == {}


@pytest.mark.parametrize(("side", "fair", "ltp", "unrealized"), [
    ("BUY", fair_at("101.50", "101"), "101.0000", "7.5000"),  # (101 - 100.25) x 10 at the sell fair price
    ("SELL", fair_at("99.50", "99"), "99.5000", "7.5000"),  # (100.25 - 99.50) x 10 at the buy fair price
])
def test_an_entry_that_fills_makes_the_trade_running_marked_from_the_books_fill_and_average_price(
        side, fair, ltp, unrealized):
    order = pending_order(side, entry_order_id=100, entry_orderstatus="New", status="ENTRY_OPEN")

    changed = changes(order, [entry_of(side, "Filled", 10, "100.25")], fair)

    assert changed == {"entry_orderstatus": "Filled", "filled_qty": 10, "avg_entry_price": "100.2500",
                       "status": "RUNNING", "ltp": ltp, "unrealized_pnl": unrealized}


@pytest.mark.parametrize(("side", "fair", "unrealized"), [
    ("BUY", fair_at("103", "102"), "2.0000"),
    ("SELL", fair_at("99", "98"), "1.0000"),
])
def test_a_one_share_fill_makes_the_trade_running_with_its_pnl(side, fair, unrealized):
    order = pending_order(side, quantity=1, entry_order_id=100, entry_orderstatus="New", status="ENTRY_OPEN")

    changed = changes(order, [entry_of(side, "Filled", 1, "100")], fair)

    assert (changed["status"], changed["filled_qty"], changed["unrealized_pnl"]) == ("RUNNING", 1, unrealized)


@pytest.mark.parametrize("side", ["BUY", "SELL"])
@pytest.mark.parametrize("filled", [1, 10])
def test_a_filled_entry_without_an_average_price_yet_runs_unmarked_until_it_has_one(side, filled):
    order = pending_order(side, entry_order_id=100, entry_orderstatus="New", status="ENTRY_OPEN")

    changed = changes(order, [entry_of(side, "Filled", filled)], fair_at("101", "100"))

    assert changed == {"entry_orderstatus": "Filled", "filled_qty": filled, "status": "RUNNING",
                       "unrealized_pnl": None}


STALE = FairPrice(symbol="SBIN", buy_fair_price=Decimal("101"), sell_fair_price=Decimal("100"),
                  updated_at=T - timedelta(minutes=2, microseconds=1))


@pytest.mark.parametrize("side", ["BUY", "SELL"])
@pytest.mark.parametrize("fair", [None, STALE], ids=["no-fair-price", "older-than-its-max-age"])
def test_a_running_trade_with_no_fresh_fair_price_is_unmarked_rather_than_kept_at_its_last_mark(side, fair):
    order = msgspec.structs.replace(trade_of(side), ltp=Decimal("103"), unrealized_pnl=Decimal("30.0000"))

    changed = changes(order, [entry_of(side, "Filled", 10, "100")], fair)

    assert changed == {"unrealized_pnl": None}


@pytest.mark.parametrize(("side", "unrealized"), [("BUY", "0.0000"), ("SELL", "-10.0000")])
def test_a_running_trade_whose_fair_price_is_exactly_its_max_age_old_is_still_marked(side, unrealized):
    fair = msgspec.structs.replace(STALE, updated_at=T - timedelta(minutes=2))
    order = msgspec.structs.replace(trade_of(side), unrealized_pnl=None)

    changed = changes(order, [entry_of(side, "Filled", 10, "100")], fair)

    assert changed["unrealized_pnl"] == unrealized  # long: (100 - 100) x 10; short: (100 - 101) x 10


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_an_entry_still_open_keeps_the_trade_running_though_its_exits_sold_all_it_filled(side):
    order = msgspec.structs.replace(trade_of(side), filled_qty=5)
    book = [entry_of(side, "PartiallyFilled", 5, "100"), exit_row(order, "sl", 1, 200, "Filled", 5, "100")]

    changed = changes(order, book)

    assert changed["entry_orderstatus"] == "PartiallyFilled"
    assert "status" not in changed


@pytest.mark.parametrize("side", ["BUY", "SELL"])
@pytest.mark.parametrize("pending", ["PendingCancel", "PendingReplace", "PendingNew"])
def test_an_entry_with_fills_whose_cancel_or_change_is_pending_is_not_finished_though_its_exits_sold_all_it_filled(
        side, pending):
    order = msgspec.structs.replace(trade_of(side), filled_qty=5, entry_orderstatus="PartiallyFilled")
    book = [entry_of(side, pending, 5, "100"), exit_row(order, "sl", 1, 200, "Filled", 5, "100")]

    changed = changes(order, book)

    assert changed["entry_orderstatus"] == pending
    assert "status" not in changed


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_an_entry_cancelled_after_its_pending_cancel_closes_the_trade_its_exits_sold_out(side):
    order = msgspec.structs.replace(trade_of(side), filled_qty=5, entry_orderstatus="PendingCancel")
    book = [entry_of(side, "Cancelled", 5, "100"), exit_row(order, "sl", 1, 200, "Filled", 5, "100")]

    assert changes(order, book)["status"] == "CLOSED"


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_an_entry_the_book_no_longer_lists_counts_with_its_stored_status_for_the_lifecycle(side):
    order = msgspec.structs.replace(trade_of(side), filled_qty=5, entry_orderstatus="PartiallyFilled")

    changed = changes(order, [exit_row(order, "sl", 1, 200, "Filled", 5, "100")])

    assert "status" not in changed and "entry_orderstatus" not in changed


@pytest.mark.parametrize("side", ["BUY", "SELL"])
@pytest.mark.parametrize("leg", ["sl", "tp"])
def test_an_exit_legs_broker_id_and_status_are_mirrored_from_the_row_its_tag_finds(side, leg):
    order = msgspec.structs.replace(trade_of(side), **{f"{leg}_order_id": None, f"{leg}_orderstatus": None},
                                    unrealized_pnl=None)

    changed = changes(order, [entry_of(side, "Filled", 10, "100"), exit_row(order, leg, 1, 250, "New")])

    assert changed == {f"{leg}_order_id": 250, f"{leg}_orderstatus": "New"}


@pytest.mark.parametrize("side", ["BUY", "SELL"])
@pytest.mark.parametrize("status", ["RUNNING", "CLOSED"])
def test_an_order_with_nothing_filled_gets_no_pnl_whatever_status_it_records(side, status):
    order = long_trade(side=side, filled_qty=0, entry_orderstatus="Filled", status=status)

    assert changes(order, [], fair_at("101", "100")) == {}


@pytest.mark.parametrize(("side", "leg", "recorded", "revised", "realized"), [
    ("BUY", "sl", "95", "95.10", "-49.0000"),  # (95.10 - 100) x 10
    ("SELL", "sl", "105", "104.90", "-49.0000"),  # (100 - 104.90) x 10
    ("BUY", "tp", "110", "110.20", "102.0000"),  # (110.20 - 100) x 10
    ("SELL", "tp", "90", "89.80", "102.0000"),  # (100 - 89.80) x 10
])
def test_a_closed_trade_whose_book_lists_all_its_exits_takes_its_pnl_and_exit_price_from_them(
        side, leg, recorded, revised, realized):
    order = msgspec.structs.replace(
        trade_of(side), status="CLOSED", **{f"{leg}_orderstatus": "Filled"}, exit_price=Decimal(recorded),
        realized_pnl=(Decimal(recorded) - 100) * 10 * (1 if side == "BUY" else -1),
        exit_fills=(ExitFill(app_order_id=200 if leg == "sl" else 300, qty=10, avg_price=Decimal(recorded)),))

    closed = synced(order, [exit_row(order, leg, 1, 200 if leg == "sl" else 300, "Filled", 10, revised)])

    assert (closed.realized_pnl, closed.exit_price) == (Decimal(realized), Decimal(revised).quantize(Decimal("0.0001")))
    assert closed.status == "CLOSED"


# --- the plan -------------------------------------------------------------------------------------------


def test_the_sync_event_carries_ids_and_quantities_as_numbers_and_an_unset_field_as_none():
    order = pending_order(entry_order_id=100, entry_orderstatus="New", status="ENTRY_OPEN")

    plan = plan_order_sync([order], BookIndex([entry_of("BUY", "Filled", 10, "100.25")]), {}, T,
                           timedelta(minutes=2))

    by_field = {c.field: (c.before, c.after) for c in plan.changes}
    assert by_field["filled_qty"] == (0, 10)
    assert by_field["avg_entry_price"] == (None, "100.2500")
    assert by_field["entry_orderstatus"] == ("New", "Filled")


def test_each_changed_order_gets_one_update_at_the_version_read_even_after_an_unchanged_order():
    unchanged = long_trade(status="CLOSED", filled_qty=0)
    pending = pending_order(id=8, account_id=5, version=3, entry_tag=order_tag(8, "entry", 1))
    row = msgspec.structs.replace(entry_of("BUY", "New"), app_order_id=800, tag=order_tag(8, "entry", 1))

    plan = plan_order_sync([unchanged, pending], BookIndex([row]), {}, T, timedelta(minutes=2))

    assert plan.updates == (OrderUpdate(8, 3, {"entry_order_id": 800, "entry_orderstatus": "New",
                                               "status": "ENTRY_OPEN"}),)
    assert {(c.order_id, c.account_id) for c in plan.changes} == {(8, 5)}
    assert [c.field for c in plan.changes] == ["entry_order_id", "entry_orderstatus", "status"]
