"""FIFO's rules one at a time, each on both sides (a long closed by sells, a short closed by buys) and at its
boundaries: a fill that closes part of the oldest lot, exactly the oldest lot, several lots whole, part of
a later lot, or all of them and more (the flip); open lots marked long and short, or not at all.

Every test runs on `match_fifo` and on the reference loop `match_fifo_in_python` (the `match` fixture)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.pnl import Match, OpenLot
from tests.pnl.fills import fill

D = Decimal

SIDES = pytest.mark.parametrize(
    ("opening", "closing", "direction", "sign"),
    [("BUY", "SELL", "LONG", 1), ("SELL", "BUY", "SHORT", -1)],
    ids=["long closed by sells", "short closed by buys"],
)
"""A long gains when it exits above its entry, a short loses: `sign` is the exit-above-entry PnL's sign."""


@SIDES
def test_given_one_lot_when_a_smaller_fill_closes_part_of_it_then_that_part_is_realized_and_the_rest_stays_open(
    match, opening, closing, direction, sign
):
    result = match([fill(1, opening, 10, "100.00", 0), fill(2, closing, 4, "103.50", 1)], {})

    assert result.matches == (Match("INFY", 1, 2, direction, 4, D("100.00"), D("103.50"), sign * D("14.00")),)
    assert result.open_lots == (OpenLot("INFY", 1, direction, 6, D("100.00"), None, None),)


@SIDES
def test_given_one_lot_when_a_fill_of_exactly_its_qty_closes_it_then_the_position_is_flat(
    match, opening, closing, direction, sign
):
    result = match([fill(1, opening, 10, "100.00", 0), fill(2, closing, 10, "99.00", 1)], {"INFY": D("98.00")})

    assert result.matches == (Match("INFY", 1, 2, direction, 10, D("100.00"), D("99.00"), sign * D("-10.00")),)
    assert result.open_lots == ()


@SIDES
def test_given_two_lots_when_a_fill_of_exactly_the_oldest_lots_qty_closes_it_then_the_next_lot_is_left_whole(
    match, opening, closing, direction, sign
):
    fills = [fill(1, opening, 5, "100.00", 0), fill(2, opening, 7, "101.00", 1), fill(3, closing, 5, "102.00", 2)]

    result = match(fills, {})

    assert result.matches == (Match("INFY", 1, 3, direction, 5, D("100.00"), D("102.00"), sign * D("10.00")),)
    assert result.open_lots == (OpenLot("INFY", 2, direction, 7, D("101.00"), None, None),)


@SIDES
def test_given_two_lots_when_a_fill_closes_the_first_whole_and_part_of_the_second_then_both_are_realized_oldest_first(
    match, opening, closing, direction, sign
):
    fills = [fill(1, opening, 3, "100.00", 0), fill(2, opening, 4, "101.00", 1), fill(3, closing, 5, "104.00", 2)]

    result = match(fills, {})

    assert result.matches == (
        Match("INFY", 1, 3, direction, 3, D("100.00"), D("104.00"), sign * D("12.00")),
        Match("INFY", 2, 3, direction, 2, D("101.00"), D("104.00"), sign * D("6.00")),
    )
    assert result.open_lots == (OpenLot("INFY", 2, direction, 2, D("101.00"), None, None),)


@SIDES
def test_given_a_partly_closed_second_lot_when_another_fill_closes_part_of_it_then_it_is_closed_from_what_was_left(
    match, opening, closing, direction, sign
):
    fills = [fill(1, opening, 3, "100.00", 0), fill(2, opening, 4, "101.00", 1), fill(3, closing, 5, "104.00", 2),
             fill(4, closing, 1, "99.00", 3)]

    result = match(fills, {})

    assert result.matches[2] == Match("INFY", 2, 4, direction, 1, D("101.00"), D("99.00"), sign * D("-2.00"))
    assert result.open_lots == (OpenLot("INFY", 2, direction, 1, D("101.00"), None, None),)


@SIDES
def test_given_three_lots_when_a_fill_closes_exactly_the_first_two_then_the_third_is_left_whole(
    match, opening, closing, direction, sign
):
    fills = [fill(1, opening, 5, "100.00", 0), fill(2, opening, 5, "101.00", 1), fill(3, opening, 5, "102.00", 2),
             fill(4, closing, 10, "103.00", 3)]

    result = match(fills, {})

    assert result.matches == (
        Match("INFY", 1, 4, direction, 5, D("100.00"), D("103.00"), sign * D("15.00")),
        Match("INFY", 2, 4, direction, 5, D("101.00"), D("103.00"), sign * D("10.00")),
    )
    assert result.open_lots == (OpenLot("INFY", 3, direction, 5, D("102.00"), None, None),)


