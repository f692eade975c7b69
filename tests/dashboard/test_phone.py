"""The dashboard on a 390x844 phone, against a real service with a busy desk (two accounts, long strategy
names, an expired session, errors, a 255-character pause reason): nothing is wider than the screen, and every
control — Run a cycle now, Pause and Resume, Log in again, a cycle's details — is on screen and works."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.dashboard.conftest import RELIANCE, SBIN, VIEWPORTS, expect, horizontal_overflow, place, run_cycle
from tests.web.conftest import Served

if TYPE_CHECKING:
    from playwright.sync_api import Locator

pytestmark = [pytest.mark.parametrize("served", ["sqlite"], indirect=True),
              pytest.mark.parametrize("viewport", [VIEWPORTS["phone"]], ids=["phone"])]

LONG_STRATEGY = "intraday-momentum-with-a-very-long-strategy-name-v2"
LONG_REASON = "".join(chr(ord("a") + i % 26) for i in range(255))


def on_screen(control: Locator, page: Any) -> Locator:
    """The control, after checking it is visible and lies across the screen's width without being cut off."""
    expect(control).to_be_visible()
    control.scroll_into_view_if_needed()
    box = control.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], box
    return control


def test_on_a_phone_nothing_is_wider_than_the_screen_and_every_control_works(served: Served, open_page):
    _, token, [first, second] = served.user("priya", "PRIYA1", "PRIYA2")
    place(served, token, first, LONG_STRATEGY, SBIN, "BUY", 10, limit="799.50", sl="790", tp="815")
    place(served, token, second, LONG_STRATEGY, RELIANCE, "BUY", 4, limit="2899", sl="2880", tp="2920")
    served.sim("price", symbol="SBIN", ltp="799.50")
    served.sim("price", symbol="RELIANCE", ltp="2899")
    page = open_page(served, token)
    assert page.evaluate("window.innerWidth") == 390

    on_screen(page.get_by_role("button", name="Run a cycle now"), page).click()
    expect(page.get_by_test_id("cycle-row")).to_have_count(1)
    expect(page.get_by_test_id("cycle-row").first).to_have_attribute("data-status", "done")
    served.sim("expire", account="PRIYA2")
    run_cycle(page, 1)
    expect(page.get_by_test_id("session-banner")).to_be_visible()
    expect(page.get_by_test_id("order-row")).to_have_count(2)
    assert horizontal_overflow(page) <= 0
    row = page.get_by_test_id("cycle-row").first
    assert row.bounding_box()["height"] <= 70, "a cycle is two compact lines"

    on_screen(row.locator("button.row-toggle"), page).click()
    expect(page.get_by_test_id("cycle-detail")).to_be_visible()
    assert horizontal_overflow(page) <= 0

    page.get_by_label("Reason").fill(LONG_REASON)
    on_screen(page.get_by_role("button", name="Pause automation"), page).click()
    expect(page.get_by_test_id("automation-state")).to_have_text(f"Automation paused: {LONG_REASON}")
    assert horizontal_overflow(page) <= 0
    on_screen(page.get_by_role("button", name="Resume automation"), page).click()
    expect(page.get_by_test_id("automation-state")).to_have_text("Automation running")

    on_screen(page.get_by_role("button", name="Log in again"), page).click()
    expect(page.get_by_test_id("session-banner")).to_have_count(0)
    assert horizontal_overflow(page) <= 0
