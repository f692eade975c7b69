"""The README's pictures of the dashboard, taken from a real service and the paper broker: a desk of three
accounts trading through a morning of cycles, with a daily loss limit, one account whose broker session
expired and one whose broker fails. Writes test-output/dashboard.png (1400x1000) and
test-output/dashboard-phone.png (390 px wide, down to the end of the day panel); docs/ holds copies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from tests.dashboard.conftest import (
    INFY,
    OUTPUT,
    RELIANCE,
    SBIN,
    TCS,
    VIEWPORTS,
    expect,
    move_prices,
    open_live,
    place,
    run_cycle,
)
from tests.web.conftest import Served

pytestmark = pytest.mark.parametrize("served", ["sqlite"], indirect=True)

PRICE_PATH = {
    "SBIN": ["799.50", "803.20", "808.75", "806.10", "801.40", "796.55", "793.30", "792.40"],
    "INFY": ["1500.50", "1496.30", "1493.80", "1497.65", "1503.20", "1508.10", "1511.45", "1512.00"],
    "RELIANCE": ["2899.00", "2903.40", "2896.10", "2891.75", "2886.60", "2882.30", "2880.90", "2879.20"],
    "TCS": ["3900.00", "3911.50", "3904.80", "3898.25", "3889.60", "3880.40", "3874.05", "3871.70"],
}


def trade_a_morning(served: Served, page: Any, token: str, accounts: list[int]) -> None:
    desk1, desk2, desk3 = accounts
    place(served, token, desk1, "momentum", SBIN, "BUY", 100, limit="799.50", sl="780", tp="830")
    place(served, token, desk1, "mean-revert", INFY, "SELL", 50, limit="1500.50", sl="1520", tp="1470")
    place(served, token, desk2, "breakout", RELIANCE, "BUY", 20, limit="2899", sl="2860", tp="2950")
    place(served, token, desk3, "breakout", TCS, "BUY", 10, limit="3900", sl="3850", tp="4050")
    for cycle in range(len(PRICE_PATH["SBIN"])):
        move_prices(served, {symbol: path[cycle] for symbol, path in PRICE_PATH.items()})
        if cycle == 5:
            served.sim("faults", route="order_book", kind="http_500", account="DESK3", count=1000)
        if cycle == 6:
            served.sim("expire", account="DESK2")
        run_cycle(page, cycle)


@contextmanager
def live_page(browser: Any, served: Served, token: str, viewport: dict[str, int]) -> Iterator[Any]:
    context = browser.new_context(viewport=viewport, locale="en-IN")
    try:
        page = context.new_page()
        open_live(page, served, token)
        yield page
    finally:
        context.close()


def test_the_readme_screenshots_show_an_expired_account_the_day_chart_and_the_banners(served: Served, browser):
    user_id, token, accounts = served.user("desk", "DESK1", "DESK2", "DESK3")
    served.io.call(served.store.set_daily_loss_limit(user_id, Decimal("5000")))
    with live_page(browser, served, token, VIEWPORTS["desktop"]) as page:
        trade_a_morning(served, page, token, accounts)
    OUTPUT.mkdir(exist_ok=True)

    for name, viewport in (("dashboard", VIEWPORTS["desktop"]), ("dashboard-phone", VIEWPORTS["phone"])):
        with live_page(browser, served, token, viewport) as page:
            expect(page.locator('[data-testid="account-chip"][data-state="session_needed"]')).to_have_count(1)
            expect(page.locator('[data-testid="account-chip"][data-state="failing"]')).to_have_count(1)
            expect(page.get_by_test_id("session-banner")).to_have_count(1)
            expect(page.get_by_test_id("failing-banner")).to_have_count(1)
            expect(page.get_by_test_id("loss-gauge")).to_be_visible()
            expect(page.get_by_test_id("pnl-chart").locator("canvas")).to_have_count(1)
            expect(page.get_by_test_id("duration-chart").locator("canvas")).to_have_count(1)
            day = page.get_by_test_id("day").bounding_box()
            height = viewport["height"] if name == "dashboard" else day["y"] + day["height"] + 12
            page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True,
                            clip={"x": 0, "y": 0, "width": viewport["width"], "height": height})
