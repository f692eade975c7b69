"""The paper broker's HTTP face: XTS Interactive routes over the `Simulator`, and the `/_sim/` control API.

Owns the wire (envelope, XTS field names and spellings, session checks) and the control API (README.md, Paper
broker); matching lives in `simulator.py`. A read route serves an account's last encoded answer again until the
simulator's stamp (`book_stamp`, `positions_stamp`) moves. Control answers never carry a token or a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple

import msgspec
from aiohttp import web

from adapters.broker.paper.simulator import (
    ORDER_TYPES,
    PRODUCT_TYPES,
    SEGMENT_CODES,
    Amendment,
    Fill,
    LoginRefused,
    OrderInvalid,
    OrderTicket,
    Position,
    RejectRule,
    SimOrder,
    Simulator,
)
from adapters.broker.xts_wire import (
    SESSION_EXPIRED_CODE,
    WireError,
    convert,
    decode_json,
    encode_json,
    format_dmy_time,
    format_iso7_time,
)

Route = Literal["login", "logout", "order_book", "trade_book", "positions", "place", "modify", "cancel"]
FaultKind = Literal["session_expired", "http_500", "timeout", "reset", "malformed", "slow", "accept_then_500"]
ORDER_ROUTES = frozenset({"place", "modify", "cancel"})
DEFAULT_HOLD_MS = 30_000

_MALFORMED_RESULTS: dict[Route, Any] = {
    "login": {"userID": "PAPER"},
    "logout": {"AppOrderID": "not-a-number"},
    "order_book": [{"AppOrderID": "not-a-number"}],
    "trade_book": [{"AppOrderID": "not-a-number"}],
    "positions": {"positionList": [{"Quantity": "not-a-number"}]},
    "place": {"AppOrderID": "not-a-number"},
    "modify": {"AppOrderID": "not-a-number"},
    "cancel": {"AppOrderID": "not-a-number"},
}
"""A `malformed` fault's answer (shape `wrong_types`): the right envelope, a field that cannot decode."""


# --- control API bodies -------------------------------------------------------------------------------


class PriceControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    symbol: str
    ltp: Decimal
    instrument_id: int | None = None
    segment: str = "NSECM"


class FaultControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    route: Route | Literal["*"]
    kind: FaultKind
    account: str = "*"
    count: int = 1
    delay_ms: int = 0
    shape: Literal["wrong_types", "invalid_json"] = "wrong_types"


class ChaosControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Fault a random share of every XTS request (after scripted faults), each with a kind drawn from `kinds`
    (`accept_then_500` only on order routes). `rate` 0 turns it off."""

    rate: float = 0.0
    kinds: tuple[FaultKind, ...] = ("session_expired", "http_500", "timeout", "reset", "malformed", "slow")
    timeout_ms: int = 1_500
    """How long a `timeout` fault holds the answer: longer than the client's call timeout."""
    slow_ms: int = 300
    """How long a `slow` fault delays a normal answer: shorter than the client's call timeout."""


class RejectControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    rule: RejectRule | None = None


class LatencyControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    min_ms: int = 0
    max_ms: int = 0


class LiquidityControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    max_fill_qty: int | None = None


class ExpireControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    account: str
    secret_key: str | None = None


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


# --- XTS request bodies ---------------------------------------------------------------------------------


class PlaceBody(msgspec.Struct, frozen=True, kw_only=True):
    exchangeSegment: str
    exchangeInstrumentID: int
    productType: str
    orderType: str
    orderSide: str
    orderQuantity: int
    timeInForce: str = "DAY"
    disclosedQuantity: int = 0
    limitPrice: Decimal = Decimal(0)
    stopPrice: Decimal = Decimal(0)
    orderUniqueIdentifier: str = ""
    clientID: str = ""