@SIDES
def test_given_two_lots_when_a_fill_of_exactly_their_total_closes_them_then_the_position_is_flat(
    match, opening, closing, direction, sign
):
    fills = [fill(1, opening, 5, "100.00", 0), fill(2, opening, 5, "101.00", 1), fill(3, closing, 10, "100.50", 2)]

    result = match(fills, {"INFY": D("100.00")})

    assert result.matches == (
        Match("INFY", 1, 3, direction, 5, D("100.00"), D("100.50"), sign * D("2.50")),
        Match("INFY", 2, 3, direction, 5, D("101.00"), D("100.50"), sign * D("-2.50")),
    )
    assert result.open_lots == ()


@SIDES
def test_given_two_lots_when_a_fill_exceeds_their_total_then_the_rest_of_it_opens_a_lot_the_other_way(
    match, opening, closing, direction, sign
):
    flipped = "SHORT" if direction == "LONG" else "LONG"
    fills = [fill(1, opening, 5, "100.00", 0), fill(2, opening, 5, "101.00", 1), fill(3, closing, 13, "102.00", 2)]

    result = match(fills, {})

    assert result.matches == (
        Match("INFY", 1, 3, direction, 5, D("100.00"), D("102.00"), sign * D("10.00")),
        Match("INFY", 2, 3, direction, 5, D("101.00"), D("102.00"), sign * D("5.00")),
    )
    assert result.open_lots == (OpenLot("INFY", 3, flipped, 3, D("102.00"), None, None),)


@SIDES
def test_given_a_flipped_position_when_a_fill_closes_it_then_the_flipped_lot_is_realized_in_its_own_direction(
    match, opening, closing, direction, sign
):
    flipped = "SHORT" if direction == "LONG" else "LONG"
    fills = [fill(1, opening, 2, "100.00", 0), fill(2, closing, 5, "102.00", 1), fill(3, opening, 3, "101.00", 2)]

    result = match(fills, {})

    assert result.matches[1] == Match("INFY", 2, 3, flipped, 3, D("102.00"), D("101.00"), sign * D("3.00"))
    assert result.open_lots == ()


@SIDES
def test_given_fills_on_the_same_side_when_matched_then_each_opens_a_lot_of_its_own(
    match, opening, closing, direction, sign
):
    result = match([fill(1, opening, 2, "100.00", 0), fill(2, opening, 3, "100.00", 1)], {})

    assert result.matches == ()
    assert result.open_lots == (
        OpenLot("INFY", 1, direction, 2, D("100.00"), None, None),
        OpenLot("INFY", 2, direction, 3, D("100.00"), None, None),
    )


@SIDES
def test_given_an_exit_at_the_entry_price_when_matched_then_the_realized_pnl_is_exactly_zero(
    match, opening, closing, direction, sign
):
    result = match([fill(1, opening, 3, "100.05", 0), fill(2, closing, 3, "100.05", 1)], {})

    assert result.matches == (Match("INFY", 1, 2, direction, 3, D("100.05"), D("100.05"), D("0.00")),)


@pytest.mark.parametrize(
    ("side", "direction", "mark", "unrealized"),
    [
        ("BUY", "LONG", "104.25", "17.00"),
        ("BUY", "LONG", "99.00", "-4.00"),
        ("BUY", "LONG", "100.00", "0.00"),
        ("SELL", "SHORT", "104.25", "-17.00"),
        ("SELL", "SHORT", "99.00", "4.00"),
        ("SELL", "SHORT", "100.00", "0.00"),
    ],
)
def test_given_an_open_lot_when_marked_then_its_unrealized_pnl_is_the_mark_against_its_entry_times_its_qty(
    match, side, direction, mark, unrealized
):
    result = match([fill(1, side, 4, "100.00", 0)], {"INFY": D(mark)})

    assert result.open_lots == (OpenLot("INFY", 1, direction, 4, D("100.00"), D(mark), D(unrealized)),)


@SIDES
def test_given_a_partly_closed_lot_when_marked_then_only_its_open_qty_is_marked(
    match, opening, closing, direction, sign
):
    result = match([fill(1, opening, 10, "100.00", 0), fill(2, closing, 7, "100.00", 1)], {"INFY": D("101.00")})

    assert result.open_lots == (OpenLot("INFY", 1, direction, 3, D("100.00"), D("101.00"), sign * D("3.00")),)


@pytest.mark.parametrize(
    ("mark", "shown"),
    [(10.5, "10.5"), (10, "10"), (D("NaN"), r"Decimal\('NaN'\)"), (D("-Infinity"), r"Decimal\('-Infinity'\)")],
)
def test_given_a_mark_that_is_not_a_finite_decimal_when_lots_are_marked_then_it_is_refused_naming_the_symbol(
    match, mark, shown
):
    with pytest.raises(ValueError, match=rf"^mark of INFY must be a finite Decimal, got {shown}$"):
        match([fill(1, "BUY", 1, "10.00", 0)], {"INFY": mark})

