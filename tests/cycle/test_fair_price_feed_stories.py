"""Steps 5 and 6 with nobody writing the fair-price table: the fair-price feed streams the paper broker's market
data (a bid and an ask around each last price) into `mainapp_fairprice`, on SQLite and MariaDB, real actors and
the paper broker over HTTP and Socket.IO. A BUY stop entry whose stop the ask crosses while the last price has
not triggered it is converted to a limit; a stop-loss the market gapped through is rescued at the bid."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.cycle.conftest import CycleRig
from tests.cycle.feeding import fed, feeding

D = Decimal


@pytest.fixture
def fed_rig(rig: CycleRig) -> Iterator[CycleRig]:
    rig.given_user("PAPER1")
    rig.connect()   # a monitored user: the feed watches what it holds
    with feeding(rig):
        yield rig


def test_the_ask_crossing_an_untriggered_buy_stop_converts_it_with_no_one_writing_the_table(fed_rig: CycleRig):
    rig = fed_rig
    order_id = rig.place_untriggered_buy_stop(sl_stop_price="98", tp_price="115")
    rig.sim("price", symbol="SBIN", ltp="104", bid="103.95", ask="104.05")
    fed(rig, buy="104.05", sell="103.95")
    rig.run_cycle()
    assert rig.order(order_id).entry_modifications == 0, "the ask has not reached the stop"

    rig.sim("price", symbol="SBIN", ltp="104.90", bid="104.85", ask="105.10")
    fed(rig, buy="105.10", sell="104.85")
    rig.run_cycle()
    order = rig.order(order_id)
    assert (order.entry_type, order.entry_limit_price, order.entry_modifications) == ("LIMIT", D("105.10"), 1)
    entry = rig.book()[order.entry_tag]
    assert entry.order_type == "LIMIT" and entry.limit_price == D("105.10")


def test_a_stop_loss_the_market_gapped_through_is_rescued_at_the_bid(fed_rig: CycleRig):
    rig = fed_rig
    rig.price("100")
    order_id = rig.place_entry(side="BUY", quantity=10, entry_type="LIMIT", entry_limit_price="99",
                               sl_stop_price="95", tp_price="110")
    rig.price("99")
    rig.run_cycle()
    order = rig.order(order_id)
    assert order.status == "RUNNING" and order.sl_tag is not None

    rig.sim("price", symbol="SBIN", ltp="90", bid="89.95", ask="90.05")
    fed(rig, buy="90.05", sell="89.95")
    rig.run_cycle()
    sl = rig.book()[rig.order(order_id).sl_tag]
    assert (sl.order_type, sl.limit_price) == ("LIMIT", D("89.95"))

    rig.price("90")
    rig.run_cycle()
    order = rig.order(order_id)
    assert order.status == "CLOSED" and order.exit_price == D("90"), "the limit at 89.95 fills at the market"
