"""Carrying out `POST /api/algo-place-batch-orders`: every order is checked before anything is written (its
shape and the bounds of its columns, its prices, its account), then each account's valid orders are placed on
their own (`place_entries`), and every order is answered with what happened to it and only that:
`invalid` (nothing written), `not_placed` (nothing sent, nothing left pending), `rejected`, `placed`, or
`in_flight` (the request may have reached the broker; the next cycle settles it by its tag).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated

import msgspec

from actors.order_placer.entries import NewEntry, place_entries
from adapters.store.port import CycleContext
from domain.broker import BrokerAccount
from domain.broker_errors import BrokerError
from domain.errors import AdapterError
from messages.api import MAX_BATCH_ORDERS, BatchOrder, BatchResult
from service.web.batch_validation import decode_order, order_problem
from service.web.context import WebContext

log = logging.getLogger(__name__)

_ENTRY_FIELDS = NewEntry.__struct_fields__


class RawBatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The body as `BatchRequest` documents it, each order left undecoded so that one order outside the
    schema is answered `invalid` alone instead of refusing the whole batch."""

    orders: Annotated[tuple[msgspec.Raw, ...], msgspec.Meta(min_length=1, max_length=MAX_BATCH_ORDERS)]


async def place_batch(context: WebContext, user_id: int, raw_orders: Sequence[msgspec.Raw],
                      cycle_context: CycleContext) -> list[BatchResult]:
    """One result per order, in the order given."""
    results: dict[int, BatchResult] = {}
    by_account: dict[int, list[tuple[int, BatchOrder]]] = defaultdict(list)
    for index, raw in enumerate(raw_orders):
        order = decode_order(raw)
        problem = order if isinstance(order, str) else order_problem(order) or _account_problem(
            order.account_id, cycle_context)
        if problem:
            results[index] = BatchResult(index=index, outcome="invalid", reason=problem)
        else:
            by_account[order.account_id].append((index, order))
    placed = await asyncio.gather(*(_place_for_account(context, user_id, account_id, rows)
                                    for account_id, rows in by_account.items()))
    for account_results in placed:
        results.update((result.index, result) for result in account_results)
    return [results[index] for index in range(len(raw_orders))]


def _account_problem(account_id: int, cycle_context: CycleContext) -> str | None:
    if account_id in cycle_context.awaiting_session:
        return f"account {account_id} needs a new broker session"
    if account_id not in cycle_context.account_ids:
        return f"account {account_id} is not an active account of yours"
    return None


async def _place_for_account(context: WebContext, user_id: int, account_id: int,
                             rows: list[tuple[int, BatchOrder]]) -> list[BatchResult]:
    account = await _session(context, user_id, account_id)
    if isinstance(account, str):
        return [BatchResult(index=index, outcome="not_placed", reason=f"account {account_id}: {account}")
                for index, _ in rows]
    entries = [NewEntry(**{field: getattr(order, field) for field in _ENTRY_FIELDS if hasattr(order, field)})
               for _, order in rows]
    placed = await place_entries(context.store, context.broker, account, user_id, entries, context.clock.now)
    return [BatchResult(index=index, outcome=result.outcome, order_id=result.order_id, tag=result.tag,
                        broker_order_id=result.broker_order_id, reason=result.reason)
            for (index, _), result in zip(rows, placed, strict=True)]


async def _session(context: WebContext, user_id: int, account_id: int) -> BrokerAccount | str:
    """The account with a session token (logging in with its stored keys when it has none), or why not:
    then nothing of its orders is written or sent."""
    extra = {"user_id": user_id, "account_id": account_id, "step": "place_batch"}
    try:
        accounts = await context.store.broker_accounts(user_id, (account_id,))
    except AdapterError as error:
        log.warning("batch: account %s could not be read: %s", account_id, error.message, extra=extra)
        return f"not sent: the account could not be read ({error.message})"
    if not accounts:
        return "not sent: the account is no longer active"
    account = accounts[0]
    if account.token:
        return account
    try:
        token = await context.broker.login(account)
    except BrokerError as error:
        log.warning("batch: broker login for account %s failed: %s", account_id, error.message, extra=extra)
        return f"not sent: broker login failed ({error.message})"
    try:
        await context.store.set_account_token(user_id, account_id, token)
    except AdapterError as error:
        log.warning("batch: the new session of account %s could not be stored: %s", account_id, error.message,
                    extra=extra)
    return msgspec.structs.replace(account, token=token)