class ModifyBody(msgspec.Struct, frozen=True, kw_only=True):
    appOrderID: int
    modifiedProductType: str
    modifiedOrderType: str
    modifiedOrderQuantity: int
    modifiedDisclosedQuantity: int = 0
    modifiedLimitPrice: Decimal = Decimal(0)
    modifiedStopPrice: Decimal = Decimal(0)
    modifiedTimeInForce: str = "DAY"
    orderUniqueIdentifier: str = ""
    clientID: str = ""


class LoginBody(msgspec.Struct, frozen=True, kw_only=True):
    appKey: str = ""
    secretKey: str = ""
    source: str = "WEBAPI"


@dataclass
class _Fault:
    rule: FaultControl
    remaining: int


class Answer(NamedTuple):
    """An XTS answer as it goes on the wire: the HTTP status and the encoded envelope."""

    status: int
    body: bytes

    def response(self) -> web.Response:
        return web.Response(status=self.status, body=self.body, content_type="application/json")


_ReadKey = tuple[Route, str, str]
"""(route, client id, position view or ""): whose read answer is kept."""


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
    kept_reads: dict[_ReadKey, tuple[Hashable, Answer]] = field(default_factory=dict)

    def read_answer(self, key: _ReadKey, stamp: Hashable, render: Callable[[], Answer]) -> Answer:
        """The kept answer of `key` while it was rendered at `stamp`; else `render()`, kept from now on."""
        kept = self.kept_reads.get(key)
        if kept is None or kept[0] != stamp:
            kept = self.kept_reads[key] = (stamp, render())
        return kept[1]

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

    def record(self, call: XtsCall, **entry: Any) -> None:
        self.journal.append(JournalEntry(seq=len(self.journal) + 1, route=call.route, account=call.account,
                                         tag=call.tag, fault=call.fault, received_at=call.received_at,
                                         **entry))


STATE = web.AppKey("paper_state", PaperState)


# --- envelope -------------------------------------------------------------------------------------------


def _answer(status: int, type_: str, code: str, description: str, result: Any) -> Answer:
    return Answer(status, encode_json({"type": type_, "code": code, "description": description, "result": result}))


def _envelope(status: int, type_: str, code: str, description: str, result: Any) -> web.Response:
    return _answer(status, type_, code, description, result).response()


def _success(code: str, description: str, result: Any) -> web.Response:
    return _envelope(200, "success", code, description, result)


def _error(status: int, code: str, description: str, result: Any = None) -> web.Response:
    return _envelope(status, "error", code, description, {} if result is None else result)


def _invalid_token() -> web.Response:
    return _error(400, SESSION_EXPIRED_CODE, "Invalid Token")


def _bad_request(reason: str) -> web.Response:
    return _error(400, "e-orders-0002", "Bad Request", {"errors": [reason]})


# --- rendering rows as XTS sends them ----------------------------------------------------------------------


_RESPONSE_ORDER_TYPES = {
    "MARKET": "Market", "LIMIT": "Limit", "STOPLIMIT": "StopLimit", "STOPMARKET": "StopMarket",
}


def _order_row(order: SimOrder) -> dict[str, Any]:
    avg = order.avg_price
    return {
        "LoginID": order.client_id,
        "ClientID": order.client_id,
        "AppOrderID": order.app_order_id,
        "ExchangeOrderID": order.exchange_order_id,
        "ExchangeSegment": order.instrument.segment,
        "ExchangeInstrumentID": order.instrument.instrument_id,
        "TradingSymbol": order.instrument.symbol,
        "OrderSide": order.side,
        "OrderType": _RESPONSE_ORDER_TYPES[order.order_type],
        "ProductType": order.product_type,
        "TimeInForce": order.time_in_force,
        "OrderPrice": order.limit_price,
        "OrderQuantity": order.quantity,
        "OrderStopPrice": order.stop_price,
        "OrderStatus": order.status,
        "OrderAverageTradedPrice": "" if avg is None else str(avg),
        "LeavesQuantity": order.quantity - order.filled_qty if order.is_open else 0,
        "CumulativeQuantity": order.filled_qty,
        "OrderDisclosedQuantity": order.disclosed_qty,
        "OrderGeneratedDateTime": format_iso7_time(order.created_at),
        "ExchangeTransactTime": format_dmy_time(order.updated_at),
        "LastUpdateDateTime": format_dmy_time(order.updated_at),
        "CancelRejectReason": order.reject_reason,
        "OrderUniqueIdentifier": order.tag,
    }


