"""Fair prices made of a quote, per model: both sides of every rule and its boundaries (an empty or zero side,
a locked and a crossed book, a mid whose sell side reaches zero), rounding to the table's four decimals, and
which model prices an instrument."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest

from domain.quotes import FairModel, FairModels, Quote, fair_prices

D = Decimal
AT = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
TOUCH, LTP = FairModel(), FairModel(kind="ltp")


def quote(bid: str | None, ask: str | None, ltp: str | None = "100") -> Quote:
    return Quote(exchange_segment="NSECM", instrument_id=3045, bid=None if bid is None else D(bid),
                 ask=None if ask is None else D(ask), ltp=None if ltp is None else D(ltp), at=AT)


def test_touch_buys_at_the_best_ask_and_sells_at_the_best_bid():
    assert fair_prices(quote("99.95", "100.05"), TOUCH) == (D("100.05"), D("99.95"))


def test_a_locked_book_is_priced_and_a_crossed_one_is_not():
    assert fair_prices(quote("100", "100"), TOUCH) == (D(100), D(100))
    assert fair_prices(quote("100.05", "100"), TOUCH) is None
    assert fair_prices(quote("100.05", "100"), FairModel(kind="mid")) is None


@pytest.mark.parametrize(("bid", "ask"), [(None, "100"), ("100", None), ("0", "100"), ("100", "0"), (None, None)])
def test_an_empty_side_gives_no_fair_prices_not_the_last_price(bid, ask):
    assert fair_prices(quote(bid, ask), TOUCH) is None
    assert fair_prices(quote(bid, ask), FairModel(kind="mid", ticks=1)) is None


def test_mid_is_the_mid_price_with_ticks_above_to_buy_and_below_to_sell():
    assert fair_prices(quote("99.90", "100.10"), FairModel(kind="mid")) == (D(100), D(100))
    assert fair_prices(quote("99.90", "100.10"), FairModel(kind="mid", ticks=2)) == (D("100.10"), D("99.90"))
    assert fair_prices(quote("99.90", "100.10"), FairModel(kind="mid", ticks=1, tick=D("0.01"))) == (
        D("100.01"), D("99.99"))


def test_a_mid_whose_sell_side_would_reach_zero_is_not_priced():
    assert fair_prices(quote("0.05", "0.15"), FairModel(kind="mid", ticks=1)) == (D("0.15"), D("0.05"))
    assert fair_prices(quote("0.05", "0.15"), FairModel(kind="mid", ticks=2)) is None


def test_ltp_prices_both_sides_at_the_last_traded_price_and_none_without_one():
    assert fair_prices(quote(None, None, "805.25"), LTP) == (D("805.25"), D("805.25"))
    assert fair_prices(quote("1", "2", None), LTP) is None
    assert fair_prices(quote("1", "2", "0"), LTP) is None


def test_prices_are_rounded_half_up_to_four_decimals():
    assert fair_prices(quote("100.00005", "100.00015"), TOUCH) == (D("100.0002"), D("100.0001"))
    assert fair_prices(quote("100.00004", "100.00014"), TOUCH) == (D("100.0001"), D("100.0000"))


def test_a_symbols_model_wins_over_its_segments_which_wins_over_the_default():
    mid, ltp = FairModel(kind="mid", ticks=1), FairModel(kind="ltp")
    models = FairModels(default=TOUCH, segments={"NSEFO": mid}, instruments={"NIFTY": ltp})
    assert models.of("NIFTY", "NSEFO") == ltp
    assert models.of("BANKNIFTY26DECFUT", "NSEFO") == mid
    assert models.of("SBIN", "NSECM") == TOUCH


@pytest.mark.parametrize("fields", [{"kind": "mid", "ticks": -1}, {"tick": "0"}, {"tick": "-0.05"},
                                    {"kind": "vwap"}, {"spread": 1}])
def test_a_model_that_cannot_price_is_refused_when_read(fields):
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(fields, FairModel)
