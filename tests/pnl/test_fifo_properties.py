"""FIFO matching against a deliberately naive reference that moves one unit at a time, with hypothesis."""

from __future__ import annotations

from collections import Counter, deque
from datetime import timedelta
from decimal import Decimal
from itertools import groupby

import msgspec
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from actors.pnl_calculator.fifo import match_fifo
from domain.pnl import Fill
from tests.pnl.fills import OPEN

SYMBOLS = ("INFY", "TCS", "SBIN")
PRICES = tuple(Decimal(f"{rupees}.{paise:02d}") for rupees in (99, 100, 101) for paise in range(0, 100, 35))


@st.composite
def fill_lists(draw) -> list[Fill]:
    """Up to 40 fills in any input order; few distinct times so that ties on time are common."""
    count = draw(st.integers(0, 40))
    order_ids = draw(st.lists(st.integers(1, 10_000), min_size=count, max_size=count, unique=True))
    return [
        Fill(
            order_id=order_id,
            symbol=draw(st.sampled_from(SYMBOLS)),
            side=draw(st.sampled_from(("BUY", "SELL"))),
            qty=draw(st.integers(1, 25)),
            price=draw(st.sampled_from(PRICES)),
            time=OPEN + timedelta(seconds=draw(st.integers(0, 5))),
        )
        for order_id in order_ids
    ]


marks_st = st.dictionaries(st.sampled_from(SYMBOLS), st.sampled_from(PRICES))


def naive_units(fills: list[Fill]) -> tuple[list[tuple], dict[str, list[tuple]]]:
    """FIFO one unit at a time: each unit closes the oldest opposite open unit or opens one itself.

    Returns the closed units (symbol, entry id, exit id, direction, entry price, exit price, pnl) in
    closing order and the open units (order id, side, price) per symbol, oldest first.
    """
    open_units: dict[str, deque[tuple[int, str, Decimal]]] = {}
    closed: list[tuple] = []
    for fill in sorted(fills, key=lambda f: (f.time, f.order_id)):
        units = open_units.setdefault(fill.symbol, deque())
        for _ in range(fill.qty):
            if units and units[0][1] != fill.side:
                entry_id, entry_side, entry_price = units.popleft()
                if entry_side == "BUY":
                    closed.append((fill.symbol, entry_id, fill.order_id, "LONG", entry_price, fill.price,
                                   fill.price - entry_price))
                else:
                    closed.append((fill.symbol, entry_id, fill.order_id, "SHORT", entry_price, fill.price,
                                   entry_price - fill.price))
            else:
                units.append((fill.order_id, fill.side, fill.price))
    return closed, {symbol: list(units) for symbol, units in open_units.items()}


@settings(max_examples=500, deadline=None)
@given(fill_lists(), marks_st)
def test_matches_are_the_naive_unit_matches_grouped_by_entry_and_exit(fills, marks):
    closed, _ = naive_units(fills)
    expected = []
    for (symbol, entry_id, exit_id, direction, entry_price, exit_price), units in groupby(
        closed, key=lambda unit: unit[:6]
    ):
        pnls = [unit[6] for unit in units]
        expected.append((symbol, entry_id, exit_id, direction, len(pnls), entry_price, exit_price, sum(pnls)))

    result = match_fifo(fills, marks)

    assert [
        (m.symbol, m.entry_order_id, m.exit_order_id, m.direction, m.qty, m.entry_price, m.exit_price,
         m.realized_pnl)
        for m in result.matches
    ] == expected


@settings(max_examples=500, deadline=None)
@given(fill_lists(), marks_st)
def test_open_lots_are_the_naive_open_units_marked_to_the_marks(fills, marks):
    _, open_units = naive_units(fills)
    expected = []
    for symbol in sorted(open_units):
        mark = marks.get(symbol)
        for (order_id, side, price), units in groupby(open_units[symbol]):
            qty = len(list(units))
            direction = "LONG" if side == "BUY" else "SHORT"
            if mark is None:  # noqa: SIM108 - a nested ternary reads worse
                unrealized = None
            else:
                unrealized = (mark - price) * qty if direction == "LONG" else (price - mark) * qty
            expected.append((symbol, order_id, direction, qty, price, mark, unrealized))

    result = match_fifo(fills, marks)

    assert [
        (lot.symbol, lot.order_id, lot.direction, lot.qty, lot.entry_price, lot.mark, lot.unrealized_pnl)
        for lot in result.open_lots
    ] == expected


@settings(max_examples=500, deadline=None)
@given(fill_lists())
def test_realized_total_equals_the_naive_total_exactly(fills):
    closed, _ = naive_units(fills)

    result = match_fifo(fills, {})

    assert sum(m.realized_pnl for m in result.matches) == sum(unit[6] for unit in closed)


@settings(max_examples=500, deadline=None)
@given(fill_lists())
def test_per_symbol_matched_and_open_quantities_account_for_every_bought_and_sold_unit(fills):
    bought, sold = Counter(), Counter()
    for fill in fills:
        (bought if fill.side == "BUY" else sold)[fill.symbol] += fill.qty

    result = match_fifo(fills, {})

    for symbol in SYMBOLS:
        matched = sum(m.qty for m in result.matches if m.symbol == symbol)
        lots = [lot for lot in result.open_lots if lot.symbol == symbol]
        assert matched == min(bought[symbol], sold[symbol])
        assert sum(lot.qty for lot in lots) == abs(bought[symbol] - sold[symbol])
        expected_direction = "LONG" if bought[symbol] > sold[symbol] else "SHORT"
        assert all(lot.direction == expected_direction for lot in lots)


@settings(max_examples=500, deadline=None)
@given(st.data(), fill_lists(), marks_st)
def test_the_result_does_not_depend_on_the_input_order(data, fills, marks):
    shuffled = data.draw(st.permutations(fills))

    assert match_fifo(shuffled, marks) == match_fifo(fills, marks)


CORRUPTIONS = (
    ("qty", 0), ("qty", -3), ("qty", 2.0), ("qty", True), ("side", "buy"), ("side", None),
    ("price", Decimal("NaN")), ("price", Decimal("-Infinity")), ("price", Decimal("-1.00")),
    ("price", Decimal("-0")), ("price", 10.5),
)


@settings(max_examples=500, deadline=None)
@given(st.data(), fill_lists())
def test_the_fill_named_is_the_first_invalid_one_in_fifo_order(data, fills):
    assume(fills)
    bad = data.draw(st.dictionaries(st.integers(0, len(fills) - 1), st.sampled_from(CORRUPTIONS), min_size=1))
    fills = [
        msgspec.structs.replace(fill, **dict([bad[index]])) if index in bad else fill
        for index, fill in enumerate(fills)
    ]
    first = min((fills[index] for index in bad), key=lambda fill: (fill.time, fill.order_id))

    with pytest.raises(ValueError, match=rf"^invalid fill of order {first.order_id} \("):
        match_fifo(fills, {})


@settings(max_examples=500, deadline=None)
@given(st.data(), fill_lists())
def test_a_naive_time_anywhere_is_rejected_naming_a_naive_fill(data, fills):
    assume(fills)
    naive = data.draw(st.sets(st.integers(0, len(fills) - 1), min_size=1))
    fills = [
        msgspec.structs.replace(fill, time=fill.time.replace(tzinfo=None)) if index in naive else fill
        for index, fill in enumerate(fills)
    ]

    with pytest.raises(ValueError, match="time must be timezone-aware") as rejected:
        match_fifo(fills, {})
    assert any(f"order {fills[index].order_id} " in str(rejected.value) for index in naive)
