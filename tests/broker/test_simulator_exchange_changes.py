"""The engine's own changes that load drivers make (`execute`, `restamp`, `replace_finished`): each changes exactly what
it says, moves the book's stamp, and refuses what a real exchange could not do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.broker.paper.simulator import OrderInvalid, OrderTicket, Simulator

START = datetime(2024, 5, 2, 5, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def simulator(clock: Clock) -> Simulator:
    return Simulator(seed=1, now=clock)


def place(simulator: Simulator, side: str = "BUY", order_type: str = "LIMIT", limit: str = "790.00",
          stop: str = "0", quantity: int = 10):
    return simulator.place(OrderTicket(client_id="P1", segment="NSECM", instrument_id=3045, side=side,
                                       order_type=order_type, product_type="NRML", quantity=quantity,
                                       limit_price=Decimal(limit), stop_price=Decimal(stop), tag=""))


@pytest.mark.parametrize("side, limit", [("BUY", "790.00"), ("SELL", "810.00")])
def test_execute_fills_part_then_all_at_the_limit_price(simulator, side, limit):
    order = place(simulator, side=side, limit=limit)
    stamp = simulator.book_stamp("P1")
    part = simulator.execute("P1", order.app_order_id, 4)
    assert (part.quantity, part.price) == (4, Decimal(limit))
    assert (order.status, order.filled_qty) == ("PartiallyFilled", 4)
    assert simulator.book_stamp("P1") != stamp
    rest = simulator.execute("P1", order.app_order_id, 6)
    assert (rest.quantity, order.status, order.filled_qty) == (6, "Filled", 10)
    assert simulator.fills_of("P1") == [part, rest]
    net = {p.instrument.instrument_id: p.net_qty for p in simulator.positions_of("P1", "NetWise")}
    assert net == {3045: 10 if side == "BUY" else -10}


def test_execute_refuses_more_than_remains_zero_and_finished_orders(simulator):
    order = place(simulator)
    for quantity in (0, 11):
        with pytest.raises(OrderInvalid):
            simulator.execute("P1", order.app_order_id, quantity)
    simulator.execute("P1", order.app_order_id, 10)
    with pytest.raises(OrderInvalid):
        simulator.execute("P1", order.app_order_id, 1)


def test_execute_refuses_an_untriggered_stop(simulator):
    order = place(simulator, order_type="STOPLIMIT", limit="900.00", stop="899.00")
    assert order.status == "Trigger Pending"
    with pytest.raises(OrderInvalid):
        simulator.execute("P1", order.app_order_id, 1)


def test_restamp_moves_only_the_update_time_by_at_least_a_second(simulator, clock):
    order = place(simulator)
    before = (order.status, order.filled_qty, order.limit_price, order.updated_at)
    stamp = simulator.book_stamp("P1")
    simulator.restamp("P1", order.app_order_id)
    assert order.updated_at == before[3] + timedelta(seconds=1)
    assert (order.status, order.filled_qty, order.limit_price) == before[:3]
    assert simulator.book_stamp("P1") != stamp
    clock.now = START + timedelta(minutes=5)
    simulator.restamp("P1", order.app_order_id)
    assert order.updated_at == clock.now
    with pytest.raises(OrderInvalid):
        simulator.restamp("P1", 1)


def test_a_new_order_takes_a_finished_orders_place_and_its_fills_go(simulator):
    first = place(simulator, order_type="MARKET", limit="0")
    gone = place(simulator, order_type="MARKET", limit="0", quantity=3)
    last = place(simulator)
    stamp = simulator.book_stamp("P1")
    new = simulator.replace_finished("P1", gone.app_order_id, OrderTicket(
        client_id="P1", segment="NSECM", instrument_id=3045, side="SELL", order_type="MARKET",
        product_type="NRML", quantity=4, limit_price=Decimal(0), stop_price=Decimal(0), tag=""))
    assert [o.app_order_id for o in simulator.orders_of("P1")] == [first.app_order_id, new.app_order_id,
                                                                   last.app_order_id]
    assert new.status == "Filled" and new.app_order_id > last.app_order_id
    assert [f.order for f in simulator.fills_of("P1")] == [first, new]
    assert simulator.order_history("P1", gone.app_order_id) == []
    assert {p.net_qty for p in simulator.positions_of("P1", "NetWise")} == {6}
    assert simulator.book_stamp("P1") != stamp
    assert simulator.find_order("P1", new.app_order_id) is new
    assert simulator.find_order("P1", gone.app_order_id) is None
    simulator.cancel("P1", last.app_order_id)
    assert [o.status for o in simulator.orders_of("P1")] == ["Filled", "Filled", "Cancelled"]


def test_only_a_finished_order_of_the_account_is_replaced(simulator):
    open_order = place(simulator)
    ticket = OrderTicket(client_id="P1", segment="NSECM", instrument_id=3045, side="BUY", order_type="MARKET",
                         product_type="NRML", quantity=1, limit_price=Decimal(0), stop_price=Decimal(0), tag="")
    for app_order_id in (open_order.app_order_id, 1):
        with pytest.raises(OrderInvalid):
            simulator.replace_finished("P1", app_order_id, ticket)
    assert simulator.orders_of("P1") == [open_order]
