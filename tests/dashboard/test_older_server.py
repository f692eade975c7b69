"""The dashboard against a server that sends none of the newer frames (`accounts`, `recent`), no fair prices in
its `pnl` frames and has no PnL history (404): the real service's WebSocket passes through Playwright with
those taken out. The page still shows orders, PnL, cycles, errors and the session banner from the live frames,
says what it cannot show, and raises no script error."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.dashboard.conftest import SBIN, expect, place, run_cycle
from tests.web.conftest import Served

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.parametrize("served", ["sqlite"], indirect=True)

NEWER_FRAMES = {"accounts", "recent"}
NEWER_PNL_FIELDS = ("fair_price", "fair_price_updated_at", "fair_price_source", "fair_price_stale")


def as_older(message: str) -> str | None:
    """The frame as the older server sent it: none of the newer frames, no fair prices in `pnl`."""
    frame = json.loads(message)
    if frame["type"] in NEWER_FRAMES:
        return None
    if frame["type"] == "pnl":
        frame.pop("fair_price_max_age_s")
        frame["rows"] = [{k: v for k, v in row.items() if k not in NEWER_PNL_FIELDS} for row in frame["rows"]]
        return json.dumps(frame)
    return message


def as_an_older_server(page: Page) -> None:
    """Relay /ws between the page and the service as an older server; answer the PnL history with 404."""
    def relay(socket: Any) -> None:
        server = socket.connect_to_server()
        server.on_message(lambda message: None if (older := as_older(message)) is None else socket.send(older))
        socket.on_message(server.send)

    page.route_web_socket("**/ws*", relay)
    page.route("**/api/pnl/history", lambda route: route.fulfill(
        status=404, content_type="application/json", body='{"error": "not found"}'))


def test_without_accounts_and_recent_frames_the_page_shows_the_live_frames_and_no_error(
        served: Served, open_page):
    _, token, [account] = served.user("olga", "OLGA1")
    place(served, token, account, "momentum", SBIN, "BUY", 10, limit="799.50", sl="790", tp="815")
    served.sim("price", symbol="SBIN", ltp="799.50")
    page = open_page(served, token, before_open=as_an_older_server)

    run_cycle(page, 0)
    served.sim("expire", account="OLGA1")
    run_cycle(page, 1)

    expect(page.get_by_test_id("order-row")).to_have_count(1)
    expect(page.get_by_test_id("order-row")).to_contain_text("799.50")
    expect(page.get_by_test_id("pnl-row")).to_contain_text("SBIN")
    expect(page.get_by_test_id("fair-price")).to_have_text("—")
    expect(page.get_by_test_id("error-item")).to_have_count(1)
    expect(page.get_by_test_id("session-banner")).to_have_attribute("data-account-id", str(account))
    expect(page.get_by_test_id("account-strip")).to_be_hidden()
    expect(page.get_by_test_id("day")).to_contain_text("The day's totals come with the server's account states.")
    expect(page.locator("#pnl-chart-message")).to_have_text("This server keeps no PnL history (it answered 404).")
    expect(page.get_by_test_id("duration-chart").locator("canvas")).to_have_count(1)
