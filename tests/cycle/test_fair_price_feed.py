"""The fair-price feed on the real runtime, SQLite and MariaDB, against the paper broker's market data: it prices
what the monitored users hold and nothing else, by the model of the instrument's segment, marks its rows
`feed`, leaves a desk's price as the desk wrote it, keeps a quiet book's price fresh while its stream is up,
prices a symbol held in two segments from one of them, lets go of an instrument nobody holds any more, and
measures its lag and its stream."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.records import FairPrice
from tests.cycle.conftest import CycleRig, wait_for
from tests.cycle.feeding import fed, feeding, stored
from tests.storage.conftest import an_order

D = Decimal


@pytest.fixture
def holding(rig: CycleRig) -> Iterator[CycleRig]:
    """A monitored user long 5 SBIN at 100 (its entry filled), with nothing in INFY."""
    rig.given_user("PAPER1")
    rig.price("100")
    rig.place_entry(side="BUY", quantity=5, entry_type="MARKET", sl_stop_price="90", tp_price="120")
    rig.run_cycle()
    yield rig


def test_the_feed_prices_what_the_monitored_users_hold_at_the_touch_and_nothing_else(holding: CycleRig):
    rig = holding
    with feeding(rig) as feed:
        rig.sim("price", symbol="SBIN", ltp="101", bid="100.95", ask="101.10")
        rig.sim("price", symbol="INFY", ltp="1500", bid="1499.95", ask="1500.05")
        fed(rig, buy="101.10", sell="100.95")
        assert stored(rig, "SBIN").source == "feed"
        assert stored(rig, "INFY") is None, "nobody holds INFY"
        assert feed.instruments == 1


def test_a_segments_model_prices_its_instruments(holding: CycleRig):
    rig = holding
    with feeding(rig, models={"segments": {"NSECM": {"kind": "mid", "ticks": 1}}}):
        rig.sim("price", symbol="SBIN", ltp="101", bid="100.90", ask="101.10")
        fed(rig, buy="101.05", sell="100.95")


def test_a_desks_price_is_left_as_the_desk_wrote_it_and_fed_again_once_cleared(holding: CycleRig):
    rig = holding
    desk = FairPrice(symbol="SBIN", buy_fair_price=D("100.50"), sell_fair_price=D("100.40"),
                     updated_at=datetime.now(UTC))
    rig.io.call(rig.store.upsert_desk_prices([desk]))
    with feeding(rig) as feed:
        rig.sim("price", symbol="SBIN", ltp="101", bid="100.95", ask="101.10")
        wait_for(lambda: feed.written >= 1)
        kept = stored(rig, "SBIN")
        assert (kept.buy_fair_price, kept.sell_fair_price, kept.source) == (D("100.50"), D("100.40"), "desk")

        assert rig.io.call(rig.store.clear_desk_price("SBIN"))
        rig.sim("price", symbol="SBIN", ltp="102", bid="101.95", ask="102.05")
        fed(rig, buy="102.05", sell="101.95")


def test_an_instrument_nobody_holds_any_more_is_let_go(rig: CycleRig):
    rig.given_user("PAPER1")
    order_id = rig.place_untriggered_buy_stop()
    rig.connect()
    with feeding(rig) as feed:
        rig.sim("price", symbol="SBIN", ltp="101", bid="100.95", ask="101.05")
        fed(rig, buy="101.05", sell="100.95")
        rig.io.call(rig.runtime.broker.cancel(rig.io.call(rig.store.broker_accounts(
            rig.user_id, (rig.accounts["PAPER1"],)))[0], rig.order(order_id).entry_order_id))
        rig.run_cycle()
        assert rig.order(order_id).status == "CANCELLED"
        wait_for(lambda: feed.instruments == 0)
        written = feed.written
        rig.sim("price", symbol="SBIN", ltp="103", bid="102.95", ask="103.05")
        time.sleep(0.5)
        assert feed.written == written and stored(rig, "SBIN").buy_fair_price == D("101.05")


def test_the_feed_reports_its_lag_its_stream_and_what_it_watches(holding: CycleRig):
    rig = holding
    with feeding(rig):
        rig.sim("price", symbol="SBIN", ltp="101", bid="100.95", ask="101.10")
        fed(rig, buy="101.10", sell="100.95")
        exposition = rig.runtime.metrics.exposition().decode()
    lines = dict(line.rsplit(" ", 1) for line in exposition.splitlines() if line and not line.startswith("#"))
    assert float(lines["monitor_fair_price_feed_lag_seconds_count"]) >= 1
    assert float(lines["monitor_fair_price_feed_connected"]) == 1
    assert float(lines["monitor_fair_price_feed_instruments"]) == 1
    assert float(lines["monitor_fair_price_feed_reconnects_total"]) == 0


def test_a_quiet_book_stays_fresh_while_the_stream_is_up(holding: CycleRig):
    rig = holding
    with feeding(rig):
        rig.sim("price", symbol="SBIN", ltp="101", bid="100.95", ask="101.10")
        fed(rig, buy="101.10", sell="100.95")
        first = stored(rig, "SBIN").updated_at
        wait_for(lambda: stored(rig, "SBIN").updated_at > first, timeout=5)
        again = stored(rig, "SBIN")
        assert (again.buy_fair_price, again.sell_fair_price) == (D("101.10"), D("100.95")), "the same market"


def test_one_symbol_in_two_segments_is_priced_from_one_of_them(holding: CycleRig):
    rig = holding
    rig.io.call(rig.store.insert_order(an_order(rig.user_id, rig.accounts["PAPER1"], status="RUNNING",
                                                symbol="SBIN", exchange_segment="NSEFO", instrument_id=99999)))
    with feeding(rig) as feed:
        rig.sim("price", symbol="SBIN", ltp="101", bid="100.95", ask="101.10")
        fed(rig, buy="101.10", sell="100.95")
        assert feed.instruments == 1
