"""What a cycle's summary tells of the orders, and what an order row tells of its PnL, end to end: MariaDB and
SQLite, the paper broker over HTTP, real actors.

Given orders and a market, when cycles run, then the summary counts the orders left alone for a stale fair
price and has a notice for each order archived, regenerated or running without a stop-loss; an order row is
unmarked while no fresh fair price marks it; and an order's PnL is its own trade's, the PnL panel's the
account's FIFO per symbol.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from service.snapshots import pnl_frame
from tests.cycle.conftest import CycleRig

D = Decimal


@pytest.mark.parametrize("fair", ["stale", "missing"])
def test_orders_left_alone_for_want_of_a_fresh_fair_price_are_counted_in_the_summary(rig: CycleRig, fair):
    rig.given_user("PAPER1")
    rig.place_untriggered_buy_stop(sl_stop_price="98", tp_price="115")
    if fair == "stale":
        rig.fair(buy="106", sell="105.9", at=datetime.now(UTC) - timedelta(minutes=10))

    summary = rig.run_cycle()

    assert summary.stale_fair_prices == 1, "the untriggered entry Step 5 could not judge"
    rig.fair(buy="104", sell="103.9")
    assert rig.run_cycle().stale_fair_prices == 0


@pytest.mark.rules(regeneration_backoff_s=0)
def test_a_rejected_entry_is_told_archived_regenerated_and_placed_again_in_the_summaries(rig: CycleRig):
    rig.given_user("PAPER1", strategies=("momentum",))
    rig.sim("reject", rule={"rule": "symbol", "symbol": "SBIN", "reason": "RMS:Blocked"})
    rig.price("100")
    first = rig.place_entry(side="BUY", quantity=10, entry_type="LIMIT", entry_limit_price="99",
                            sl_stop_price="95", tp_price="110")

    notices = rig.run_cycle().notices

    [again] = rig.orders()
    assert notices == (f"order {first} SBIN archived: rejected (RMS:Blocked)",
                       f"order {first} SBIN: rejected entry regenerated (attempt 1)",
                       f"order {first} SBIN: regenerated entry placed as order {again.id}")


def test_a_running_trade_without_a_stop_loss_is_told_every_cycle_until_it_exits(rig: CycleRig):
    rig.given_user("PAPER1")
    rig.price("100")
    order_id = rig.place_entry(side="SELL", quantity=5, entry_type="LIMIT", entry_limit_price="101", tp_price="90")
    rig.price("101")
    told = f"order {order_id} SBIN is running without a stop-loss: it was sent without a stop-loss price"

    assert told in rig.run_cycle().notices
    assert told in rig.run_cycle().notices
    rig.price("89.5")
    rig.run_cycle()
    assert rig.order(order_id).status == "CLOSED"
    assert told not in rig.run_cycle().notices


def test_a_paused_cycle_that_places_no_stop_loss_tells_which_running_trades_have_none(
        rig_sending_no_protection_while_paused: CycleRig):
    rig = rig_sending_no_protection_while_paused
    rig.given_user("PAPER1")
    rig.price("100")
    order_id = rig.place_entry(side="BUY", quantity=10, entry_type="LIMIT", entry_limit_price="99",
                               sl_stop_price="95", tp_price="110")
    rig.price("99")
    rig.io.call(rig.store.set_paused(rig.user_id, True, "lunch"))

    summary = rig.run_cycle()

    assert summary.paused and rig.order(order_id).sl_tag is None
    assert f"order {order_id} SBIN is running without a stop-loss: automation is paused and places no " \
           "stop-loss" in summary.notices


@pytest.mark.parametrize(("side", "fill", "fair", "unrealized"), [
    ("BUY", "99", ("101.10", "101"), D("20")),  # (101 - 99) x 10, at the sell fair price
    ("SELL", "101", ("99", "98.90"), D("20")),  # (101 - 99) x 10, at the buy fair price
])
def test_a_running_trade_is_unmarked_until_a_fresh_fair_price_marks_it(rig: CycleRig, side, fill, fair,
                                                                        unrealized):
    rig.given_user("PAPER1")
    rig.price("100")
    long = side == "BUY"
    order_id = rig.place_entry(side=side, quantity=10, entry_type="LIMIT", entry_limit_price=fill,
                               sl_stop_price="95" if long else "105", tp_price="110" if long else "90")
    rig.price(fill)

    rig.run_cycle()
    assert (rig.order(order_id).status, rig.order(order_id).unrealized_pnl) == ("RUNNING", None)

    rig.fair(buy=fair[0], sell=fair[1])
    rig.run_cycle()
    assert rig.order(order_id).unrealized_pnl == unrealized

    rig.fair(buy=fair[0], sell=fair[1], at=datetime.now(UTC) - timedelta(minutes=10))
    rig.run_cycle()
    assert rig.order(order_id).unrealized_pnl is None, "a mark that went stale is not kept"


def test_an_orders_pnl_is_its_own_trades_while_the_pnl_panel_matches_the_accounts_fills_fifo(rig: CycleRig):
    rig.given_user("PAPER1")
    account = rig.accounts["PAPER1"]
    rig.price("100")
    long = rig.place_entry(side="BUY", quantity=10, entry_type="LIMIT", entry_limit_price="99",
                           sl_stop_price="95", tp_price="110")
    rig.price("99")
    short = rig.place_entry(side="SELL", quantity=5, entry_type="LIMIT", entry_limit_price="101",
                            sl_stop_price="105", tp_price="90")
    rig.price("101")

    def panel_realized() -> Decimal:
        [row] = rig.io.call(pnl_frame(rig.store, rig.user_id, [account], datetime.now(UTC),
                                      rig.runtime.fair_price_max_age)).rows
        return row.realized_pnl

    rig.run_cycle()
    assert (rig.order(long).realized_pnl, rig.order(short).realized_pnl) == (0, 0), "neither trade has exited"
    assert panel_realized() == D("10"), "FIFO: the short's sale at 101 closed 5 of the long's lots bought at 99"

    rig.price("105")
    rig.run_cycle()
    assert (rig.order(short).status, rig.order(short).realized_pnl) == ("CLOSED", D("-20"))  # (101 - 105) x 5
    rig.price("110.5")
    rig.run_cycle()
    assert (rig.order(long).status, rig.order(long).realized_pnl) == ("CLOSED", D("115"))  # (110.5 - 99) x 10

    assert panel_realized() == D("95") == rig.order(long).realized_pnl + rig.order(short).realized_pnl, \
        "once every trade of the symbol is closed, the trades' PnL adds up to the account's"
