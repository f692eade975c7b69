"""Carrying out `POST /api/algo-place-batch-orders`: every order is checked before anything is written (its
shape and the bounds of its columns, its prices, its account), then each account's valid orders go to the
OrderPlacer as one `PlaceEntries`, and every order is answered with what happened to it and only that:
`invalid` (nothing written), `not_placed` (nothing sent, nothing left pending), `rejected`, `placed`, or
`in_flight` (the request may have reached the broker; the next cycle settles it by its tag). An account whose
placement fails, or gives no answer within `batch_deadline_s`, has its orders answered `in_flight`: any of them
may have been sent.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated, Any

import msgspec

from adapters.store.port import CycleContext
from domain.entries import EntryOutcome, EntryResult, NewEntry
from messages.api import MAX_BATCH_ORDERS, BatchOrder, BatchResult
from messages.commands import PlaceEntries
from messages.control import StepOutcome
from messages.events import EntriesPlaced
from service.web.batch_validation import decode_order, order_problem
from service.web.context import WebContext

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
    entries = tuple(NewEntry(**{field: getattr(order, field) for field in _ENTRY_FIELDS if hasattr(order, field)})
                    for _, order in rows)
    placed = await _placed(context, PlaceEntries(user_id=user_id, account_id=account_id, entries=entries))
    return [BatchResult(index=index, outcome=result.outcome, order_id=result.order_id, tag=result.tag,
                        broker_order_id=result.broker_order_id, reason=result.reason)
            for (index, _), result in zip(rows, placed, strict=True)]


async def _placed(context: WebContext, command: PlaceEntries) -> Sequence[EntryResult]:
    """The OrderPlacer's result for each entry; when it gives none, what can truly be said of them. The
    placement is sent without a deadline: cut short, it would leave rows written and never sent; the user's
    lease is held until it ends."""
    answer = _Answer(asyncio.get_running_loop())
    if not context.system.send(command, answer, deadline_s=None):
        return _each(command, "not_placed", "not sent: the service is stopping")
    context.leases.keep_while(command.user_id, answer.future)
    wait_s = context.settings.batch_deadline_s
    try:
        async with asyncio.timeout(wait_s):
            reply = await answer.future
    except TimeoutError:
        return _each(command, "in_flight", f"no answer within {wait_s:g} s: its placement goes on, and "
                                           "GET /api/orders shows how it ended")
    if isinstance(reply, EntriesPlaced):
        return reply.results
    return _each(command, "in_flight", f"its placement failed ({reply.message}) and it may have been sent: "
                                       "GET /api/orders shows it, and the next cycle settles it by its tag")


def _each(command: PlaceEntries, outcome: EntryOutcome, reason: str) -> list[EntryResult]:
    return [EntryResult(order_id=None, tag="", outcome=outcome, reason=f"account {command.account_id}: {reason}")
            for _ in command.entries]


class _Answer:
    """The reply-to of one `PlaceEntries`: resolves a future of the loop that awaits it from whichever thread
    tells it, so the web handler awaits the actor without blocking the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()

    def tell(self, message: Any) -> None:
        self._loop.call_soon_threadsafe(self._resolve, message)

    def _resolve(self, message: Any) -> None:
        if not self.future.done():
            self.future.set_result(message.events[0] if isinstance(message, StepOutcome) else message)
