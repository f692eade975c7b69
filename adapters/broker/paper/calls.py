"""What every request of either face (XTS, Kite) goes through before its route answers: added latency, a
scripted or chaos fault rendered the face's way, and the journal of order requests; plus the HTTP layer's own
state (`PaperState`) they share with the control API.

A face says who is calling and how its faults look (`Face`); the wrapper (`paper_route`) owns the order of
things. Matching lives in `simulator.py`, each face's fields and envelope in its own module.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple, Protocol

import msgspec
from aiohttp import web

from adapters.broker.paper.simulator import Simulator

Route = Literal["login", "logout", "profile", "order_book", "trade_book", "positions", "place", "modify", "cancel"]
"""The routes faults name; `profile` is Kite's only."""
FaultKind = Literal["session_expired", "http_500", "timeout", "reset", "malformed", "slow", "accept_then_500"]
MalformedShape = Literal["wrong_types", "invalid_json"]
ORDER_ROUTES = frozenset({"place", "modify", "cancel"})
DEFAULT_HOLD_MS = 30_000
_json_body = msgspec.json.Decoder(float_hook=Decimal)


class FaultControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    route: Route | Literal["*"]
    kind: FaultKind
    account: str = "*"
    count: int = 1
    delay_ms: int = 0
    shape: MalformedShape = "wrong_types"


class ChaosControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Fault a random share of every request of either face (after scripted faults), each with a kind drawn
    from `kinds` (`accept_then_500` only on order routes). `rate` 0 turns it off."""

    rate: float = 0.0
    kinds: tuple[FaultKind, ...] = ("session_expired", "http_500", "timeout", "reset", "malformed", "slow")
    timeout_ms: int = 1_500
    """How long a `timeout` fault holds the answer: longer than the client's call timeout."""
    slow_ms: int = 300
    """How long a `slow` fault delays a normal answer: shorter than the client's call timeout."""


class JournalEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One order request as received, and what the paper broker did with it."""

    seq: int
    route: Route
    account: str
    tag: str
    app_order_id: int | None
    outcome: Literal["accepted", "refused", "session_expired", "faulted"]
    fault: str = ""
    detail: str = ""
    received_at: datetime
    peer: str = ""
    """The address the request came from (which replica sent it, when several share the broker)."""


@dataclass
class _Fault:
    rule: FaultControl
    remaining: int


class Answer(NamedTuple):
    """An answer as it goes on the wire: the HTTP status and the encoded body (JSON)."""

    status: int
    body: bytes

    def response(self) -> web.Response:
        return web.Response(status=self.status, body=self.body, content_type="application/json")


ReadKey = tuple[str, Route, str, str]
"""(face, route, client id, position view or ""): whose read answer is kept."""


@dataclass
class Call:
    """One request as the paper broker sees it before answering."""

    route: Route
    account: str        # the session's client id ("" when the session is unknown); login: the app key
    tag: str            # the order's tag, when the request carries one
    body: Any           # the decoded JSON (or form) body of POST and PUT; None when it does not decode
    received_at: datetime
    request: web.Request
    fault: str = ""


@dataclass
class PaperState:
    """The HTTP layer's own state: faults, latency, the order journal, the kept read answers."""

    simulator: Simulator
    rng: random.Random
    faults: list[_Fault] = field(default_factory=list)
    latency_ms: tuple[int, int] = (0, 0)
    journal: list[JournalEntry] = field(default_factory=list)
    chaos: ChaosControl = field(default_factory=ChaosControl)
    chaos_injected: dict[str, int] = field(default_factory=dict)
    shutting_down: asyncio.Event = field(default_factory=asyncio.Event)
    kept_reads: dict[ReadKey, tuple[Hashable, Answer]] = field(default_factory=dict)

    def read_answer(self, key: ReadKey, stamp: Hashable, render: Callable[[], Answer]) -> Answer:
        """The kept answer of `key` while it was rendered at `stamp`; else `render()`, kept from now on."""
        kept = self.kept_reads.get(key)
        if kept is None or kept[0] != stamp:
            kept = self.kept_reads[key] = (stamp, render())
        return kept[1]

    def add_fault(self, rule: FaultControl) -> int:
        """Script `rule`; how many faulted requests are pending now."""
        self.faults.append(_Fault(rule, rule.count))
        return sum(f.remaining for f in self.faults)

    def take_fault(self, route: Route, account: str) -> FaultControl | None:
        for fault in self.faults:
            rule = fault.rule
            if fault.remaining > 0 and rule.route in (route, "*") and rule.account in (account, "*"):
                fault.remaining -= 1
                return rule
        return self._chaos_fault(route)

    def _chaos_fault(self, route: Route) -> FaultControl | None:
        chaos = self.chaos
        if chaos.rate <= 0 or self.rng.random() >= chaos.rate:
            return None
        kinds = [k for k in chaos.kinds if k != "accept_then_500" or route in ORDER_ROUTES]
        if not kinds:
            return None
        kind = self.rng.choice(kinds)
        self.chaos_injected[kind] = self.chaos_injected.get(kind, 0) + 1
        return FaultControl(route=route, kind=kind, delay_ms=chaos.timeout_ms if kind == "timeout" else chaos.slow_ms,
                            shape=self.rng.choice(("wrong_types", "invalid_json")))

    def record(self, call: Call, **entry: Any) -> None:
        self.journal.append(JournalEntry(seq=len(self.journal) + 1, route=call.route, account=call.account,
                                         tag=call.tag, fault=call.fault, received_at=call.received_at,
                                         peer=call.request.remote or "", **entry))


