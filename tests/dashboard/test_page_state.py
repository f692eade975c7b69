"""A page opened at any moment shows what a page open all along shows, at a desk (1400x1000) and on a phone
(390x844): an account whose session expired, whose broker settings are wrong, or whose broker fails, keeps its
chip, its banner and its last known orders and positions (marked stale), and the recent cycles, their errors
and notices come with the connection."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.dashboard.conftest import RELIANCE, SBIN, expect, horizontal_overflow, place, run_cycle
from tests.web.conftest import Served

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.parametrize("served", ["sqlite"], indirect=True)


def chip(page: Page, account_id: int) -> Locator:
    return page.locator(f'[data-testid="account-chip"][data-account-id="{account_id}"]')


def rows_of(page: Page, test_id: str, account_id: int) -> Locator:
    return page.locator(f'[data-testid="{test_id}"][data-account-id="{account_id}"]')


def test_an_expired_account_keeps_its_chip_banner_and_last_orders_on_a_page_opened_after_the_expiry(
        served: Served, open_page):
    _, token, [kept, expired] = served.user("kiran", "KIRAN1", "KIRAN2")
    place(served, token, kept, "momentum", SBIN, "BUY", 10, limit="799.50", sl="790", tp="815")
    place(served, token, expired, "breakout", RELIANCE, "BUY", 4, limit="2899", sl="2880", tp="2920")
    served.sim("price", symbol="SBIN", ltp="799.50")
    served.sim("price", symbol="RELIANCE", ltp="2899")
    along = open_page(served, token)
    expect(chip(along, expired)).to_have_attribute("data-state", "not_fetched")
    expect(chip(along, expired).get_by_test_id("fetch-age")).to_have_text("never fetched")
    run_cycle(along, 0)
    served.sim("expire", account="KIRAN2")
    run_cycle(along, 1)

    later = open_page(served, token)
    for page in (along, later):
        expect(chip(page, expired)).to_have_attribute("data-state", "session_needed")
        expect(chip(page, expired)).to_contain_text("session needed")
        expect(chip(page, expired).get_by_test_id("fetch-age")).to_have_text(re.compile(r"^fetched \d+ s ago$"))
        expect(chip(page, kept)).to_have_attribute("data-state", "ok")
        expect(chip(page, kept)).to_contain_text("ok")
        banner = page.get_by_test_id("session-banner")
        expect(banner).to_have_attribute("data-account-id", str(expired))
        expect(banner).to_contain_text("log in again")

        expect(rows_of(page, "order-row", expired)).to_have_count(1)
        expect(rows_of(page, "order-row", expired)).to_contain_text("RELIANCE")
        expect(rows_of(page, "order-row", expired)).to_have_attribute("data-stale", "true")
        expect(rows_of(page, "order-row", expired).get_by_test_id("stale-mark")).to_be_visible()
        expect(rows_of(page, "pnl-row", expired)).to_contain_text("4 long")
        expect(rows_of(page, "pnl-row", expired)).to_have_attribute("data-stale", "true")
        expect(rows_of(page, "order-row", kept)).to_have_attribute("data-stale", "false")
        expect(rows_of(page, "order-row", kept).get_by_test_id("stale-mark")).to_have_count(0)
        assert horizontal_overflow(page) <= 0

    age = chip(later, expired).get_by_test_id("fetch-age")
    before = age.inner_text()
    expect(age).not_to_have_text(before)


def step_outcomes(row: Locator) -> list[str | None]:
    return [cell.get_attribute("data-outcome") for cell in row.get_by_test_id("step-cell").all()]


def test_a_page_opened_later_shows_the_recent_cycles_their_errors_and_notices(served: Served, open_page):
    _, token, [account] = served.user("lata", "LATA1")
    along = open_page(served, token)
    run_cycle(along, 0)
    served.sim("expire", account="LATA1")
    run_cycle(along, 1)
    run_cycle(along, 2)

    later = open_page(served, token)
    expect(later.get_by_test_id("cycle-row")).to_have_count(3)
    expect(later.get_by_test_id("error-item")).to_have_count(along.get_by_test_id("error-item").count())
    expect(later.get_by_test_id("error-item").first).to_contain_text("session_expired")
    expect(later.get_by_test_id("error-item").first).to_contain_text(f"#{account}")
    for page in (along, later):
        expect(page.get_by_test_id("notice-item").filter(
            has_text=f"account {account} is waiting for a new broker session")).to_have_count(1)

    along_rows, later_rows = along.get_by_test_id("cycle-row").all(), later.get_by_test_id("cycle-row").all()
    assert [row.get_attribute("data-cycle-id") for row in later_rows] == \
        [row.get_attribute("data-cycle-id") for row in along_rows]
    assert [step_outcomes(row) for row in later_rows] == [step_outcomes(row) for row in along_rows]
    assert [row.locator("td.error-count").inner_text() for row in later_rows] == \
        [row.locator("td.error-count").inner_text() for row in along_rows]
    assert later.get_by_test_id("error-item").all_inner_texts() == along.get_by_test_id("error-item").all_inner_texts()
    assert later.get_by_test_id("notice-item").all_inner_texts() == \
        along.get_by_test_id("notice-item").all_inner_texts()

    later.get_by_test_id("cycle-row").nth(1).locator("button.row-toggle").click()
    expect(later.get_by_test_id("cycle-detail").locator(".cycle-errors")).to_contain_text("session_expired")
    assert horizontal_overflow(later) <= 0


def expect_streak(page: Page, account_id: int, state: str) -> None:
    """The account's chip is in `state` (failing or misconfigured) and says since when."""
    expect(chip(page, account_id)).to_have_attribute("data-state", state)
    expect(chip(page, account_id)).to_contain_text(re.compile(rf"{state} since \d\d:\d\d"))


