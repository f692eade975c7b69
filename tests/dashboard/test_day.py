"""The day at a glance, at a desk and on a phone, against a real service and the paper broker: the day's PnL
per account and in total is what GET /api/pnl adds up to, shown with prices and money at two decimals; the
daily loss limit is a gauge of the day's loss (none without a limit, "reached" at the limit, and the next
cycle starts paused); the intraday PnL and the cycle durations are drawn and drawn again after each cycle."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from tests.dashboard.conftest import INFY, RELIANCE, SBIN, expect, horizontal_overflow, move_prices, place, run_cycle
from tests.web.conftest import Served

pytestmark = pytest.mark.parametrize("served", ["sqlite"], indirect=True)


def at_two_decimals(price: str) -> str:
    return str(Decimal(price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def shown(amount: Decimal) -> str:
    """A day result as the page writes it: two decimals, half away from zero, "+" on a gain."""
    cents = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return "0.00" if cents == 0 else f"+{cents}" if cents > 0 else f"{cents}"


def day_pnl_by_account(served: Served, token: str) -> dict[int, Decimal]:
    status, body = served.request("GET", "/api/pnl", token)
    assert status == 200, body
    totals: dict[int, Decimal] = {}
    for row in body["rows"]:
        assert row["unrealized_pnl"] is not None, row
        day = Decimal(row["realized_pnl"]) + Decimal(row["unrealized_pnl"])
        totals[row["account_id"]] = totals.get(row["account_id"], Decimal(0)) + day
    return totals


def given_a_long_sbin_on_the_page(served: Served, open_page, name: str, client_id: str) -> tuple[int, str, int, Any]:
    """`name` with one account, whose order to buy 10 SBIN at 799.50 (SL 790, TP 815) the market has reached,
    and her dashboard open: her user id, token, account and page."""
    user_id, token, [account] = served.user(name, client_id)
    place(served, token, account, "momentum", SBIN, "BUY", 10, limit="799.50", sl="790", tp="815")
    move_prices(served, {"SBIN": "799.50"})
    return user_id, token, account, open_page(served, token)


def test_the_day_pnl_per_account_and_in_total_is_what_the_api_adds_up_to_at_two_decimals(
        served: Served, open_page):
    _, token, [desk1, desk2] = served.user("desk", "DESK1", "DESK2")
    place(served, token, desk1, "momentum", SBIN, "BUY", 10, limit="799.50", sl="790", tp="815")
    place(served, token, desk1, "mean-revert", INFY, "SELL", 5, limit="1500.50", sl="1510", tp="1485")
    place(served, token, desk2, "breakout", RELIANCE, "BUY", 4, limit="2899", sl="2880", tp="2920")
    move_prices(served, {"SBIN": "799.50", "INFY": "1500.50", "RELIANCE": "2899"})
    page = open_page(served, token)
    run_cycle(page, 0)
    move_prices(served, {"SBIN": "815.50", "INFY": "1489.10", "RELIANCE": "2906.40"})
    run_cycle(page, 1)
    run_cycle(page, 2)

    by_account = day_pnl_by_account(served, token)
    assert set(by_account) == {desk1, desk2}
    for account_id, day in by_account.items():
        expect(page.locator(f'[data-testid="day-account"][data-account-id="{account_id}"]')
               .get_by_test_id("day-pnl")).to_have_text(shown(day))
    expect(page.get_by_test_id("day-total-value")).to_have_text(shown(sum(by_account.values(), Decimal(0))))

    status, body = served.request("GET", "/api/orders", token)
    assert status == 200 and len(body["orders"]) == 3, body
    sent_as = [order[field] for order in body["orders"] for field in ("entry_limit_price", "ltp")]
    assert any(len(price.partition(".")[2]) != 2 for price in sent_as), "the API's prices are not at two decimals"
    for order in body["orders"]:
        row = page.locator(f'[data-testid="order-row"][data-order-id="{order["id"]}"]')
        expect(row.locator('td[data-label="Entry"] .price')).to_have_text(at_two_decimals(order["entry_limit_price"]))
        expect(row.locator('td[data-label="LTP"]')).to_have_text(at_two_decimals(order["ltp"]))
    expect(page.get_by_test_id("pnl-row").filter(has_text="SBIN")).to_contain_text("160.00")
    for table in ("orders", "pnl", "day"):
        amounts = re.findall(r"\d+\.\d+", page.get_by_test_id(table).inner_text())
        assert amounts, table
        assert [amount for amount in amounts if not re.fullmatch(r"\d+\.\d\d", amount)] == [], table
    assert horizontal_overflow(page) <= 0


def test_the_loss_gauge_measures_the_day_loss_against_the_limit_and_is_reached_at_the_limit(
        served: Served, open_page):
    user_id, token, account, page = given_a_long_sbin_on_the_page(served, open_page, "gita", "GITA1")
    run_cycle(page, 0)
    move_prices(served, {"SBIN": "790.50"})
    run_cycle(page, 1)
    loss = -day_pnl_by_account(served, token)[account]
    assert loss > 0
    expect(page.get_by_test_id("loss-gauge")).to_be_hidden()

    above = loss + Decimal("0.01")
    served.io.call(served.store.set_daily_loss_limit(user_id, above))
    below = open_page(served, token)
    gauge = below.get_by_test_id("loss-gauge")
    expect(gauge).to_be_visible()
    expect(gauge).to_have_attribute("data-level", "near")
    expect(gauge).to_contain_text(f"Day loss {loss:.2f} of the {above:.2f} limit ({int(loss * 100 / above)}%)")

    served.io.call(served.store.set_daily_loss_limit(user_id, loss))
    at_limit = open_page(served, token)
    gauge = at_limit.get_by_test_id("loss-gauge")
    expect(gauge).to_have_attribute("data-level", "reached")
    expect(gauge).to_contain_text(f"Day loss {loss:.2f} has reached the limit of {loss:.2f}")
    run_cycle(at_limit, 2)
    expect(at_limit.get_by_test_id("cycle-row").first).to_contain_text("paused")
    expect(at_limit.get_by_test_id("automation-state")).to_have_attribute("data-paused", "true")
    assert horizontal_overflow(at_limit) <= 0


def test_the_charts_draw_after_a_cycle_and_the_day_pnl_chart_is_drawn_again_after_each_cycle(
        served: Served, open_page):
    *_, page = given_a_long_sbin_on_the_page(served, open_page, "hema", "HEMA1")
    pnl_chart, duration_chart = page.get_by_test_id("pnl-chart"), page.get_by_test_id("duration-chart")

    run_cycle(page, 0)
    expect(pnl_chart.locator("canvas")).to_have_count(1)
    expect(duration_chart.locator("canvas")).to_have_count(1)
    expect(duration_chart).to_have_attribute("data-points", "1")
    drawn = int(pnl_chart.get_attribute("data-points"))
    assert drawn >= 1

    move_prices(served, {"SBIN": "805.00"})
    run_cycle(page, 1)
    expect(duration_chart).to_have_attribute("data-points", "2")
    expect(pnl_chart).to_have_attribute("data-points", str(drawn + 1))
    expect(pnl_chart.locator("canvas")).to_have_count(1)
    chart_box, window_width = pnl_chart.bounding_box(), page.viewport_size["width"]
    assert chart_box["x"] >= 0 and chart_box["x"] + chart_box["width"] <= window_width
    assert horizontal_overflow(page) <= 0
