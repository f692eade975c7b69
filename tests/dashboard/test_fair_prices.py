"""Each open position's fair price on the dashboard, against a real service whose `fair_price_max_age_s` is 5 s:
a long shows the sell fair price and a short the buy fair price, at two decimals, with an age counting up
every second; once older than the limit a "stale" mark appears without another frame, its title saying how
old and the limit; a position without a price shows "—", marked stale; a cycle after a new price clears the
mark. At a desk and on a phone, where nothing is wider than the screen."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.dashboard.conftest import INFY, RELIANCE, SBIN, expect, horizontal_overflow, move_prices, place, run_cycle
from tests.web.conftest import Served

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = [pytest.mark.parametrize("served", ["sqlite"], indirect=True),
              pytest.mark.rules(fair_price_max_age_s=5)]


def fair(page: Page, symbol: str) -> Locator:
    return page.get_by_test_id("pnl-row").filter(has_text=symbol).get_by_test_id("fair-price")


def test_each_position_shows_its_fair_price_and_age_and_is_marked_stale_past_the_limit(served: Served, open_page):
    _, token, [account] = served.user("gita", "GITA1")
    place(served, token, account, "momentum", SBIN, "BUY", 10, limit="799.50", sl="790", tp="815")
    place(served, token, account, "mean-revert", INFY, "SELL", 5, limit="1500.50", sl="1510", tp="1485")
    place(served, token, account, "breakout", RELIANCE, "BUY", 4, limit="2899", sl="2880", tp="2920")
    served.sim("price", symbol="RELIANCE", ltp="2899")
    page = open_page(served, token)

    move_prices(served, {"SBIN": "799.50", "INFY": "1500.50"})   # fair prices a tick either side, written now
    run_cycle(page, 0)

    sbin, infy, reliance = fair(page, "SBIN"), fair(page, "INFY"), fair(page, "RELIANCE")
    expect(sbin.locator(".price")).to_have_text("799.45")   # a long: what selling fetches
    expect(infy.locator(".price")).to_have_text("1500.55")  # a short: what buying back costs
    expect(sbin).to_have_attribute("title", re.compile(r"^Sell fair price.*written by the desk at \d\d:\d\d:\d\d IST$"))
    expect(infy).to_have_attribute("title", re.compile(r"^Buy fair price"))
    expect(sbin.get_by_test_id("fair-stale")).to_have_count(0)
    age = sbin.get_by_test_id("fair-age")
    expect(age).to_have_text(re.compile(r"^[0-4] s ago$"))
    shown = age.inner_text()
    expect(age).not_to_have_text(shown)   # counting up, with no frame
    expect(reliance).to_contain_text("—")
    expect(reliance.get_by_test_id("fair-stale")).to_have_attribute("title", "No fair price for this symbol")

    expect(sbin.get_by_test_id("fair-stale")).to_have_attribute(
        "title", re.compile(r"^Priced [5-9] s ago; fair prices older than 5 s are stale$"))
    expect(infy.get_by_test_id("fair-stale")).to_have_text("stale")
    expect(page.get_by_test_id("cycle-row")).to_have_count(1)   # no cycle, no frame: the page marked them itself
    assert horizontal_overflow(page) <= 0

    move_prices(served, {"SBIN": "801.00"})
    run_cycle(page, 1)
    expect(sbin.locator(".price")).to_have_text("800.95")
    expect(sbin.get_by_test_id("fair-stale")).to_have_count(0)
    expect(infy.get_by_test_id("fair-stale")).to_have_count(1)
