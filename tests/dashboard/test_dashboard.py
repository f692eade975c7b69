"""The dashboard at `/` in headless Chromium, against a real service and the paper broker: it signs in with
the token, goes live, shows cycles as rows of steps, the errors and a session banner that logs in again,
drives the kill switch, shows the orders and PnL, a cycle's timeline, and refuses a bad token."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from domain.records import FairPrice
from tests.dashboard.conftest import INFY, RELIANCE, SBIN, TCS, TICK, expect, open_live, place, run_cycle
from tests.web.conftest import Served

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.parametrize("served", ["sqlite"], indirect=True)


def step(page: Page, name: str):
    return page.get_by_test_id("cycle-row").first.locator(f'[data-step="{name}"]')


def test_a_cycle_arrives_an_expired_session_is_shown_and_the_banner_logs_in_again(
        served: Served, page: Page, screenshot):
    _, token, [account] = served.user("asha", "ASHA1")
    open_live(page, served, token)
    assert "token" not in page.url, "the token is taken out of the address bar"

    served.sim("latency", min_ms=600, max_ms=600)
    page.get_by_role("button", name="Run a cycle now").click()
    in_progress = page.get_by_test_id("cycle-row").first
    expect(in_progress).to_have_attribute("data-status", "running")
    expect(in_progress.locator('[data-outcome="running"]')).to_have_count(10)
    served.sim("latency", min_ms=0, max_ms=0)
    expect(in_progress).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("cycle-row").first.get_by_test_id("step-cell")).to_have_count(10)
    expect(step(page, "fetch")).to_have_attribute("data-outcome", "ok")
    expect(step(page, "fetch")).to_have_attribute("title", re.compile(rf"#{account}: ok in \d+ ms"))
    expect(page.get_by_test_id("session-banner")).to_have_count(0)
    screenshot("first-cycle")

    served.sim("expire", account="ASHA1")
    run_cycle(page, 1)
    expect(step(page, "fetch")).to_have_attribute("data-outcome", "failed")
    expect(step(page, "pnl")).to_have_attribute("data-outcome", "skipped")
    error = page.get_by_test_id("error-item").first
    expect(error).to_contain_text("session_expired")
    expect(error).to_contain_text(f"#{account}")
    banner = page.get_by_test_id("session-banner")
    expect(banner).to_have_attribute("data-account-id", str(account))
    expect(banner).to_contain_text("log in again")
    screenshot("session-needed")

    banner.get_by_role("button", name="Log in again").click()
    expect(banner).to_have_count(0)
    run_cycle(page, 2)
    expect(step(page, "fetch")).to_have_attribute("data-outcome", "ok")
    expect(page.get_by_test_id("error-item")).to_have_count(1)


def test_the_kill_switch_pauses_with_a_reason_survives_a_reload_and_resumes(served: Served, page: Page, screenshot):
    _, token, _ = served.user("bala", "BALA1")
    open_live(page, served, token)
    state = page.get_by_test_id("automation-state")
    expect(state).to_have_text("Automation running")

    page.get_by_label("Reason").fill("lunch <b>break</b>")
    page.get_by_role("button", name="Pause automation").click()
    expect(state).to_have_text("Automation paused: lunch <b>break</b>")
    expect(state.locator("b")).to_have_count(0)
    expect(page.get_by_test_id("cycle-row")).to_have_count(1)  # the cycle a pause starts at once
    expect(page.get_by_test_id("cycle-row").first).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("cycle-row").first).to_contain_text("paused")
    screenshot("paused")

    page.reload()
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")
    expect(state).to_have_attribute("data-paused", "true")
    expect(state).to_have_text("Automation paused: lunch <b>break</b>")

    page.get_by_role("button", name="Resume automation").click()
    expect(state).to_have_text("Automation running")
    expect(page.get_by_role("button", name="Pause automation")).to_be_visible()


def test_a_bad_token_shows_unauthorized_and_the_login_form_lets_a_good_one_in(served: Served, page: Page, screenshot):
    _, token, _ = served.user("chitra", "CHITRA1")
    page.goto(f"{served.url}/?token=not-a-token")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "unauthorized")
    expect(page.get_by_test_id("login-reason")).to_contain_text("401")
    screenshot("unauthorized")

    expect(page.get_by_role("button", name="Run a cycle now")).to_be_hidden()

    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Open the dashboard").click()
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")


def test_the_page_reconnects_by_itself_when_the_server_drops_the_connection(served: Served, page: Page):
    """Retaking the lease its last client released runs a cycle at once (README, Replicas), so the click may
    find that cycle running: the page shows a cycle newer than the drop, whichever started it."""
    _, token, _ = served.user("esha", "ESHA1")
    open_live(page, served, token)
    run_cycle(page, 0)
    before = page.get_by_test_id("cycle-row").first.get_attribute("data-cycle-id")

    served.io.call(served.service.hub.close_all())
    connection = page.get_by_test_id("connection-state")
    expect(connection).to_have_attribute("data-state", "reconnecting")
    expect(connection).to_have_attribute("data-state", "live")
    page.get_by_role("button", name="Run a cycle now").click()
    newest = page.get_by_test_id("cycle-row").first
    expect(newest).not_to_have_attribute("data-cycle-id", before)
    expect(newest).to_have_attribute("data-status", "done")


def test_clicking_a_cycle_shows_each_account_and_its_timeline_or_says_there_is_none(
        served: Served, page: Page, screenshot):
    _, token, [first, second] = served.user("deepa", "DEEPA1", "DEEPA2")
    open_live(page, served, token)
    run_cycle(page, 0)
    cycle_id = page.get_by_test_id("cycle-row").first.get_attribute("data-cycle-id")
    timeline = {"cycle_id": cycle_id, "entries": [
        {"at": "2024-05-06T04:00:00Z", "step": "fetch", "account_id": first, "outcome": "ok",
         "detail": "snapshot_fetched: 0 rows"},
        {"at": "2024-05-06T04:00:01Z", "step": "pnl", "account_id": second, "outcome": "failed",
         "detail": {"kind": "db", "message": "<b>not markup</b>"}},
    ]}
    page.route(f"**/api/cycles/{cycle_id}", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(timeline)))

    page.get_by_test_id("cycle-row").first.click()
    detail = page.get_by_test_id("cycle-detail")
    expect(detail.get_by_test_id("per-account").locator("tbody tr")).to_have_count(2)
    entries = detail.get_by_test_id("timeline-entry")
    expect(entries).to_have_count(2)
    expect(entries.nth(0)).to_contain_text("09:30:00")
    expect(entries.nth(1)).to_contain_text("<b>not markup</b>")

    page.unroute(f"**/api/cycles/{cycle_id}")
    page.route("**/api/cycles/*", lambda route: route.fulfill(
        status=404, content_type="application/json", body='{"error": "no such cycle"}'))
    run_cycle(page, 1)
    page.get_by_test_id("cycle-row").first.click()
    expect(page.get_by_test_id("timeline-message").first).to_have_text(
        "No timeline is available for this cycle (the server answered 404).")
    expect(page.get_by_test_id("cycle-detail")).to_have_count(2)
    screenshot("timeline")


def test_a_desk_with_orders_pnl_cycles_and_an_error(served: Served, page: Page, screenshot):
    _, token, [desk1, desk2] = served.user("desk", "DESK1", "DESK2")
    place(served, token, desk1, "momentum", SBIN, "BUY", 10, limit="799.50", sl="790", tp="815")
    place(served, token, desk1, "mean-revert", INFY, "SELL", 5, limit="1500.50", sl="1510", tp="1485")
    place(served, token, desk2, "breakout", RELIANCE, "BUY", 4, limit="2899", sl="2880", tp="2920")
    place(served, token, desk2, "breakout", TCS, "BUY", 2, limit="3900", sl="3850", tp="4050")
    for symbol, ltp in (("SBIN", "799.50"), ("INFY", "1500.50"), ("RELIANCE", "2899")):
        served.sim("price", symbol=symbol, ltp=ltp)
    open_live(page, served, token)
    expect(page.get_by_test_id("order-row")).to_have_count(4)

    run_cycle(page, 0)
    for symbol, ltp in (("SBIN", "815.50"), ("INFY", "1497.25"), ("RELIANCE", "2906.40")):
        served.sim("price", symbol=symbol, ltp=ltp)
        served.io.call(served.store.upsert_desk_prices([FairPrice(
            symbol=symbol, buy_fair_price=Decimal(ltp) + TICK, sell_fair_price=Decimal(ltp) - TICK,
            updated_at=datetime.now(UTC))]))
    run_cycle(page, 1)
    served.sim("expire", account="DESK2")
    run_cycle(page, 2)
    expect(step(page, "fetch")).to_have_attribute("data-outcome", "failed")
    expect(step(page, "fetch")).to_have_attribute("title", re.compile(rf"#{desk1}: ok .*#{desk2}: failed"))
    expect(step(page, "pnl")).to_have_attribute("data-outcome", "ok")

    orders = page.get_by_test_id("order-row")
    expect(orders.filter(has_text="SBIN")).to_contain_text("CLOSED")
    expect(orders.filter(has_text="INFY")).to_contain_text("RUNNING")
    pnl = page.get_by_test_id("pnl-row")
    expect(pnl.filter(has_text="SBIN")).to_contain_text("160.00")
    expect(pnl.filter(has_text="INFY")).to_contain_text("5 short")
    expect(pnl.filter(has_text="RELIANCE")).to_contain_text("4 long")
    expect(page.get_by_test_id("error-item")).to_have_count(1)
    expect(page.get_by_test_id("session-banner")).to_have_attribute("data-account-id", str(desk2))
    screenshot("dashboard")