def _trade_row(fill: Fill) -> dict[str, Any]:
    row = _order_row(fill.order)
    row.update({
        "ExecutionID": fill.execution_id,
        "LastTradedPrice": fill.price,
        "LastTradedQuantity": fill.quantity,
        "LastExecutionTransactTime": format_iso7_time(fill.at),
    })
    return row


def _position_row(position: Position) -> dict[str, str]:
    return {
        "AccountID": position.client_id,
        "TradingSymbol": position.instrument.symbol,
        "ExchangeSegment": position.instrument.segment,
        "ExchangeInstrumentId": str(position.instrument.instrument_id),
        "ProductType": position.product_type,
        "Marketlot": "1",
        "Multiplier": "1",
        "BuyAveragePrice": str(position.buy_avg),
        "SellAveragePrice": str(position.sell_avg),
        "OpenBuyQuantity": str(position.buy_qty),
        "OpenSellQuantity": str(position.sell_qty),
        "Quantity": str(position.net_qty),
        "NetAmount": str(position.net_amount),
        "UnrealizedMTM": str(position.unrealized),
        "RealizedMTM": str(position.realized),
        "MTM": str(position.mtm),
        "BEP": str(position.break_even),
    }


# --- every XTS route: who is calling, latency, faults ------------------------------------------------------


@dataclass
class XtsCall:
    """One XTS request as the paper broker sees it before answering."""

    route: Route
    account: str        # the session's client id ("" when the token is unknown); login: the app key
    tag: str            # orderUniqueIdentifier, when the request carries one
    body: Any           # the decoded JSON (or form) body of POST and PUT; None when it does not decode
    received_at: datetime
    request: web.Request
    fault: str = ""


XtsHandler = Callable[[PaperState, XtsCall], Awaitable[web.Response]]


async def _read_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        return {}
    if request.content_type == "application/x-www-form-urlencoded":
        return dict(await request.post())
    try:
        return decode_json(raw)
    except WireError:
        return None


def _xts_route(route: Route, handler: XtsHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a route's handler with what every XTS request goes through: latency, then a matching fault."""

    async def handle(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE]
        body = await _read_body(request) if request.method in ("POST", "PUT") else {}
        fields = body if isinstance(body, dict) else {}
        if route == "login":
            account = str(fields.get("appKey", ""))
        else:
            account = state.simulator.client_for(request.headers.get("Authorization", "")) or ""
        tag = str(fields.get("orderUniqueIdentifier") or request.query.get("orderUniqueIdentifier", ""))
        call = XtsCall(route=route, account=account, tag=tag, body=body,
                       received_at=state.simulator.now(), request=request)
        low, high = state.latency_ms
        if high > 0:
            await asyncio.sleep(state.rng.uniform(low, high) / 1000)
        fault = state.take_fault(route, account)
        if fault is None:
            return await handler(state, call)
        call.fault = fault.kind
        return await _inject(state, call, fault, handler)

    return handle


async def _inject(state: PaperState, call: XtsCall, fault: FaultControl, handler: XtsHandler
                  ) -> web.StreamResponse:
    if fault.kind == "slow":
        await asyncio.sleep(fault.delay_ms / 1000)
        return await handler(state, call)
    if fault.kind == "accept_then_500":
        await handler(state, call)
        return _error(500, "e-server-0500", "Internal Server Error")
    if call.route in ORDER_ROUTES:
        state.record(call, app_order_id=None, outcome="faulted")
    if fault.kind == "session_expired":
        return _invalid_token()
    if fault.kind == "http_500":
        return _error(500, "e-server-0500", "Internal Server Error")
    if fault.kind == "timeout":
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.shutting_down.wait(), (fault.delay_ms or DEFAULT_HOLD_MS) / 1000)
        return _error(504, "e-server-0504", "Gateway Timeout")
    if fault.kind == "reset":
        assert call.request.transport is not None
        call.request.transport.abort()
        raise asyncio.CancelledError
    if fault.shape == "invalid_json":
        return web.Response(body=b'{"type": "success", "result": [', content_type="application/json")
    return _success("s-paper-0000", "ok", _MALFORMED_RESULTS[call.route])


