"""A client's orders, on a replica that does not hold the user's lease while another live one does, sent to that
one over the fan-out (README, *Replicas*): its greeting, `run_cycle`, pause and resume, and batches. The holder
is found by its lease row and asked on its own subject; what comes back is its answer. When none comes, the
client is told what is known and only that: nothing was done when the request surely reached no holder (the
link is down, or the holder is not on it, or it no longer holds the user), and that it may have been done when
the request went out and no answer came in time.

The user of every order is the one this replica authenticated the client as; the holder trusts it because
only replicas use these subjects (README: the trust model).
"""

from __future__ import annotations

import logging

import msgspec
from aiohttp import web

from adapters.store.port import Lease
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
from service.fanout.bus import NoAnswer, NotDelivered
from service.web import idempotency
from service.web.context import WebContext
from service.web.replica import refusal

log = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()
_answers = msgspec.json.Decoder(ReplicaAnswer)

HOLDER_CHANGED = "the replica that held your lease no longer monitors you"
HOLDER_UNREACHABLE = "holder_unreachable"
"""The `reason` of a batch refused because it could not be sent to the holder (nothing written or sent)."""
HOLDER_CHANGED_REASON = "holder_changed"
"""The `reason` of a batch the replica it was sent to no longer held the user for (nothing written or sent)."""
HOLDER_SILENT = "holder_silent"
"""The `reason` of a 504: the batch went to the holder and no answer came; it may have been placed."""


async def ask(fanout: FanOut, lease: Lease, order: ReplicaOrder, timeout_s: float) -> ReplicaAnswer:
    """The answer of the replica holding `lease`; NotDelivered or NoAnswer as `ReplicaBus.request`."""
    data = await fanout.bus.request(fanout.bus.subjects.replica(lease.owner), _encoder.encode(order), timeout_s)
    try:
        return _answers.decode(data)
    except msgspec.DecodeError as error:
        raise NoAnswer(f"the replica monitoring you answered what this one cannot read ({error})") from None


def _timeout_s(fanout: FanOut) -> float:
    return fanout.bus.config.request_timeout_s


async def holder_state(context: WebContext, fanout: FanOut, user_id: int) -> HolderState | None:
    """The holder's state for a `hello`; None when no other replica monitors the user or none could say."""
    lease = await context.store.lease_elsewhere(user_id)
    if lease is None:
        return None
    try:
        answer = await ask(fanout, lease, GreetingWanted(user_id=user_id), _timeout_s(fanout))
    except (NotDelivered, NoAnswer) as error:
        log.info("hello of user %s says monitoring false: %s", user_id, error, extra={"user_id": user_id})
        return None
    return answer if isinstance(answer, HolderState) else None


async def run_cycle(context: WebContext, fanout: FanOut, user_id: int) -> str | None:
    """Ask the holder to run a cycle now; None when it started one, else the client's error message."""
    lease = await context.store.lease_elsewhere(user_id)
    if lease is None:
        return "run_cycle refused: no replica monitors you at this moment; nothing was started"
    try:
        answer = await ask(fanout, lease, CycleWanted(user_id=user_id), _timeout_s(fanout))
    except NotDelivered as error:
        return f"run_cycle not delivered: {error}; nothing was started"
    except NoAnswer as error:
        return f"run_cycle: {error}; a cycle may or may not start (its cycle_started frame would say)"
    match answer:
        case CycleAnswer(started=True):
            return None
        case CycleAnswer(message=message) | OrderFailed(message=message):
            return message
        case _:
            return f"run_cycle not delivered: {HOLDER_CHANGED}; nothing was started, try again"


async def switch(context: WebContext, fanout: FanOut, lease: Lease, user_id: int, paused: bool,
                 reason: str) -> SwitchAnswer | str:
    """The holder's answer to a pause or resume, or why none came (then it may or may not have been applied)."""
    try:
        answer = await ask(fanout, lease, SwitchWanted(user_id=user_id, paused=paused, reason=reason),
                           _timeout_s(fanout))
    except (NotDelivered, NoAnswer) as error:
        return str(error)
    match answer:
        case SwitchAnswer():
            return answer
        case OrderFailed(message=message):
            return message
        case _:
            return HOLDER_CHANGED


async def batch(context: WebContext, fanout: FanOut, lease: Lease, user_id: int, key: str | None,
                body: bytes) -> web.Response:
    """The holder's answer to the batch, or the truth about it when none came."""
    wait_s = max(context.settings.batch_deadline_s, idempotency.WAIT_FOR_FIRST_S) + _timeout_s(fanout)
    order = BatchWanted(user_id=user_id, idempotency_key=key, body=msgspec.Raw(body))
    try:
        answer = await ask(fanout, lease, order, wait_s)
    except NotDelivered as error:
        return refusal(context, lease, HOLDER_UNREACHABLE,
                       f"another replica monitors this user and alone places their orders, and {error}")
    except NoAnswer as error:
        log.warning("batch of user %s forwarded, unanswered: %s", user_id, error,
                    extra={"user_id": user_id, "step": "place_batch"})
        again = (f"sent again with the same {idempotency.HEADER}, it gets that replica's answer instead of being "
                 "placed twice" if key is not None else
                 f"it had no {idempotency.HEADER}: do not send it again before GET /api/orders shows whether it "
                 "was placed")
        return web.Response(body=_encoder.encode({
            "error": f"{error}: the batch may have been placed there. GET /api/orders shows it; {again}",
            "reason": HOLDER_SILENT}), status=504, content_type="application/json")
    match answer:
        case HttpAnswer(status=status, headers=headers, body=answer_body):
            return web.Response(body=bytes(answer_body), status=status, headers=headers,
                                content_type="application/json")
        case NotHolder():
            return refusal(context, lease, HOLDER_CHANGED_REASON,
                           "the replica that held this user's lease no longer monitors them")
        case _:
            return refusal(context, lease, HOLDER_UNREACHABLE, "the replica monitoring this user could not take it")
