"""Step 3's rules on one order and one order book: the lifecycle and PnL it computes from the legs the
book lists, across every attempt of an exit leg and, through the order's record of its exit fills, across
trading days whose books no longer list yesterday's legs; and the open quantity Step 4 sizes exits to from
the same exits. Pure: given an order row and a book, the changes `plan_order_sync` returns."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec

from actors.order_placer.rules import PlaceLeg, PositionMismatch, carried_exit_limits, plan_protection
from actors.order_placer.tags import order_tag
from actors.order_syncer.book import BookIndex
from actors.order_syncer.sync import plan_order_sync
from adapters.broker.types import BrokerOrder, BrokerPosition
from adapters.store.rows import ExitFill, FairPrice, OrderRow

T = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)


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
    fair = FairPrice(symbol="SBIN", buy_fair_price=Decimal("103"), sell_fair_price=Decimal("102"), updated_at=T)
    changed = changes(long_trade(), [], fair)
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


def test_a_long_trade_that_exited_part_yesterday_and_the_rest_today_closes_with_the_pnl_of_both_days():
    order = after_day_one("BUY", sl_fill_price="95.35")

    closed = synced(order, [exit_row(order, "sl", 2, 201, "Cancelled"),
                            exit_row(order, "tp", 2, 301, "Filled", 6, "110.15")])

    assert closed.status == "CLOSED"
    assert closed.realized_pnl == Decimal("42.3000")  # (95.35 - 100) x 4 + (110.15 - 100) x 6
    assert closed.exit_price == Decimal("104.2300")  # (95.35 x 4 + 110.15 x 6) / 10
    assert closed.unrealized_pnl == 0
    assert [fill.app_order_id for fill in closed.exit_fills] == [200, 301]


def test_a_short_trade_that_exited_part_yesterday_and_the_rest_today_closes_with_the_pnl_of_both_days():
    order = after_day_one("SELL", sl_fill_price="105.20")

    closed = synced(order, [exit_row(order, "sl", 2, 201, "Cancelled"),
                            exit_row(order, "tp", 2, 301, "Filled", 6, "89.90")])

    assert closed.status == "CLOSED"
    assert closed.realized_pnl == Decimal("39.8000")  # (100 - 105.20) x 4 + (100 - 89.90) x 6
    assert closed.exit_price == Decimal("96.0200")  # (105.20 x 4 + 89.90 x 6) / 10


def test_a_long_trade_that_exits_part_again_today_stays_running_with_the_pnl_of_both_days():
    order = after_day_one("BUY", sl_fill_price="95.35")
    fair = FairPrice(symbol="SBIN", buy_fair_price=Decimal("108.10"), sell_fair_price=Decimal("108"), updated_at=T)

    running = synced(order, [exit_row(order, "sl", 2, 201, "Trigger Pending"),
                             exit_row(order, "tp", 2, 301, "PartiallyFilled", 3, "110.15")], fair)

    assert running.status == "RUNNING"
    assert running.realized_pnl == Decimal("11.8500")  # (95.35 - 100) x 4 + (110.15 - 100) x 3
    assert running.unrealized_pnl == Decimal("24.0000")  # (108 - 100) x the 3 still open
    assert running.exit_price is None


def test_a_short_trade_that_exits_part_again_today_stays_running_with_the_pnl_of_both_days():
    order = after_day_one("SELL", sl_fill_price="105.20")
    fair = FairPrice(symbol="SBIN", buy_fair_price=Decimal("95"), sell_fair_price=Decimal("94.90"), updated_at=T)

    running = synced(order, [exit_row(order, "sl", 2, 201, "Trigger Pending"),
                             exit_row(order, "tp", 2, 301, "PartiallyFilled", 3, "89.90")], fair)

    assert running.status == "RUNNING"
    assert running.realized_pnl == Decimal("9.5000")  # (100 - 105.20) x 4 + (100 - 89.90) x 3
    assert running.unrealized_pnl == Decimal("15.0000")  # (100 - 95) x the 3 still open


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