STATE = web.AppKey("paper_state", PaperState)

Handler = Callable[[PaperState, Call], Awaitable[web.Response]]


class Face(Protocol):
    """A wire format the paper broker speaks: who a request comes from, and its faults spelled that way."""

    name: str

    def caller(self, state: PaperState, route: Route, request: web.Request, fields: dict[str, Any]
               ) -> tuple[str, str]:
        """(account, tag) of a request: the session's client id ("" when unknown; login: the app key)."""
        ...

    def session_expired(self) -> web.Response: ...

    def server_error(self) -> web.Response:
        """An HTTP 500 (`http_500`, `accept_then_500`)."""
        ...

    def gateway_timeout(self) -> web.Response:
        """The answer after a `timeout` fault's hold."""
        ...

    def malformed(self, route: Route, shape: MalformedShape) -> web.Response: ...


async def read_body(request: web.Request) -> Any:
    """A POST or PUT body: a form as a dict, else JSON with fractions as `Decimal` (None when it does not
    decode)."""
    raw = await request.read()
    if not raw:
        return {}
    if request.content_type == "application/x-www-form-urlencoded":
        return dict(await request.post())
    try:
        return _json_body.decode(raw)
    except msgspec.DecodeError:
        return None


def paper_route(face: Face, route: Route, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a route's handler with what every request goes through: latency, then a matching fault."""

    async def handle(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE]
        body = await read_body(request) if request.method in ("POST", "PUT") else {}
        account, tag = face.caller(state, route, request, body if isinstance(body, dict) else {})
        call = Call(route=route, account=account, tag=tag, body=body, received_at=state.simulator.now(),
                    request=request)
        low, high = state.latency_ms
        if high > 0:
            await asyncio.sleep(state.rng.uniform(low, high) / 1000)
        fault = state.take_fault(route, account)
        if fault is None:
            return await handler(state, call)
        call.fault = fault.kind
        return await _inject(state, call, fault, face, handler)

    return handle


async def _inject(state: PaperState, call: Call, fault: FaultControl, face: Face, handler: Handler
                  ) -> web.StreamResponse:
    if fault.kind == "slow":
        await asyncio.sleep(fault.delay_ms / 1000)
        return await handler(state, call)
    if fault.kind == "accept_then_500":
        await handler(state, call)
        return face.server_error()
    if call.route in ORDER_ROUTES:
        state.record(call, app_order_id=None, outcome="faulted")
    if fault.kind == "session_expired":
        return face.session_expired()
    if fault.kind == "http_500":
        return face.server_error()
    if fault.kind == "timeout":
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.shutting_down.wait(), (fault.delay_ms or DEFAULT_HOLD_MS) / 1000)
        return face.gateway_timeout()
    if fault.kind == "reset":
        assert call.request.transport is not None
        call.request.transport.abort()
        raise asyncio.CancelledError
    return face.malformed(call.route, fault.shape)
