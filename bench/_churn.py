"""Churn for the cycle benchmark: each call changes a given share of every account's order-book rows at the
paper broker, as a market day does, and keeps each book's size and every row's place in it.

A day's book only grows, and a filled order never changes again (the service's FIFO takes each order's fill at
its update time). So the rows that change are, in this order of preference:
- the service's own open orders (SL, TP, waiting entries), re-reported by the exchange with a new update time
  (`restamp`): their bytes change and their meaning does not, so the service has nothing to act on;
- other open orders, filled in part (40 %), filled (30 %) or cancelled (30 %);
- other finished orders with nothing filled (cancelled, rejected), each giving its place in the listing to a new
  order (`replace_finished`): a LIMIT away from the price that rests (60 %), a MARKET that fills at once (30 %),
  or one the broker rejects (10 %). A new order takes the place instead of adding a row, so the book's size holds.
Only when a level asks for more rows than those (100 % does) are other filled orders replaced too, their fills
leaving the book, and then the service's own filled entries re-reported (`restamp`, which moves their fill later
in FIFO order; they are never replaced, as the service would rightly report its trades' legs gone): a book that
is new from end to end, the worst case, counted apart as `filled_replaced` and `filled restamped`.
"""

from __future__ import annotations

import random
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

TICK = Decimal("0.05")


def _on_tick(value: Decimal) -> Decimal:
    return (value / TICK).quantize(Decimal(1), ROUND_HALF_UP) * TICK


def churn(simulator: Any, client_ids: list[str], percent: float, rng: random.Random) -> dict[str, int]:
    """Change `percent` % of each account's rows, the fraction of a row rounded up or down at random in proportion
    (so 10 % of a 4-row book is one row 40 % of the time); counts by kind."""
    counts: Counter[str] = Counter()
    for client_id in client_ids:
        orders = simulator.orders_of(client_id)
        share = len(orders) * percent / 100
        wanted = min(len(orders), int(share) + (rng.random() < share - int(share)))
        changeable = [order for order in orders if order.is_open or not order.filled_qty]
        filled = [order for order in orders if not order.is_open and order.filled_qty and not order.tag]
        own_filled = [order for order in orders if not order.is_open and order.filled_qty and order.tag]
        chosen = rng.sample(changeable, min(wanted, len(changeable)))
        chosen += rng.sample(filled, min(wanted - len(chosen), len(filled)))
        chosen += rng.sample(own_filled, wanted - len(chosen))
        for order in chosen:
            counts[_change(simulator, client_id, order, rng)] += 1
    return dict(counts)


def _change(simulator: Any, client_id: str, order: Any, rng: random.Random) -> str:
    if order.tag or (order.order_type in ("STOPLIMIT", "STOPMARKET") and not order.triggered):
        simulator.restamp(client_id, order.app_order_id)
        return "restamped" if order.is_open else "filled restamped"
    if order.is_open:
        roll = rng.random()
        remaining = order.quantity - order.filled_qty
        if roll < 0.4 and remaining > 1:
            simulator.execute(client_id, order.app_order_id, rng.randint(1, remaining - 1))
            return "part_filled"
        if roll < 0.7:
            simulator.execute(client_id, order.app_order_id, remaining)
            return "filled"
        simulator.cancel(client_id, order.app_order_id)
        return "cancelled"
    return ("filled_replaced" if order.filled_qty else "replaced") + _replace(simulator, client_id, order, rng)


def _replace(simulator: Any, client_id: str, order: Any, rng: random.Random) -> str:
    """A new order in the finished one's place; the kind of the new order, as a suffix."""
    from adapters.broker.paper.simulator import MaxQuantityRule, OrderTicket

    instrument = order.instrument
    side = rng.choice(("BUY", "SELL"))
    roll = rng.random()
    order_type, limit = "MARKET", Decimal(0)
    if roll < 0.6 or roll >= 0.9:
        order_type = "LIMIT"
        limit = _on_tick(instrument.ltp * (Decimal("0.8") if side == "BUY" else Decimal("1.2")))
    quantity = rng.randint(1, 50)
    rejected = roll >= 0.9
    if rejected:
        simulator.reject_rules = [MaxQuantityRule(quantity=quantity - 1, reason="RMS:Margin Exceeds")]
    ticket = OrderTicket(client_id=client_id, segment=instrument.segment, instrument_id=instrument.instrument_id,
                         side=side, order_type=order_type, product_type="NRML", quantity=quantity,
                         limit_price=limit, stop_price=Decimal(0), tag="")
    try:
        simulator.replace_finished(client_id, order.app_order_id, ticket)
    finally:
        simulator.reject_rules = []
    return " by a rejected one" if rejected else " by a resting one" if order_type == "LIMIT" else " by a filled one"
