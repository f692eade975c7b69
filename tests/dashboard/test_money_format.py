"""How the page writes money and prices, run in the browser on the page's own module (static/format.js):
two decimals, rounded half away from zero on the digits (never through a float), "—" for a value the server
did not send (an unmarked position), "+" on a day's gain."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.dashboard.conftest import expect
from tests.web.conftest import Served

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.parametrize("served", ["sqlite"], indirect=True)

SHOWN = {
    "1489.1": "1489.10", "1489.1000": "1489.10", "-26.5": "-26.50", "26.5": "26.50", "160.0000": "160.00",
    "0": "0.00", "0.05": "0.05", "0.005": "0.01", "0.0049": "0.00", "-0.005": "-0.01", "-0.004": "0.00",
    "2.675": "2.68", "1.005": "1.01", "1E+1": "10.00", "1.5E+3": "1500.00", "5E-3": "0.01", "0E-8": "0.00",
    "123456789012345678.125": "123456789012345678.13", ".5": "0.50", "7.": "7.00",
}


def formatted(page: Page, function: str, values: list) -> list:
    return page.evaluate(f"async (values) => {{ const format = await import('/static/format.js'); "
                         f"return values.map((value) => format.{function}(value)); }}", values)


def test_money_is_shown_at_two_decimals_rounded_on_its_digits(served: Served, page: Page):
    page.goto(f"{served.url}/")
    expect(page.get_by_test_id("login")).to_be_visible()

    assert dict(zip(SHOWN, formatted(page, "money", list(SHOWN)), strict=True)) == SHOWN
    assert formatted(page, "money", [None]) == ["—"]
    assert formatted(page, "signedMoney", ["23.5", "-3", "0", "0.004", "-0.004", None]) == [
        "+23.50", "-3.00", "0.00", "0.00", "0.00", "—"]
