"""Worked examples of FIFO matching: each test is one trading story with its matches and open lots."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, Inexact

import pytest

from actors.pnl_calculator.fifo import fills_from_order_book
from domain.pnl import FifoResult, Fill, Match, OpenLot
from tests.pnl.fills import at, broker_order, fill

D = Decimal


def test_long_round_trip_realizes_exit_minus_entry(match):
    result = match([fill(1, "BUY", 10, "100.00", 0), fill(2, "SELL", 10, "105.50", 5)], {})

    assert result == FifoResult(
        matches=(Match("INFY", 1, 2, "LONG", 10, D("100.00"), D("105.50"), D("55.00")),),
        open_lots=(),
    )


def test_short_round_trip_realizes_entry_minus_exit(match):
    result = match([fill(1, "SELL", 5, "200.00", 0), fill(2, "BUY", 5, "190.25", 5)], {})

    assert result.matches == (Match("INFY", 1, 2, "SHORT", 5, D("200.00"), D("190.25"), D("48.75")),)
    assert result.open_lots == ()


def test_losing_short_has_negative_realized_pnl(match):
    result = match([fill(1, "SELL", 4, "200.00", 0), fill(2, "BUY", 4, "201.05", 5)], {})

    assert result.matches[0].realized_pnl == D("-4.20")


def test_sells_close_several_lots_oldest_first_and_partially(match):
    fills = [
        fill(1, "BUY", 10, "100.00", 0),
        fill(2, "BUY", 20, "101.00", 1),
        fill(3, "BUY", 5, "102.00", 2),
        fill(4, "SELL", 15, "103.00", 3),
        fill(5, "SELL", 12, "99.00", 4),
    ]

    result = match(fills, {"INFY": D("104.00")})

    assert result.matches == (
        Match("INFY", 1, 4, "LONG", 10, D("100.00"), D("103.00"), D("30.00")),
        Match("INFY", 2, 4, "LONG", 5, D("101.00"), D("103.00"), D("10.00")),
        Match("INFY", 2, 5, "LONG", 12, D("101.00"), D("99.00"), D("-24.00")),
    )
    assert result.open_lots == (
        OpenLot("INFY", 2, "LONG", 3, D("101.00"), D("104.00"), D("9.00")),
        OpenLot("INFY", 3, "LONG", 5, D("102.00"), D("104.00"), D("10.00")),
    )


def test_one_fill_flips_a_long_through_zero_into_a_short_lot(match):
    fills = [fill(1, "BUY", 10, "100.00", 0), fill(2, "SELL", 25, "110.00", 1)]

    result = match(fills, {"INFY": D("108.00")})

    assert result.matches == (Match("INFY", 1, 2, "LONG", 10, D("100.00"), D("110.00"), D("100.00")),)
    assert result.open_lots == (OpenLot("INFY", 2, "SHORT", 15, D("110.00"), D("108.00"), D("30.00")),)


def test_the_short_left_by_a_flip_is_closed_by_later_buys(match):
    fills = [
        fill(1, "BUY", 10, "100.00", 0),
        fill(2, "SELL", 25, "110.00", 1),
        fill(3, "BUY", 5, "105.00", 2),
    ]

    result = match(fills, {"INFY": D("108.00")})

    assert result.matches[1] == Match("INFY", 2, 3, "SHORT", 5, D("110.00"), D("105.00"), D("25.00"))
    assert result.open_lots == (OpenLot("INFY", 2, "SHORT", 10, D("110.00"), D("108.00"), D("20.00")),)


def test_interleaved_symbols_are_matched_independently(match):
    fills = [
        fill(1, "BUY", 10, "1500.00", 0, symbol="TCS"),
        fill(2, "SELL", 3, "800.00", 1, symbol="INFY"),
        fill(3, "SELL", 4, "1510.00", 2, symbol="TCS"),
        fill(4, "BUY", 5, "790.00", 3, symbol="INFY"),
        fill(5, "BUY", 1, "1520.00", 4, symbol="TCS"),
    ]

    result = match(fills, {"INFY": D("795.00"), "TCS": D("1505.00")})

    assert result.matches == (
        Match("TCS", 1, 3, "LONG", 4, D("1500.00"), D("1510.00"), D("40.00")),
        Match("INFY", 2, 4, "SHORT", 3, D("800.00"), D("790.00"), D("30.00")),
    )
    assert result.open_lots == (
        OpenLot("INFY", 4, "LONG", 2, D("790.00"), D("795.00"), D("10.00")),
        OpenLot("TCS", 1, "LONG", 6, D("1500.00"), D("1505.00"), D("30.00")),
        OpenLot("TCS", 5, "LONG", 1, D("1520.00"), D("1505.00"), D("-15.00")),
    )


def test_the_filled_part_of_a_cancelled_order_is_matched(match):
    book = [
        broker_order(11, "BUY", 100, 40, "250.00", status="Cancelled", updated_at=at(1)),
        broker_order(12, "SELL", 40, 40, "255.00", updated_at=at(2)),
    ]

    result = match(fills_from_order_book(book), {})

    assert result.matches == (Match("INFY", 11, 12, "LONG", 40, D("250.00"), D("255.00"), D("200.00")),)
    assert result.open_lots == ()


def test_fills_at_the_same_time_are_taken_in_order_id_order(match):
    fills = [fill(7, "BUY", 1, "100.00", 0), fill(3, "BUY", 1, "101.00", 0), fill(9, "SELL", 1, "102.00", 1)]

    result = match(fills, {})

    assert result.matches == (Match("INFY", 3, 9, "LONG", 1, D("101.00"), D("102.00"), D("1.00")),)
    assert [lot.order_id for lot in result.open_lots] == [7]


def test_fills_are_taken_in_time_order_whatever_the_input_order(match):
    fills = [fill(1, "SELL", 2, "102.00", 9), fill(2, "BUY", 2, "100.00", 3)]

    result = match(fills, {})

    assert result.matches == (Match("INFY", 2, 1, "LONG", 2, D("100.00"), D("102.00"), D("4.00")),)


def test_open_lots_without_a_mark_have_no_unrealized_pnl(match):
    fills = [fill(1, "BUY", 2, "100.00", 0, symbol="INFY"), fill(2, "SELL", 3, "50.00", 0, symbol="SBIN")]

    result = match(fills, {"SBIN": D("49.00")})

    assert result.open_lots == (
        OpenLot("INFY", 1, "LONG", 2, D("100.00"), None, None),
        OpenLot("SBIN", 2, "SHORT", 3, D("50.00"), D("49.00"), D("3.00")),
    )


def test_no_fills_give_an_empty_result(match):
    assert match([], {"INFY": D("1.00")}) == FifoResult(matches=(), open_lots=())


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"qty": 0}, "qty must be a positive int, got 0"),
        ({"qty": -5}, "qty must be a positive int, got -5"),
        ({"qty": 2.0}, "qty must be a positive int, got 2.0"),
        ({"qty": True}, "qty must be a positive int, got True"),
        ({"side": "buy"}, "side must be BUY or SELL, got 'buy'"),
        ({"side": None}, "side must be BUY or SELL, got None"),
        ({"price": 100.5}, "price must be a finite positive Decimal, got 100.5"),
        ({"price": D("NaN")}, r"price must be a finite positive Decimal, got Decimal\('NaN'\)"),
        ({"price": D("Infinity")}, r"price must be a finite positive Decimal, got Decimal\('Infinity'\)"),
        ({"price": D("0")}, r"price must be a finite positive Decimal, got Decimal\('0'\)"),
        ({"price": D("-0")}, r"price must be a finite positive Decimal, got Decimal\('-0'\)"),
        ({"price": D("-1.00")}, r"price must be a finite positive Decimal, got Decimal\('-1.00'\)"),
        ({"time": datetime(2026, 1, 5, 9, 15)}, "time must be timezone-aware"),  # noqa: DTZ001
    ],
)
def test_an_invalid_fill_is_rejected_with_its_order_id_and_reason(match, bad, reason):
    """The valid fields are the smallest valid ones (qty 1, price one tick), so each fault alone is named."""
    good = {"order_id": 42, "symbol": "INFY", "side": "BUY", "qty": 1, "price": D("0.05"), "time": at(0)}
    invalid = Fill(**{**good, **bad})

    with pytest.raises(ValueError, match=rf"order 42 \(INFY\): {reason}"):
        match([fill(1, "BUY", 1, "10.00", 0), invalid], {})


def test_a_naive_time_among_aware_ones_is_rejected_with_its_order_id(match):
    naive = Fill(order_id=42, symbol="INFY", side="BUY", qty=1, price=D("10.00"),
                 time=datetime(2026, 1, 5, 9, 15))  # noqa: DTZ001

    with pytest.raises(ValueError, match=r"order 42 \(INFY\): time must be timezone-aware"):
        match([fill(1, "BUY", 1, "10.00", 0), fill(2, "SELL", 1, "10.00", 1), naive], {})


def test_the_first_fill_of_a_symbol_with_an_invalid_side_is_rejected(match):
    fills = [fill(1, "BUY", 1, "10.00", 0), fill(2, "SELL", 1, "20.00", 1, symbol="TCS")]
    fills[1] = Fill(order_id=2, symbol="TCS", side="sell", qty=1, price=D("20.00"), time=at(1))

    with pytest.raises(ValueError, match=r"order 2 \(TCS\): side must be BUY or SELL"):
        match(fills, {})


def test_an_invalid_side_is_rejected_when_it_would_close_lots(match):
    closing = Fill(order_id=2, symbol="INFY", side="Sell", qty=1, price=D("11.00"), time=at(1))

    with pytest.raises(ValueError, match=r"order 2 \(INFY\): side must be BUY or SELL"):
        match([fill(1, "BUY", 5, "10.00", 0), closing], {})


def test_when_all_times_are_naive_the_first_fill_in_fifo_order_is_named(match):
    naive = [
        Fill(order_id=order_id, symbol="INFY", side="BUY", qty=1, price=D("10.00"),
             time=datetime(2026, 1, 5, 9, minute))  # noqa: DTZ001
        for order_id, minute in ((7, 20), (5, 15), (6, 15))
    ]

    with pytest.raises(ValueError, match=r"order 5 \(INFY\): time must be timezone-aware"):
        match(naive, {})


def test_a_position_closed_to_exactly_zero_reopens_with_a_fresh_lot(match):
    fills = [fill(1, "BUY", 10, "100.00", 0), fill(2, "SELL", 10, "101.00", 1), fill(3, "SELL", 4, "102.00", 2),
             fill(4, "BUY", 1, "99.00", 3)]

    result = match(fills, {"INFY": D("100.00")})

    assert result.matches == (
        Match("INFY", 1, 2, "LONG", 10, D("100.00"), D("101.00"), D("10.00")),
        Match("INFY", 3, 4, "SHORT", 1, D("102.00"), D("99.00"), D("3.00")),
    )
    assert result.open_lots == (OpenLot("INFY", 3, "SHORT", 3, D("102.00"), D("100.00"), D("6.00")),)


def test_a_realized_pnl_that_cannot_be_exact_raises_instead_of_rounding(match):
    fills = [fill(1, "BUY", 1, "1E+70", 0), fill(2, "SELL", 1, "0.01", 1)]

    with pytest.raises(Inexact):
        match(fills, {})


def test_an_unrealized_pnl_that_cannot_be_exact_raises_instead_of_rounding(match):
    with pytest.raises(Inexact):
        match([fill(1, "BUY", 3, "0.01", 0)], {"INFY": D("1E+70")})


def test_a_mark_that_is_not_a_decimal_is_rejected(match):
    with pytest.raises(ValueError, match="mark of INFY must be a finite Decimal"):
        match([fill(1, "BUY", 1, "10.00", 0)], {"INFY": 10.5})