def test_a_failing_account_shows_since_when_and_its_last_error_on_a_page_opened_later(served: Served, open_page):
    _, token, [steady, failing] = served.user("mira", "MIRA1", "MIRA2")
    place(served, token, failing, "breakout", RELIANCE, "BUY", 4, limit="2899", sl="2880", tp="2920")
    served.sim("price", symbol="RELIANCE", ltp="2899")
    along = open_page(served, token)
    run_cycle(along, 0)
    served.sim("faults", route="order_book", kind="http_500", account="MIRA2", count=1000)
    run_cycle(along, 1)
    run_cycle(along, 2)

    later = open_page(served, token)
    for page in (along, later):
        expect_streak(page, failing, "failing")
        expect(chip(page, steady)).to_have_attribute("data-state", "ok")
        banner = page.get_by_test_id("failing-banner")
        expect(banner).to_have_attribute("data-account-id", str(failing))
        expect(banner).to_contain_text(page.get_by_test_id("error-item").first.locator(".error-message").inner_text())
        expect(page.get_by_test_id("session-banner")).to_have_count(0)
        expect(rows_of(page, "order-row", failing)).to_have_attribute("data-stale", "true")
        expect(rows_of(page, "pnl-row", failing)).to_contain_text("4 long")
        assert horizontal_overflow(page) <= 0


def test_an_account_with_wrong_broker_settings_is_misconfigured_not_failing_on_a_page_opened_later(
        served: Served, open_page):
    user_id, token, [failing] = served.user("nina", "NINA1")
    wrong = served.io.call(served.store.add_account(user_id, "paper", served.paper.url + "/interactive", "NINA2",
                                                    app_key="NINA2", secret_key="s3cret"))
    along = open_page(served, token)
    served.sim("faults", route="order_book", kind="http_500", account="NINA1", count=1000)
    run_cycle(along, 0)

    later = open_page(served, token)
    for page in (along, later):
        expect_streak(page, wrong, "misconfigured")
        expect_streak(page, failing, "failing")
        banner = page.get_by_test_id("misconfigured-banner")
        expect(banner).to_have_count(1)
        expect(banner).to_have_attribute("data-account-id", str(wrong))
        expect(banner).to_contain_text("wrong broker settings")
        expect(banner).to_contain_text("base_url")
        expect(page.get_by_test_id("failing-banner")).to_have_attribute("data-account-id", str(failing))
        expect(page.get_by_test_id("session-banner")).to_have_count(0)
        assert horizontal_overflow(page) <= 0