# --- XTS routes --------------------------------------------------------------------------------------------


def _client_mismatch(client_id: str, sent: str) -> web.Response | None:
    if sent and sent != client_id:
        return _error(400, "e-user-0009", "clientID does not match the session")
    return None


def _ack(order: SimOrder) -> web.Response:
    return _success("s-orders-0001", "Request sent", {
        "AppOrderID": order.app_order_id, "OrderUniqueIdentifier": order.tag, "ClientID": order.client_id,
    })


_LOGIN_ENUMS = {
    "exchangeSegment": list(SEGMENT_CODES), "productType": sorted(PRODUCT_TYPES), "orderType": sorted(ORDER_TYPES),
    "orderSide": ["BUY", "SELL"], "timeInForce": ["DAY"], "dayOrNet": ["DayWise", "NetWise"],
}
"""The values the paper broker takes, as XTS lists its own in the login result's `enums` (the SDKs keep it;
its exact content is not documented, so this is *inferred*)."""
_EXCHANGE_SEGMENT_ARRAY = [{"key": segment, "value": code} for segment, code in SEGMENT_CODES.items()]
"""The login result's `exchangeSegmentArray` (the SDKs keep it; the entries' shape is *inferred*)."""


async def login(state: PaperState, call: XtsCall) -> web.Response:
    """`POST /interactive/user/session`: the result holds what the Node SDK's `logIn` reads of XTS's own."""
    try:
        body = convert(call.body, LoginBody, "login")
        token, client_id = state.simulator.login(body.appKey, body.secretKey)
    except (WireError, LoginRefused):
        return _error(400, "e-user-0005", "Invalid appKey or secretKey")
    return _success("s-user-0001", "Valid User.", {
        "enums": _LOGIN_ENUMS, "clientCodes": [client_id], "exchangeSegmentArray": _EXCHANGE_SEGMENT_ARRAY,
        "token": token, "userID": client_id, "isInvestorClient": True, "isOneTouchUser": False,
    })


async def logout(state: PaperState, call: XtsCall) -> web.Response:
    if not call.account:
        return _invalid_token()
    state.simulator.logout(call.request.headers.get("Authorization", ""))
    return _success("s-user-0002", "User logged out", {})


def _refused_read(call: XtsCall) -> web.Response | None:
    """The answer to a read (book, trades, positions) without a valid session or for another client id."""
    if not call.account:
        return _invalid_token()
    return _client_mismatch(call.account, call.request.query.get("clientID", ""))


def _no_data(code: str) -> Answer:
    """XTS's answer to a list route with nothing to list: HTTP 400, the route's `...-0005` code."""
    return _answer(400, "error", code, "Data Not Available", {})


def render_order_book(simulator: Simulator, client_id: str) -> Answer:
    """The order book's answer rendered from the simulator's state now (what a kept answer must equal)."""
    rows = [_order_row(order) for order in simulator.orders_of(client_id)]
    if not rows:
        return _no_data("e-orders-0005")
    return _answer(200, "success", "s-orders-0001", "Success order book", rows)


def render_order_history(simulator: Simulator, client_id: str, app_order_id: int) -> Answer:
    """One order's history: a row per state it went through, oldest first, the last its state now (the SDKs'
    `get_order_history`, "Pending New to New, New to PartiallyFilled, ..."); an order the account does not
    have today has no data (*inferred*: XTS's answer to an unknown AppOrderID is not documented)."""
    rows = [_order_row(state) for state in simulator.order_history(client_id, app_order_id)]
    if not rows:
        return _no_data("e-orders-0005")
    return _answer(200, "success", "s-orders-0001", "Success order history", rows)


