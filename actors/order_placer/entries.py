"""Placing new entry orders: the one code path of the batch API and of regenerated entries (Step 9).

Each entry becomes an `orders` row (PENDING), gets its deterministic entry tag written with
`PendingSubmit` before anything is sent, then the account's entries go to the broker as one batch (single
placements sent concurrently within the broker's pace). Each row ends ENTRY_OPEN with its broker order id,
REJECTED with the broker's reason, or in flight (`Unconfirmed`) when the answer was ambiguous.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

import msgspec

from actors.order_placer.tags import PENDING_SUBMIT, UNCONFIRMED, order_tag
from adapters.broker.errors import BrokerError, BrokerRejected
from adapters.broker.port import Broker
from adapters.broker.types import BrokerAccount, OrderRequest, OrderType, PlaceAck, Side
from adapters.store.port import Store
from adapters.store.rows import OrderRow


class NewEntry(msgspec.Struct, frozen=True, kw_only=True):
    """An entry order to place, with the prices of its future stop-loss and take-profit."""

    strategy: str
    symbol: str
    exchange_segment: str
    instrument_id: int
    side: Side
    quantity: int
    entry_type: OrderType
    entry_stop_price: Decimal | None = None
    entry_limit_price: Decimal | None = None
    sl_stop_price: Decimal | None = None
    tp_price: Decimal | None = None
    product_type: str = "NRML"
    regenerated_from: int | None = None
    regeneration_attempt: int = 0


class EntryResult(msgspec.Struct, frozen=True, kw_only=True):
    order_id: int
    tag: str
    outcome: str
    """"placed", "rejected" or "in_flight"."""
    broker_order_id: int | None = None
    reason: str = ""


def entry_request(entry: NewEntry, tag: str) -> OrderRequest:
    return OrderRequest(
        exchange_segment=entry.exchange_segment, instrument_id=entry.instrument_id, side=entry.side,
        order_type=entry.entry_type, quantity=entry.quantity, tag=tag, product_type=entry.product_type,
        limit_price=entry.entry_limit_price or Decimal(0), stop_price=entry.entry_stop_price or Decimal(0))


async def place_entries(store: Store, broker: Broker, account: BrokerAccount, user_id: int,
                        entries: Sequence[NewEntry], now: Callable[[], datetime]) -> list[EntryResult]:
    rows: list[tuple[OrderRow, OrderRequest, int]] = []
    for entry in entries:
        row = OrderRow(user_id=user_id, account_id=account.account_id, strategy=entry.strategy, symbol=entry.symbol,
                       exchange_segment=entry.exchange_segment, instrument_id=entry.instrument_id, side=entry.side,
                       quantity=entry.quantity, entry_type=entry.entry_type, entry_stop_price=entry.entry_stop_price,
                       entry_limit_price=entry.entry_limit_price, sl_stop_price=entry.sl_stop_price,
                       tp_price=entry.tp_price, regenerated_from=entry.regenerated_from,
                       regeneration_attempt=entry.regeneration_attempt, status="PENDING")
        order_id = await store.insert_order(row)
        tag = order_tag(order_id, "entry", 1)
        intent = {"entry_tag": tag, "entry_orderstatus": PENDING_SUBMIT, "legs_changed_at": now()}
        versions = await store.apply_order_updates(user_id, account.account_id, [(order_id, row.version, intent)])
        rows.append((msgspec.structs.replace(row, id=order_id), entry_request(entry, tag), versions[order_id]))
    outcomes = await broker.place_batch(account, [request for _, request, _ in rows]) if rows else []
    results: list[EntryResult] = []
    for (row, request, version), outcome in zip(rows, outcomes, strict=True):
        changes, result = _settle(row.id, request.tag, outcome)
        changes["legs_changed_at"] = now()
        await store.apply_order_updates(user_id, account.account_id, [(row.id, version, changes)])
        results.append(result)
    return results


def _settle(order_id: int, tag: str, outcome: PlaceAck | BrokerError) -> tuple[dict, EntryResult]:
    if isinstance(outcome, PlaceAck):
        return ({"entry_order_id": outcome.app_order_id, "entry_orderstatus": "New", "status": "ENTRY_OPEN"},
                EntryResult(order_id=order_id, tag=tag, outcome="placed", broker_order_id=outcome.app_order_id))
    if outcome.ambiguous:
        return ({"entry_orderstatus": UNCONFIRMED},
                EntryResult(order_id=order_id, tag=tag, outcome="in_flight", reason=outcome.message))
    reason = outcome.reason if isinstance(outcome, BrokerRejected) else outcome.message
    return ({"entry_orderstatus": "Rejected", "status": "REJECTED", "reject_reason": reason},
            EntryResult(order_id=order_id, tag=tag, outcome="rejected", reason=reason))
