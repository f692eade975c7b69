"""Which loop `match_fifo` runs: the compiled one where it was built, which matches valid fills itself, else
the Python loop; either way the result is the reference loop's, and fills given as an iterator are read once."""

from __future__ import annotations

import sys
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec
import pytest

import actors.pnl_calculator
from actors.pnl_calculator import fifo
from actors.pnl_calculator.fifo import match_fifo
from domain.pnl import FifoResult, Match, OpenLot
from tests.pnl.fills import fill

D = Decimal

BOOK = [
    fill(1, "BUY", 10, "100.00", 0),
    fill(2, "SELL", 25, "110.00", 1),
    fill(3, "SELL", 4, "50.00", 2, symbol="SBIN"),
    fill(4, "BUY", 1, "49.00", 3, symbol="SBIN"),
]
"""A long that flips into a short, and a short partly closed: both directions, both sides."""
MARKS = {"INFY": D("108.00"), "SBIN": D("48.00")}
EXPECTED = FifoResult(
    matches=(
        Match("INFY", 1, 2, "LONG", 10, D("100.00"), D("110.00"), D("100.00")),
        Match("SBIN", 3, 4, "SHORT", 1, D("50.00"), D("49.00"), D("1.00")),
    ),
    open_lots=(
        OpenLot("INFY", 2, "SHORT", 15, D("110.00"), D("108.00"), D("30.00")),
        OpenLot("SBIN", 3, "SHORT", 3, D("50.00"), D("48.00"), D("6.00")),
    ),
)


def test_given_the_compiled_loop_as_fifo_builds_it_when_valid_fills_are_matched_then_it_gives_the_reference_result(
    monkeypatch,
):
    if not fifo.COMPILED:
        pytest.skip("the compiled FIFO loop was not built (no C compiler at install time)")
    matcher = fifo._compiled_matcher()
    monkeypatch.setattr(fifo, "_COMPILED", matcher)

    assert matcher.match(BOOK) is not None, "the compiled loop declined fills it should match itself"
    assert match_fifo(BOOK, MARKS) == EXPECTED


def test_given_no_compiled_loop_when_fills_are_matched_then_the_python_loop_gives_the_result(monkeypatch):
    monkeypatch.setattr(fifo, "_COMPILED", None)

    assert match_fifo(BOOK, MARKS) == EXPECTED


def test_given_the_compiled_module_cannot_be_imported_when_the_matcher_is_built_then_there_is_none(monkeypatch):
    monkeypatch.delattr(actors.pnl_calculator, "_fifo_match", raising=False)
    monkeypatch.setitem(sys.modules, "actors.pnl_calculator._fifo_match", None)

    assert fifo._compiled_matcher() is None


def test_given_fills_as_an_iterator_when_they_are_matched_then_every_fill_is_read(match):
    assert match(iter(BOOK), MARKS) == EXPECTED


def test_given_fills_as_an_iterator_that_the_compiled_loop_declines_then_the_python_loop_still_reads_them_all(
    match,
):
    """A time in a named zone (not a fixed offset) is outside the compiled loop's fast path: it declines."""
    kolkata = ZoneInfo("Asia/Kolkata")
    book = [msgspec.structs.replace(f, time=f.time.astimezone(kolkata)) for f in BOOK]

    assert match(iter(book), MARKS) == EXPECTED


def test_given_a_tuple_of_fills_when_they_are_matched_then_it_gives_the_same_result(match):
    assert match(tuple(BOOK), MARKS) == EXPECTED


class CompiledLoopDouble:
    """Stands in for the compiled loop: records what it was given and answers `answer` (None: it declines)."""

    def __init__(self, answer):
        self.answer = answer
        self.given = []

    def match(self, fills):
        self.given.append(fills)
        return self.answer


def test_given_a_compiled_loop_that_matches_the_fills_when_matched_then_its_result_is_marked_and_returned(
    monkeypatch,
):
    compiled = CompiledLoopDouble(({"INFY": ("BUY", [(3, BOOK[0])])}, []))
    monkeypatch.setattr(fifo, "_COMPILED", compiled)

    assert match_fifo(BOOK, MARKS) == FifoResult(
        matches=(), open_lots=(OpenLot("INFY", 1, "LONG", 3, D("100.00"), D("108.00"), D("24.00")),))


def test_given_a_compiled_loop_that_declines_the_fills_when_matched_then_the_python_loop_gives_the_result(
    monkeypatch,
):
    compiled = CompiledLoopDouble(None)
    monkeypatch.setattr(fifo, "_COMPILED", compiled)

    assert match_fifo(BOOK, MARKS) == EXPECTED
    assert compiled.given == [BOOK]


@pytest.mark.parametrize("collection", [list, tuple])
def test_given_fills_in_a_list_or_tuple_when_matched_then_the_compiled_loop_reads_them_without_a_copy(
    monkeypatch, collection,
):
    """A million fills would cost a copy of a million references; an iterator is listed once instead."""
    compiled = CompiledLoopDouble(None)
    monkeypatch.setattr(fifo, "_COMPILED", compiled)
    fills = collection(BOOK)

    match_fifo(fills, MARKS)

    assert compiled.given[0] is fills