def render_trade_book(simulator: Simulator, client_id: str) -> Answer:
    rows = [_trade_row(fill) for fill in simulator.fills_of(client_id)]
    if not rows:
        return _no_data("e-tradeBook-0005")
    return _answer(200, "success", "s-trades-0001", "Success trade book", rows)


def render_positions(simulator: Simulator, client_id: str, view: Literal["NetWise", "DayWise"]) -> Answer:
    rows = [_position_row(p) for p in simulator.positions_of(client_id, view)]
    if not rows:
        return _no_data("e-portfolio-0005")
    return _answer(200, "success", "s-portfolio-0001", "Success", {"positionList": rows})


async def order_book(state: PaperState, call: XtsCall) -> web.Response:
    """`GET /interactive/orders`: the order book, or with `appOrderID` that one order's history."""
    if "appOrderID" in call.request.query:
        return _order_history(state, call)
    return _book(state, call, "order_book", render_order_book)


def _order_history(state: PaperState, call: XtsCall) -> web.Response:
    if refused := _refused_read(call):
        return refused
    app_order_id = call.request.query["appOrderID"]
    if not app_order_id.isdigit():
        return _bad_request("appOrderID must be an integer")
    return render_order_history(state.simulator, call.account, int(app_order_id)).response()


async def trade_book(state: PaperState, call: XtsCall) -> web.Response:
    return _book(state, call, "trade_book", render_trade_book)


def _book(state: PaperState, call: XtsCall, route: Route,
          render: Callable[[Simulator, str], Answer]) -> web.Response:
    """The order or trade book of the session's account, answered again as it was while the book is unchanged."""
    if refused := _refused_read(call):
        return refused
    simulator, client_id = state.simulator, call.account
    return state.read_answer((route, client_id, ""), simulator.book_stamp(client_id),
                             lambda: render(simulator, client_id)).response()


async def positions(state: PaperState, call: XtsCall) -> web.Response:
    if refused := _refused_read(call):
        return refused
    view = call.request.query.get("dayOrNet", "")
    if view not in ("DayWise", "NetWise"):
        return _bad_request("dayOrNet must be DayWise or NetWise")
    simulator, client_id = state.simulator, call.account
    return state.read_answer(("positions", client_id, view), simulator.positions_stamp(client_id, view),
                             lambda: render_positions(simulator, client_id, view)).response()


async def place(state: PaperState, call: XtsCall) -> web.Response:
    return _order_request(state, call, PlaceBody, lambda body: state.simulator.place(OrderTicket(
        client_id=call.account, segment=body.exchangeSegment, instrument_id=body.exchangeInstrumentID,
        side=body.orderSide.upper(), order_type=body.orderType.upper(), product_type=body.productType,
        quantity=body.orderQuantity, limit_price=body.limitPrice, stop_price=body.stopPrice,
        tag=body.orderUniqueIdentifier, time_in_force=body.timeInForce, disclosed_qty=body.disclosedQuantity,
    )))


async def modify(state: PaperState, call: XtsCall) -> web.Response:
    return _order_request(state, call, ModifyBody, lambda body: state.simulator.modify(call.account, Amendment(
        app_order_id=body.appOrderID, order_type=body.modifiedOrderType.upper(),
        product_type=body.modifiedProductType, quantity=body.modifiedOrderQuantity,
        limit_price=body.modifiedLimitPrice, stop_price=body.modifiedStopPrice,
        time_in_force=body.modifiedTimeInForce, disclosed_qty=body.modifiedDisclosedQuantity,
    )))


