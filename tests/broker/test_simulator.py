"""The paper broker's matching engine on its own: positions are exactly the sum of fills, whatever happens."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.broker.paper.simulator import OrderInvalid, OrderTicket, Simulator

INSTRUMENTS = (("SBIN", 3045), ("INFY", 1594))
prices = st.integers(min_value=15_000, max_value=17_000).map(lambda paise: Decimal(paise) / 20)

place_action = st.tuples(
    st.just("place"),
    st.sampled_from(INSTRUMENTS),
    st.sampled_from(("BUY", "SELL")),
    st.sampled_from(("MARKET", "LIMIT", "STOPMARKET", "STOPLIMIT")),
    st.sampled_from(("MIS", "NRML")),
    st.integers(min_value=1, max_value=50),
    prices,
    prices,
)
price_action = st.tuples(st.just("price"), st.sampled_from(INSTRUMENTS), prices)
slice_action = st.tuples(st.just("slice"), st.one_of(st.none(), st.integers(min_value=1, max_value=20)))
actions = st.lists(st.one_of(place_action, price_action, slice_action), max_size=40)


def run(script: list[tuple]) -> Simulator:
    simulator = Simulator(seed=1, now=lambda: datetime(2024, 5, 2, 5, 0, tzinfo=UTC))
    for action in script:
        if action[0] == "price":
            _, (symbol, _id), ltp = action
            simulator.set_price(symbol, ltp)
        elif action[0] == "slice":
            simulator.max_fill_qty = action[1]
        else:
            _, (_symbol, instrument_id), side, order_type, product, quantity, limit, stop = action
            try:
                simulator.place(OrderTicket(
                    client_id="P1", segment="NSECM", instrument_id=instrument_id, side=side,
                    order_type=order_type, product_type=product, quantity=quantity,
                    limit_price=limit if "LIMIT" in order_type else Decimal(0),
                    stop_price=stop if "STOP" in order_type else Decimal(0), tag=f"t{len(script)}"))
            except OrderInvalid as exc:
                raise AssertionError(f"a valid ticket was refused: {exc.reason}") from exc
    return simulator


@settings(max_examples=150, deadline=None)
@given(actions)
def test_positions_are_the_sum_of_fills(script):
    simulator = run(script)
    fills = simulator.fills_of("P1")
    for view in ("NetWise", "DayWise"):
        rows = simulator.positions_of("P1", view)
        positions = {(p.instrument.instrument_id, p.product_type): p for p in rows}
        keys = {(f.order.instrument.instrument_id, f.order.product_type) for f in fills}
        assert set(positions) == keys
        for key, position in positions.items():
            mine = [f for f in fills if (f.order.instrument.instrument_id, f.order.product_type) == key]
            bought = sum(f.quantity for f in mine if f.order.side == "BUY")
            sold = sum(f.quantity for f in mine if f.order.side == "SELL")
            assert (position.buy_qty, position.sell_qty, position.net_qty) == (bought, sold, bought - sold)
            assert position.net_amount == sum(
                (f.price * f.quantity * (1 if f.order.side == "SELL" else -1) for f in mine), Decimal(0))


@settings(max_examples=150, deadline=None)
@given(actions)
def test_every_order_is_filled_by_exactly_its_fills_and_its_status_says_so(script):
    simulator = run(script)
    fills = simulator.fills_of("P1")
    for order in simulator.orders_of("P1"):
        filled = sum(f.quantity for f in fills if f.order is order)
        assert order.filled_qty == filled <= order.quantity
        assert (order.status == "Filled") == (filled == order.quantity)
        if order.status == "Trigger Pending":
            assert filled == 0


@settings(max_examples=150, deadline=None)
@given(actions)
def test_every_orders_history_ends_in_its_state_now_and_never_loses_a_fill(script):
    simulator = run(script)
    for order in simulator.orders_of("P1"):
        history = simulator.order_history("P1", order.app_order_id)
        assert history[-1] == order
        filled = [state.filled_qty for state in history]
        assert filled == sorted(filled)
        assert all(state.app_order_id == order.app_order_id for state in history)


def test_day_wise_positions_hold_only_todays_fills_and_net_wise_all():
    clock = [datetime(2024, 5, 2, 5, 0, tzinfo=UTC)]
    simulator = Simulator(now=lambda: clock[0])
    simulator.set_price("SBIN", Decimal(800))

    def buy(quantity: int) -> None:
        simulator.place(OrderTicket(client_id="P1", segment="NSECM", instrument_id=3045, side="BUY",
                                    order_type="MARKET", product_type="NRML", quantity=quantity,
                                    limit_price=Decimal(0), stop_price=Decimal(0), tag=f"b{quantity}"))

    buy(10)
    clock[0] = datetime(2024, 5, 3, 4, 0, tzinfo=UTC)  # 09:30 IST the next trading day
    buy(3)
    [net] = simulator.positions_of("P1", "NetWise")
    [day] = simulator.positions_of("P1", "DayWise")
    assert (net.net_qty, day.net_qty) == (13, 3)


def test_a_new_day_empties_the_order_and_trade_books_keeps_the_positions_and_never_reuses_an_order_id():
    simulator = Simulator(now=lambda: datetime(2024, 5, 2, 5, 0, tzinfo=UTC))
    simulator.set_price("SBIN", Decimal(800))

    def place(side: str, order_type: str, price: int) -> int:
        return simulator.place(OrderTicket(client_id="P1", segment="NSECM", instrument_id=3045, side=side,
                                           order_type=order_type, product_type="NRML", quantity=10,
                                           limit_price=Decimal(price), stop_price=Decimal(price),
                                           tag=f"{side}{price}")).app_order_id

    place("BUY", "MARKET", 0)
    stop = place("SELL", "STOPLIMIT", 790)

    simulator.new_day()

    assert simulator.orders_of("P1") == [] and simulator.fills_of("P1") == []
    assert simulator.order_history("P1", stop) == []
    simulator.set_price("SBIN", Decimal(780))  # yesterday's stop ended with its day: nothing sells
    [net] = simulator.positions_of("P1", "NetWise")
    assert net.net_qty == 10 and simulator.positions_of("P1", "DayWise") == []
    assert place("SELL", "LIMIT", 780) > stop
