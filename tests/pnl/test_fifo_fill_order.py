"""Fills that cannot be put in (time, order_id) order are refused before any matching, naming a fill where
one is at fault: a naive time (no zone, or a zone that gives no UTC offset) among aware ones, all times
naive, or order ids that do not compare."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal

import msgspec
import pytest

from tests.pnl.fills import fill


class NoOffset(tzinfo):
    """A zone that knows no UTC offset: a time in it is naive, as Python defines it."""

    def utcoffset(self, dt):
        return None

    def dst(self, dt):
        return None

    def tzname(self, dt):
        return "none"


def test_given_only_times_in_a_zone_without_an_offset_when_matched_then_the_first_is_refused_as_naive(match):
    fills = [msgspec.structs.replace(fill(order_id, "BUY", 2, "10.00", 0), time=datetime(2026, 1, 5, tzinfo=NoOffset()))
             for order_id in (8, 3)]

    with pytest.raises(ValueError, match=r"^invalid fill of order 3 \(INFY\): time must be timezone-aware, got "):
        match(fills, {})


def test_given_a_time_in_a_zone_without_an_offset_among_aware_ones_when_matched_then_it_is_refused_by_its_order_id(
    match,
):
    naive = msgspec.structs.replace(fill(42, "SELL", 1, "10.00", 0), time=datetime(2026, 1, 5, tzinfo=NoOffset()))

    with pytest.raises(ValueError, match=r"^invalid fill of order 42 \(INFY\): time must be timezone-aware, got "):
        match([fill(1, "BUY", 1, "10.00", 0), naive, fill(2, "BUY", 1, "10.00", 1)], {})


def test_given_all_times_naive_when_matched_then_the_first_fill_in_fifo_order_is_refused_for_its_first_fault(match):
    fills = [
        msgspec.structs.replace(fill(5, "BUY", 1, "10.00", 0), time=datetime(2026, 1, 5, 9, 20)),  # noqa: DTZ001
        msgspec.structs.replace(fill(6, "BUY", 1, "10.00", 0), qty=0, time=datetime(2026, 1, 5, 9, 15)),  # noqa: DTZ001
    ]

    with pytest.raises(ValueError, match=r"^invalid fill of order 6 \(INFY\): qty must be a positive int, got 0$"):
        match(fills, {})


def test_given_order_ids_that_do_not_compare_when_matched_then_the_fills_are_refused_as_unorderable(match):
    fills = [fill(1, "BUY", 1, "10.00", 0), msgspec.structs.replace(fill(2, "SELL", 1, "10.00", 0), order_id="A-2")]

    with pytest.raises(ValueError, match=r"^fills cannot be ordered by \(time, order_id\): times must be aware "
                                         r"datetimes, order ids ints$"):
        match(fills, {})


def test_given_a_valid_fill_priced_at_one_tick_when_matched_then_it_opens_a_lot(match):
    result = match([fill(1, "BUY", 1, "0.05", 0)], {})

    assert [(lot.qty, lot.entry_price) for lot in result.open_lots] == [(1, Decimal("0.05"))]