def _order_request(state: PaperState, call: XtsCall, body_type: type[PlaceBody | ModifyBody],
                   act: Callable[[Any], SimOrder]) -> web.Response:
    """A place or modify: the session, the body, the client id, then `act` on the decoded body; every
    outcome is journaled."""
    if not call.account:
        state.record(call, app_order_id=None, outcome="session_expired")
        return _invalid_token()
    try:
        body = convert(call.body, body_type, call.route)
        if mismatch := _client_mismatch(call.account, body.clientID):
            state.record(call, app_order_id=getattr(body, "appOrderID", None), outcome="refused",
                         detail="clientID mismatch")
            return mismatch
        order = act(body)
    except (WireError, OrderInvalid) as exc:
        reason = exc.reason if isinstance(exc, OrderInvalid) else str(exc)
        state.record(call, app_order_id=None, outcome="refused", detail=reason)
        return _bad_request(reason)
    state.record(call, app_order_id=order.app_order_id, outcome="accepted", detail=order.status)
    return _ack(order)


async def cancel(state: PaperState, call: XtsCall) -> web.Response:
    if not call.account:
        state.record(call, app_order_id=None, outcome="session_expired")
        return _invalid_token()
    query = call.request.query
    if mismatch := _client_mismatch(call.account, query.get("clientID", "")):
        state.record(call, app_order_id=None, outcome="refused", detail="clientID mismatch")
        return mismatch
    if not query.get("appOrderID", "").isdigit():
        state.record(call, app_order_id=None, outcome="refused", detail="appOrderID missing")
        return _bad_request("appOrderID must be an integer")
    app_order_id = int(query["appOrderID"])
    try:
        order = state.simulator.cancel(call.account, app_order_id)
    except OrderInvalid as exc:
        state.record(call, app_order_id=app_order_id, outcome="refused", detail=exc.reason)
        return _bad_request(exc.reason)
    state.record(call, app_order_id=order.app_order_id, outcome="accepted", detail=order.status)
    return _ack(order)


# --- /_sim/ control API ---------------------------------------------------------------------------------


async def _control_body(request: web.Request, body_type: type[Any]) -> Any:
    try:
        return msgspec.json.decode(await request.read() or b"{}", type=body_type)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None


def _control_ok(payload: Any) -> web.Response:
    return web.Response(body=msgspec.json.encode(payload), content_type="application/json")


async def sim_price(request: web.Request) -> web.Response:
    control: PriceControl = await _control_body(request, PriceControl)
    try:
        fills = request.app[STATE].simulator.set_price(
            control.symbol, control.ltp, instrument_id=control.instrument_id, segment=control.segment)
    except OrderInvalid as exc:
        raise web.HTTPBadRequest(text=exc.reason) from None
    return _control_ok({"symbol": control.symbol, "ltp": str(control.ltp), "fills": len(fills)})


async def sim_faults(request: web.Request) -> web.Response:
    control: FaultControl = await _control_body(request, FaultControl)
    if control.kind == "accept_then_500" and control.route not in (*ORDER_ROUTES, "*"):
        raise web.HTTPBadRequest(text="accept_then_500 applies to place, modify and cancel")
    state = request.app[STATE]
    state.faults.append(_Fault(control, control.count))
    return _control_ok({"pending_faults": sum(f.remaining for f in state.faults)})


async def sim_chaos(request: web.Request) -> web.Response:
    """POST sets the chaos mode; GET (and POST) answer it with the faults it has injected so far, by kind."""
    state = request.app[STATE]
    if request.method == "POST":
        control: ChaosControl = await _control_body(request, ChaosControl)
        if not 0 <= control.rate <= 1:
            raise web.HTTPBadRequest(text="rate must be between 0 and 1")
        state.chaos = control
    return _control_ok({"chaos": state.chaos, "injected": state.chaos_injected})


async def sim_reject(request: web.Request) -> web.Response:
    control: RejectControl = await _control_body(request, RejectControl)
    simulator = request.app[STATE].simulator
    if control.rule is None:
        simulator.reject_rules.clear()
    else:
        simulator.reject_rules.append(control.rule)
    return _control_ok({"rules": simulator.reject_rules})


