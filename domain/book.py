"""The order-book index: an order's legs found in a fetched book by tag first, then by broker order id, and the
exit fills of every attempt of an order's SL and TP legs, the book's merged into the order's record. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property

from domain.broker import BrokerOrder
from domain.records import ExitFill, OrderRow
from domain.status import OPEN_STATUSES
from domain.tags import parse_tag

MONEY_PLACES = Decimal("0.0001")
"""DECIMAL(18,4): what the database keeps of a price or an amount."""


def money(value: Decimal) -> Decimal:
    return value.quantize(MONEY_PLACES, rounding=ROUND_HALF_EVEN)


class BookIndex:
    """One account's order book, indexed for leg lookups. Of rows sharing a tag the oldest wins."""

    def __init__(self, rows: Iterable[BrokerOrder]) -> None:
        self.rows = tuple(sorted(rows, key=lambda r: r.app_order_id))
        self.by_id = {row.app_order_id: row for row in self.rows}
        self.by_tag: dict[str, BrokerOrder] = {}
        for row in self.rows:
            if row.tag:
                self.by_tag.setdefault(row.tag, row)

    @cached_property
    def live_by_leg(self) -> dict[tuple[int, str], list[BrokerOrder]]:
        """Live rows carrying one of this service's tags, by (internal order id, leg), in book order;
        built once per book so that looking up an order's legs does not scan the whole book."""
        index: dict[tuple[int, str], list[BrokerOrder]] = {}
        for row in self.rows:
            if row.status in OPEN_STATUSES and (parsed := parse_tag(row.tag)) is not None:
                index.setdefault(parsed[:2], []).append(row)
        return index

    @cached_property
    def _exit_rows_by_leg(self) -> dict[tuple[int, str], list[BrokerOrder]]:
        """Rows of any status carrying one of this service's SL or TP tags, by (internal order id, leg)."""
        index: dict[tuple[int, str], list[BrokerOrder]] = {}
        for row in self.rows:
            if (parsed := parse_tag(row.tag)) is not None and parsed[1] in ("sl", "tp"):
                index.setdefault(parsed[:2], []).append(row)
        return index

    def exit_attempts(self, order_id: int, leg: str) -> list[BrokerOrder]:
        """Every row of this book of any attempt of the order's SL or TP leg, in book order."""
        return self._exit_rows_by_leg.get((order_id, leg), [])

    def exit_fills(self, order: OrderRow) -> tuple[ExitFill, ...]:
        """Every exit fill of the order, by broker order id: its record (`order.exit_fills`) with each row of
        this book that filled part of its SL or TP in place of what the record holds of that row. The rows
        are every attempt of each leg (an attempt that filled part and was then cancelled or expired counts)
        and the tracked row of a leg even when it carries no tag of ours; a recorded row the book no longer
        lists (an exit of an earlier day) stays."""
        rows = {row.app_order_id: row
                for leg in ("sl", "tp") for row in self._exit_rows_by_leg.get((order.id, leg), ())}
        for leg in ("sl", "tp"):
            if (tracked := self.leg(order, leg)) is not None:
                rows.setdefault(tracked.app_order_id, tracked)
        filled = [ExitFill(app_order_id=row.app_order_id, qty=row.filled_qty, avg_price=money(row.avg_price))
                  for row in rows.values() if row.filled_qty > 0 and row.avg_price is not None]
        if not filled:
            return order.exit_fills
        fills = {fill.app_order_id: fill for fill in (*order.exit_fills, *filled)}
        return tuple(fills[app_order_id] for app_order_id in sorted(fills))

    def leg(self, order: object, leg: str) -> BrokerOrder | None:
        """The row of the order's current attempt of `leg`: by its tag, else by the broker order id on record
        unless that row carries another tag of ours (a row of an earlier attempt, whose id the record still
        holds while the current attempt is in flight)."""
        tag = order.of_leg(leg, "tag")
        if tag and tag in self.by_tag:
            return self.by_tag[tag]
        row = self.by_id.get(order.of_leg(leg, "order_id"))
        if row is None or (tag and row.tag != tag and parse_tag(row.tag) is not None):
            return None
        return row
