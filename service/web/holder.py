"""The holder's desk: answers the orders other replicas forward for their clients (service/web/forward.py), on
this replica's own subject, for the users whose lease this replica holds (README, *Replicas*).

Each order is carried out as it would be for a client connected here, and answered with what happened: the
greeting's state, a cycle started or refused, the kill switch stored or not, a batch's HTTP answer. A user this
replica does not hold is answered `not_holder`, and nothing is done: a batch is placed only when the lease row
says no other live replica holds the user, as for one sent here. Orders are carried out side by side (a batch
may wait for its placement), and an order this replica cannot read is answered as failed, nothing done.
"""

from __future__ import annotations

import asyncio
import logging

import msgspec
from aiohttp import web
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from domain.errors import AdapterError, DatabaseError
from messages.replicas import (
    BatchWanted,
    CycleAnswer,
    CycleWanted,
    GreetingWanted,
    HolderState,
    HttpAnswer,
    NotHolder,
    OrderFailed,
    ReplicaAnswer,
    ReplicaOrder,
    SwitchAnswer,
    SwitchWanted,
)
from service.fanout import FanOut
from service.web import kill_switch
from service.web.api import batch_answer, decoded_body
from service.web.batch import RawBatch
from service.web.context import WebContext
from service.web.error_answers import DATABASE_UNAVAILABLE, INTERNAL_ERROR
from service.web.idempotency import IdempotencyKeys
from service.web.manual_cycle import start_manual_cycle

log = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()
_orders = msgspec.json.Decoder(ReplicaOrder)
PASSED_HEADERS = ("Retry-After", "Idempotent-Replayed")
"""The headers of a batch's answer that go back with it (its content type is always JSON)."""


class HolderDesk:
    def __init__(self, context: WebContext, fanout: FanOut, keys: IdempotencyKeys, owner: str) -> None:
        """`owner`: this process's name in the lease rows, which the other replicas address it by."""
        self._context = context
        self._bus = fanout.bus
        self._keys = keys
        self._subject = fanout.bus.subjects.replica(owner)
        self._subscription: Subscription | None = None
        self._answering: set[asyncio.Task[None]] = set()
        fanout.bus.on_link(self._on_link)

    async def _on_link(self, up: bool) -> None:
        if up and self._subscription is None:
            self._subscription = await self._bus.subscribe(self._subject, self._on_order)

    async def close(self) -> None:
        if self._subscription is not None:
            await self._bus.unsubscribe(self._subscription)
        for task in list(self._answering):
            task.cancel()
        await asyncio.gather(*self._answering, return_exceptions=True)

    async def _on_order(self, message: Msg) -> None:
        answering = asyncio.ensure_future(self._answer(message))
        self._answering.add(answering)
        answering.add_done_callback(self._answering.discard)

    async def _answer(self, message: Msg) -> None:
        try:
            order = _orders.decode(message.data)
        except msgspec.DecodeError as error:
            log.warning("fan-out: an order this replica cannot read, answered as failed: %s", error)
            answer: ReplicaAnswer = OrderFailed(message=f"the replica monitoring you could not read the order "
                                                        f"({error}); nothing was done")
        else:
            try:
                answer = await self._carry_out(order)
            except AdapterError as error:
                log.warning("fan-out: the %s order of user %s failed: %s", type(order).__struct_config__.tag,
                            order.user_id, error.message, extra={"user_id": order.user_id})
                answer = OrderFailed(message=f"the replica monitoring you failed: {error.message}")
        try:
            await message.respond(_encoder.encode(answer))
        except Exception as error:
            log.warning("fan-out: an answer not sent: %s", type(error).__name__)

    async def _carry_out(self, order: ReplicaOrder) -> ReplicaAnswer:
        context, user_id = self._context, order.user_id
        if isinstance(order, BatchWanted):
            if await context.store.lease_elsewhere(user_id) is not None:
                return NotHolder()
            return await self._place_batch(order)
        if not context.leases.monitors(user_id):
            return NotHolder()
        match order:
            case GreetingWanted():
                cycle_context = await context.store.load_cycle_context(user_id)
                return HolderState(paused=cycle_context.paused, pause_reason=cycle_context.pause_reason,
                                   interval_s=context.interval_s)
            case CycleWanted():
                refused = start_manual_cycle(context, user_id)
                return CycleAnswer(started=refused is None, message=refused or "")
            case SwitchWanted(paused=paused, reason=reason):
                try:
                    stored = await kill_switch.turn_here(context, user_id, paused, reason)
                except kill_switch.SwitchFailed as failure:
                    return SwitchAnswer(applied=False, message=failure.message)
                return SwitchAnswer(applied=True, reason=stored)
        raise AssertionError(f"unknown order {order!r}")

    async def _place_batch(self, order: BatchWanted) -> HttpAnswer:
        """The answer `POST /api/algo-place-batch-orders` would give here, the errors middleware's included."""
        body = bytes(order.body)
        try:
            response: web.Response = await batch_answer(self._context, self._keys, order.user_id,
                                                        order.idempotency_key, body,
                                                        decoded_body(body, RawBatch))
        except web.HTTPException as refused:
            response = refused
        except DatabaseError as error:
            log.warning("fan-out: batch of user %s: %s", order.user_id, error.message,
                        extra={"user_id": order.user_id, "error_kind": error.kind.value})
            return HttpAnswer(status=503, body=msgspec.Raw(_encoder.encode({"error": DATABASE_UNAVAILABLE})))
        except Exception:
            log.exception("fan-out: batch of user %s failed", order.user_id, extra={"user_id": order.user_id})
            return HttpAnswer(status=500, body=msgspec.Raw(_encoder.encode({"error": INTERNAL_ERROR})))
        return HttpAnswer(status=response.status, body=msgspec.Raw(bytes(response.body)),
                          headers={name: response.headers[name] for name in PASSED_HEADERS
                                   if name in response.headers})
