"""The dashboard's Pause button with a reason as long as the reason field takes, in headless Chromium
against a real service on SQLite and MariaDB: the pause is applied and the page shows the reason as
stored, 255 characters (`users.pause_reason`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.dashboard.conftest import expect
from tests.web.conftest import Served

if TYPE_CHECKING:
    from playwright.sync_api import Page

LONG_REASON = "".join(chr(ord("a") + i % 26) for i in range(300))


@pytest.mark.parametrize("served", ["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)], indirect=True)
def test_pausing_with_a_reason_longer_than_the_column_pauses_and_shows_the_reason_as_stored(
        served: Served, page: Page):
    user_id, token, _ = served.user("dev", "DEV1")
    page.goto(f"{served.url}/?token={token}")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")

    page.get_by_label("Reason").fill(LONG_REASON)
    page.get_by_role("button", name="Pause automation").click()

    state = page.get_by_test_id("automation-state")
    expect(state).to_have_attribute("data-paused", "true")
    expect(state).to_have_text(f"Automation paused: {LONG_REASON[:255]}")
    context = served.io.call(served.store.load_cycle_context(user_id))
    assert (context.paused, context.pause_reason) == (True, LONG_REASON[:255])
