"""Placing new entry orders: the one code path of the batch API and of regenerated entries.

Each entry's row (PENDING) and its tag's `PendingSubmit` intent are written before anything is sent; a row that
cannot be written is not sent. A row ends `placed` (ENTRY_OPEN), `rejected`, `not_placed` (CANCELLED: surely not
taken) or `in_flight` (`Unconfirmed`: the next order book settles it by its tag).

Given a `Renew` (the batch API's), the entries the broker refused for an expired session (a definitive refusal:
nothing was placed) are sent once more, under the same tags, with the session it gives; an ambiguous failure is
never sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal

import msgspec

from adapters.store.port import OrderStore
from domain.broker import BrokerAccount, OrderRequest, PlaceAck
from domain.broker_errors import BrokerError, BrokerRejected, SessionExpired
from domain.entries import EntryResult, NewEntry
from domain.errors import AdapterError
from domain.ports.broker import Broker
from domain.records import OrderRow, plan_fields
from domain.status import OrderStatus, TradeStatus
from domain.tags import order_tag

log = logging.getLogger(__name__)

REASON_MAX_CHARS = 255
"""`orders.reject_reason` is VARCHAR(255): a longer reason is cut to it in the row (the answer keeps it whole)."""

Renew = Callable[[BrokerAccount], Awaitable[BrokerAccount | BrokerError | None]]
"""The account with a new session after the broker called its session expired, why there is none, or None when
the expiry stands (no renewal)."""


def entry_request(entry: NewEntry, tag: str) -> OrderRequest:
    return OrderRequest(
        exchange_segment=entry.exchange_segment, instrument_id=entry.instrument_id, symbol=entry.symbol,
        side=entry.side, order_type=entry.entry_type, quantity=entry.quantity, tag=tag, product_type=entry.product_type,
        limit_price=entry.entry_limit_price or Decimal(0), stop_price=entry.entry_stop_price or Decimal(0))


def _entry_tag(order_id: int) -> str:
    return order_tag(order_id, "entry", 1)


async def place_entries(store: OrderStore, broker: Broker, account: BrokerAccount, user_id: int,
                        entries: Sequence[NewEntry], now: Callable[[], datetime],
                        renew: Renew | None = None) -> list[EntryResult]:
    """One result per entry, in order. Raises nothing but cancellation: every failure is an outcome."""
    results: list[EntryResult | None] = [None] * len(entries)
    written: list[tuple[int, int, OrderRequest]] = []
    for index, entry in enumerate(entries):
        written_id = await _write(store, account, user_id, entry, now())
        if isinstance(written_id, str):
            results[index] = EntryResult(order_id=None, tag="", outcome="not_placed", reason=written_id)
        else:
            written.append((index, written_id, entry_request(entry, _entry_tag(written_id))))
    requests = [request for _, _, request in written]
    outcomes = await _send(broker, account, user_id, requests)
    if renew is not None:
        outcomes = await _sent_again(broker, account, user_id, requests, outcomes, renew)
    for (index, order_id, request), outcome in zip(written, outcomes, strict=True):
        results[index] = await _settle(store, account.account_id, user_id, order_id, request.tag, outcome, now())
    return [result for result in results if result is not None]


async def _write(store: OrderStore, account: BrokerAccount, user_id: int, entry: NewEntry, at: datetime) -> int | str:
    """The new order's id, or why its row could not be written (then nothing of it was)."""
    row = OrderRow(user_id=user_id, account_id=account.account_id, **plan_fields(entry),
                   regenerated_from=entry.regenerated_from,
                   regeneration_attempt=entry.regeneration_attempt, status=TradeStatus.PENDING,
                   entry_orderstatus=OrderStatus.PENDING_SUBMIT, legs_changed_at=at)
    try:
        return await store.insert_order(row, entry_tag=_entry_tag)
    except AdapterError as error:
        log.warning("entry of %s %s on account %s not written, not sent: %s", entry.side, entry.symbol,
                    account.account_id, error.message,
                    extra={"user_id": user_id, "account_id": account.account_id, "step": "place_entries"})
        return f"not sent: the order could not be written ({error.message})"


