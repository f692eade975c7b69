"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright's sync API, against the
`served` service (SQLite) on loopback. Without /usr/bin/chromium or the playwright package the browser tests
skip, except under MONITOR_REQUIRE_BROWSER=1 (CI), where they fail. Screenshots go to test-output/.

`open_page` opens the dashboard in a fresh tab (its own browser context) at the test's viewport, a desk at
1400x1000 or a phone at 390x844, and fails the test if a page script raised an error."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.records import FairPrice
from tests.storage.conftest import fresh_mysql_url  # noqa: F401 - fixture used by `served`
from tests.web.conftest import BACK_TO_BACK, Served, running_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
WAIT_MS = 20_000
VIEWPORTS = {"desktop": {"width": 1400, "height": 1000}, "phone": {"width": 390, "height": 844}}
TICK = Decimal("0.05")
SBIN = {"symbol": "SBIN", "exchange_segment": "NSECM", "instrument_id": 3045}
INFY = {"symbol": "INFY", "exchange_segment": "NSECM", "instrument_id": 1594}
RELIANCE = {"symbol": "RELIANCE", "exchange_segment": "NSECM", "instrument_id": 2885}
TCS = {"symbol": "TCS", "exchange_segment": "NSECM", "instrument_id": 11536}


def _browser_unavailable(reason: str) -> None:
    if os.environ.get("MONITOR_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}; MONITOR_REQUIRE_BROWSER=1 makes this a failure")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def served(request: pytest.FixtureRequest, tmp_path) -> Iterator[Served]:
    """The service the browser tests use; they click "Run a cycle now" back to back, as soon as the last cycle
    shows."""
    yield from running_service(request, tmp_path, BACK_TO_BACK)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _browser_unavailable(f"no browser at {CHROMIUM}: install it with `apt-get install -y chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_unavailable("the playwright package is missing: install the dev extra (`pip install -e .[dev]`)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def expect(actual: Any) -> Any:
    """Playwright's `expect` with a 20 s wait, imported only once `browser` has found Playwright installed."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=WAIT_MS)
    return playwright_expect(actual)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-IN")
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return VIEWPORTS[request.param]


@pytest.fixture
def open_page(browser: Any, viewport: dict[str, int]) -> Iterator[Callable[..., Any]]:
    """`open_page(served, token)` opens the dashboard live in a new tab at the viewport (`before_open(page)`
    first, to route its requests); every tab's script errors are collected and fail the test."""
    contexts: list[Any] = []
    script_errors: list[str] = []

    def open_live_page(running: Served, token: str, before_open: Callable[[Any], None] | None = None) -> Any:
        context = browser.new_context(viewport=viewport, locale="en-IN")
        contexts.append(context)
        opened = context.new_page()
        opened.on("pageerror", lambda error: script_errors.append(str(error)))
        if before_open is not None:
            before_open(opened)
        open_live(opened, running, token)
        return opened

    try:
        yield open_live_page
    finally:
        for context in contexts:
            context.close()
    assert script_errors == [], "the page's scripts raised errors"


@pytest.fixture
def screenshot(page: Any, request: pytest.FixtureRequest):
    """`screenshot("name")` saves the whole page as test-output/<test name>-<name>.png and returns the path."""
    OUTPUT.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = OUTPUT / f"{request.node.name.replace('[', '-').rstrip(']')}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def move_prices(running: Served, prices: dict[str, str]) -> None:
    """The paper broker's last price of each symbol, and a fresh fair price a tick either side of it."""
    for symbol, ltp in prices.items():
        running.sim("price", symbol=symbol, ltp=ltp)
        running.io.call(running.store.upsert_desk_prices([FairPrice(
            symbol=symbol, buy_fair_price=Decimal(ltp) + TICK, sell_fair_price=Decimal(ltp) - TICK,
            updated_at=datetime.now(UTC))]))


def open_live(page: Any, running: Served, token: str) -> None:
    page.goto(f"{running.url}/?token={token}")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")


def run_cycle(page: Any, cycles_before: int) -> None:
    """Click "Run a cycle now" and wait until the new cycle's summary has filled its row."""
    page.get_by_role("button", name="Run a cycle now").click()
    expect(page.get_by_test_id("cycle-row")).to_have_count(cycles_before + 1)
    expect(page.get_by_test_id("cycle-row").first).to_have_attribute("data-status", "done")


def place(running: Served, token: str, account: int, strategy: str, instrument: dict, side: str, quantity: int,
          limit: str, sl: str, tp: str, entry_type: str = "LIMIT", stop: str | None = None) -> int:
    """One entry through the batch API, placed at the broker; returns its order id."""
    order = {"account_id": account, "strategy": strategy, **instrument, "side": side, "quantity": quantity,
             "entry_type": entry_type, "entry_limit_price": limit, "sl_stop_price": sl, "tp_price": tp}
    if stop is not None:
        order["entry_stop_price"] = stop
    status, body = running.request("POST", "/api/algo-place-batch-orders", token, json={"orders": [order]})
    assert status == 200 and body["results"][0]["outcome"] == "placed", body
    return body["results"][0]["order_id"]


def horizontal_overflow(page: Any) -> int:
    """How many pixels the page is wider than the window (0 or less when nothing needs a sideways scroll)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
