"""Step 3's rules on one order and one order book: the lifecycle and PnL it computes from the legs the
book lists, across every attempt of an exit leg, and what it keeps when a new trading day's book no longer
lists yesterday's legs. Pure: given an order row and a book, the changes `plan_order_sync` returns."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from actors.order_placer.tags import order_tag
from actors.order_syncer.book import BookIndex
from actors.order_syncer.sync import plan_order_sync
from adapters.broker.types import BrokerOrder
from adapters.store.rows import FairPrice, OrderRow

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