async def _send(broker: Broker, account: BrokerAccount, user_id: int,
                requests: list[OrderRequest]) -> list[PlaceAck | BrokerError]:
    if not requests:
        return []
    try:
        return await broker.place_batch(account, requests)
    except Exception as error:
        log.exception("placing %d entries on account %s failed unexpectedly", len(requests), account.account_id,
                      extra={"user_id": user_id, "account_id": account.account_id, "step": "place_entries"})
        return [BrokerError(f"unexpected failure ({type(error).__name__}); the order may exist at the broker",
                            ambiguous=True)] * len(requests)


async def _sent_again(broker: Broker, account: BrokerAccount, user_id: int, requests: list[OrderRequest],
                      outcomes: list[PlaceAck | BrokerError], renew: Renew) -> list[PlaceAck | BrokerError]:
    """`outcomes`, where the broker refused a request for an expired session, replaced by that request's outcome
    with the renewed session (or by why the session was not renewed)."""
    expired = [index for index, outcome in enumerate(outcomes)
               if isinstance(outcome, SessionExpired) and not outcome.ambiguous]
    if not expired:
        return outcomes
    renewed = await renew(account)
    if renewed is None:
        return outcomes
    again: list[PlaceAck | BrokerError] = [renewed] * len(expired) if isinstance(renewed, BrokerError) \
        else await _send(broker, renewed, user_id, [requests[index] for index in expired])
    replaced = dict(zip(expired, again, strict=True))
    return [replaced.get(index, outcome) for index, outcome in enumerate(outcomes)]


async def _settle(store: OrderStore, account_id: int, user_id: int, order_id: int, tag: str,
                  outcome: PlaceAck | BrokerError, at: datetime) -> EntryResult:
    """Write what the broker answered; the answer stays true when that write fails (the row keeps its tag and
    `PendingSubmit`, and the next order book settles it)."""
    changes, result = _outcome(order_id, tag, outcome)
    try:
        await store.apply_order_updates(user_id, account_id, [(order_id, 1, {**changes, "legs_changed_at": at})])
    except AdapterError as error:
        log.warning("order %s: the broker's answer (%s) could not be written: %s", order_id, result.outcome,
                    error.message, extra={"user_id": user_id, "account_id": account_id, "step": "place_entries"})
        written = "its row is settled by the next order book"
        return msgspec.structs.replace(result, reason=f"{result.reason}; {written}" if result.reason else written)
    return result


def _outcome(order_id: int, tag: str, outcome: PlaceAck | BrokerError) -> tuple[dict, EntryResult]:
    if isinstance(outcome, PlaceAck):
        return ({"entry_order_id": outcome.app_order_id, "entry_orderstatus": OrderStatus.NEW,
                 "status": TradeStatus.ENTRY_OPEN},
                EntryResult(order_id=order_id, tag=tag, outcome="placed", broker_order_id=outcome.app_order_id))
    if outcome.ambiguous:
        return ({"entry_orderstatus": OrderStatus.UNCONFIRMED},
                EntryResult(order_id=order_id, tag=tag, outcome="in_flight", reason=outcome.message))
    if isinstance(outcome, BrokerRejected):
        return ({"entry_orderstatus": OrderStatus.REJECTED, "status": TradeStatus.REJECTED,
                 "reject_reason": outcome.reason[:REASON_MAX_CHARS]},
                EntryResult(order_id=order_id, tag=tag, outcome="rejected", reason=outcome.reason))
    return ({"entry_orderstatus": OrderStatus.NOT_SENT, "status": TradeStatus.CANCELLED,
             "reject_reason": outcome.message[:REASON_MAX_CHARS]},
            EntryResult(order_id=order_id, tag=tag, outcome="not_placed", reason=outcome.message))
