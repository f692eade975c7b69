"""Fills derived from a fetched order book: each order's filled quantity at its average price."""

from __future__ import annotations

from decimal import Decimal

import pytest

from actors.pnl_calculator.fifo import fills_from_order_book
from domain.pnl import Fill
from tests.pnl.fills import OPEN, at, broker_order


def test_each_order_with_a_filled_quantity_becomes_one_fill_at_its_average_price():
    book = [
        broker_order(1, "BUY", 10, 10, "100.05", updated_at=at(1)),
        broker_order(2, "SELL", 50, 20, "101.10", status="PartiallyFilled", updated_at=at(2)),
    ]

    assert fills_from_order_book(book) == [
        Fill(order_id=1, symbol="INFY", side="BUY", qty=10, price=Decimal("100.05"), time=at(1)),
        Fill(order_id=2, symbol="INFY", side="SELL", qty=20, price=Decimal("101.10"), time=at(2)),
    ]


def test_orders_with_nothing_filled_are_not_fills():
    book = [
        broker_order(1, "BUY", 10, 0, None, status="Rejected"),
        broker_order(2, "BUY", 10, 0, None, status="New"),
        broker_order(3, "SELL", 10, 0, "0", status="Cancelled"),
    ]

    assert fills_from_order_book(book) == []


def test_an_order_with_nothing_filled_is_skipped_and_the_orders_after_it_still_become_fills():
    book = [
        broker_order(1, "BUY", 10, 0, None, status="New"),
        broker_order(2, "BUY", 10, 10, "100.00", updated_at=at(1)),
    ]

    assert [f.order_id for f in fills_from_order_book(book)] == [2]


def test_a_fill_is_timed_by_the_last_update_else_by_creation():
    book = [
        broker_order(1, "BUY", 10, 10, "100.00", created_at=at(0), updated_at=at(7)),
        broker_order(2, "BUY", 10, 10, "100.00", created_at=at(3), updated_at=None),
    ]

    assert [f.time for f in fills_from_order_book(book)] == [at(7), at(3)]


def test_a_filled_order_without_any_time_is_rejected_not_misordered():
    book = [broker_order(5, "BUY", 10, 10, "100.00", created_at=None, updated_at=None)]

    with pytest.raises(ValueError, match=r"^order 5 \(INFY\): filled qty 10 but neither updated_at nor created_at, "
                                         r"so its FIFO position is unknown$"):
        fills_from_order_book(book)


def test_a_filled_order_without_an_average_price_is_rejected():
    book = [broker_order(6, "SELL", 10, 4, None, status="Cancelled", updated_at=OPEN)]

    with pytest.raises(ValueError, match=r"order 6 \(INFY\): filled qty 4 but no average price"):
        fills_from_order_book(book)


def test_an_order_with_one_unit_filled_is_a_fill_of_one():
    book = [broker_order(3, "SELL", 10, 1, "99.95", status="PartiallyFilled", updated_at=at(4))]

    assert fills_from_order_book(book) == [
        Fill(order_id=3, symbol="INFY", side="SELL", qty=1, price=Decimal("99.95"), time=at(4)),
    ]


def test_an_order_with_a_negative_filled_quantity_is_rejected():
    book = [broker_order(7, "BUY", 10, -3, "100.00", updated_at=OPEN)]

    with pytest.raises(ValueError, match=r"^order 7 \(INFY\): negative filled qty -3$"):
        fills_from_order_book(book)
