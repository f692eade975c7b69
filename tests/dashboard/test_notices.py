"""What a cycle tells that is not an error, at a desk and on a phone, against a real service and the paper
broker: a cycle row counts the orders skipped for a stale fair price only when there are some, and the
notices panel shows each distinct notice once, with how many of the recent cycles told it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.records import FairPrice
from tests.dashboard.conftest import SBIN, TCS, expect, horizontal_overflow, move_prices, place, run_cycle
from tests.web.conftest import Served

pytestmark = pytest.mark.parametrize("served", ["sqlite"], indirect=True)


def test_a_cycle_row_counts_orders_skipped_for_a_stale_fair_price_only_when_there_are_some(
        served: Served, open_page):
    _, token, [account] = served.user("nina", "NINA1")
    served.sim("price", symbol="SBIN", ltp="800")
    page = open_page(served, token)
    stale = page.get_by_test_id("cycle-row").first.get_by_test_id("stale-fair-prices")
    run_cycle(page, 0)
    expect(stale).to_have_count(0)

    place(served, token, account, "breakout", SBIN, "BUY", 10, limit="811", sl="795", tp="830",
          entry_type="STOPLIMIT", stop="810")
    run_cycle(page, 1)
    expect(stale).to_have_text("1 stale fair price")

    served.io.call(served.store.upsert_desk_prices([FairPrice(
        symbol="SBIN", buy_fair_price=Decimal("800.05"), sell_fair_price=Decimal("799.95"),
        updated_at=datetime.now(UTC))]))
    run_cycle(page, 2)
    expect(stale).to_have_count(0)
    assert horizontal_overflow(page) <= 0


def test_the_notices_panel_shows_an_order_the_broker_refused_as_archived_once_with_the_cycles_that_told_it(
        served: Served, open_page):
    _, token, [account] = served.user("omar", "OMAR1")
    move_prices(served, {"TCS": "3900"})
    served.sim("reject", rule={"rule": "symbol", "symbol": "TCS", "reason": "RMS: margin shortfall"})
    refused = place(served, token, account, "momentum", TCS, "BUY", 2, limit="3899", sl="3850", tp="4050")
    page = open_page(served, token)
    run_cycle(page, 0)
    run_cycle(page, 1)

    archived = page.get_by_test_id("notice-item").filter(has_text="archived")
    expect(archived).to_have_count(1)
    expect(archived).to_contain_text(f"order {refused} TCS archived")
    expect(archived).to_contain_text("RMS: margin shortfall")
    expect(archived).to_contain_text("1 of 2 cycles")
    expect(page.get_by_test_id("notice-item").filter(has_text="entry regeneration not enabled")).to_contain_text(
        "2 of 2 cycles")
    assert horizontal_overflow(page) <= 0