async def sim_latency(request: web.Request) -> web.Response:
    control: LatencyControl = await _control_body(request, LatencyControl)
    if not 0 <= control.min_ms <= control.max_ms:
        raise web.HTTPBadRequest(text="need 0 <= min_ms <= max_ms")
    request.app[STATE].latency_ms = (control.min_ms, control.max_ms)
    return _control_ok({"min_ms": control.min_ms, "max_ms": control.max_ms})


async def sim_liquidity(request: web.Request) -> web.Response:
    control: LiquidityControl = await _control_body(request, LiquidityControl)
    request.app[STATE].simulator.max_fill_qty = control.max_fill_qty
    return _control_ok({"max_fill_qty": control.max_fill_qty})


async def sim_expire(request: web.Request) -> web.Response:
    control: ExpireControl = await _control_body(request, ExpireControl)
    return _control_ok({"account": control.account,
                        "sessions_ended": request.app[STATE].simulator.expire(control.account, control.secret_key)})


async def sim_orders(request: web.Request) -> web.Response:
    state = request.app[STATE]
    account = request.query.get("account")
    entries = [e for e in state.journal if account is None or e.account == account]
    rows = []
    for entry in entries:
        order = state.simulator.find_order(entry.account, entry.app_order_id) if entry.app_order_id else None
        rows.append({**msgspec.to_builtins(entry), "status": order.status if order else None})
    return _control_ok(rows)


async def sim_reset(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.simulator.reset()
    state.kept_reads.clear()
    state.faults.clear()
    state.journal.clear()
    state.chaos = ChaosControl()
    state.chaos_injected.clear()
    state.latency_ms = (0, 0)
    return _control_ok({"reset": True})


async def sim_new_day(request: web.Request) -> web.Response:
    request.app[STATE].simulator.new_day()
    return _control_ok({"new_day": True})


async def _price_walk(app: web.Application, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        app[STATE].simulator.random_walk_step()


def build_app(simulator: Simulator, *, seed: int = 0, walk_interval_s: float | None = None
              ) -> web.Application:
    """The paper broker as one aiohttp application; `walk_interval_s` starts a random walk of prices."""
    app = web.Application()
    app[STATE] = PaperState(simulator=simulator, rng=random.Random(seed))
    xts_routes: tuple[tuple[str, str, Route, XtsHandler], ...] = (
        ("POST", "/interactive/user/session", "login", login),
        ("DELETE", "/interactive/user/session", "logout", logout),
        ("GET", "/interactive/orders", "order_book", order_book),
        ("GET", "/interactive/orders/trades", "trade_book", trade_book),
        ("GET", "/interactive/portfolio/positions", "positions", positions),
        ("POST", "/interactive/orders", "place", place),
        ("PUT", "/interactive/orders", "modify", modify),
        ("DELETE", "/interactive/orders", "cancel", cancel),
    )
    for method, path, route, handler in xts_routes:
        app.router.add_route(method, path, _xts_route(route, handler))
    app.router.add_post("/_sim/price", sim_price)
    app.router.add_post("/_sim/faults", sim_faults)
    app.router.add_post("/_sim/chaos", sim_chaos)
    app.router.add_get("/_sim/chaos", sim_chaos)
    app.router.add_post("/_sim/reject", sim_reject)
    app.router.add_post("/_sim/latency", sim_latency)
    app.router.add_post("/_sim/liquidity", sim_liquidity)
    app.router.add_post("/_sim/expire", sim_expire)
    app.router.add_get("/_sim/orders", sim_orders)
    app.router.add_post("/_sim/reset", sim_reset)
    app.router.add_post("/_sim/new_day", sim_new_day)

    async def announce_shutdown(app: web.Application) -> None:
        app[STATE].shutting_down.set()

    app.on_shutdown.append(announce_shutdown)
    if walk_interval_s:
        async def walk_prices(app: web.Application):  # type: ignore[no-untyped-def]
            task = asyncio.create_task(_price_walk(app, walk_interval_s))
            yield
            task.cancel()

        app.cleanup_ctx.append(walk_prices)
    return app
