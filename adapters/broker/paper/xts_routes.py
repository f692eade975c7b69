"""The paper broker's XTS face: XTS Interactive routes under `/interactive/...` over the `Simulator`.

Owns XTS's wire (envelope, field names and spellings, error codes, session checks); matching lives in
`simulator.py`, latency, faults and the journal in `calls.py`. A read route serves an account's last encoded
answer again until the simulator's stamp (`book_stamp`, `positions_stamp`) moves.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

import msgspec
from aiohttp import web

from adapters.broker.paper.calls import Answer, Call, Handler, MalformedShape, PaperState, Route
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
    SimOrder,
    Simulator,
)
from adapters.broker.paper.xts_envelope import answer, error, invalid_token, success
from adapters.broker.xts_wire import (
    WireError,
    convert,
    format_dmy_time,
    format_iso7_time,
)

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



# --- envelope -------------------------------------------------------------------------------------------


def _bad_request(reason: str) -> web.Response:
    return error(400, "e-orders-0002", "Bad Request", {"errors": [reason]})


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


# --- who is calling, and faults spelled XTS's way -----------------------------------------------------------


class XtsFace:
    name = "xts"

    def caller(self, state: PaperState, route: Route, request: web.Request, fields: dict[str, Any]
               ) -> tuple[str, str]:
        if route == "login":
            account = str(fields.get("appKey", ""))
        else:
            account = state.simulator.client_for(request.headers.get("Authorization", "")) or ""
        return account, str(fields.get("orderUniqueIdentifier") or request.query.get("orderUniqueIdentifier", ""))

    def session_expired(self) -> web.Response:
        return invalid_token()

    def server_error(self) -> web.Response:
        return error(500, "e-server-0500", "Internal Server Error")

    def gateway_timeout(self) -> web.Response:
        return error(504, "e-server-0504", "Gateway Timeout")

    def malformed(self, route: Route, shape: MalformedShape) -> web.Response:
        if shape == "invalid_json":
            return web.Response(body=b'{"type": "success", "result": [', content_type="application/json")
        return success("s-paper-0000", "ok", _MALFORMED_RESULTS[route])


# --- XTS routes --------------------------------------------------------------------------------------------


def _client_mismatch(client_id: str, sent: str) -> web.Response | None:
    if sent and sent != client_id:
        return error(400, "e-user-0009", "clientID does not match the session")
    return None


def _ack(order: SimOrder) -> web.Response:
    return success("s-orders-0001", "Request sent", {
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


async def login(state: PaperState, call: Call) -> web.Response:
    """`POST /interactive/user/session`: the result holds what the Node SDK's `logIn` reads of XTS's own."""
    try:
        body = convert(call.body, LoginBody, "login")
        token, client_id = state.simulator.login(body.appKey, body.secretKey)
    except (WireError, LoginRefused):
        return error(400, "e-user-0005", "Invalid appKey or secretKey")
    return success("s-user-0001", "Valid User.", {
        "enums": _LOGIN_ENUMS, "clientCodes": [client_id], "exchangeSegmentArray": _EXCHANGE_SEGMENT_ARRAY,
        "token": token, "userID": client_id, "isInvestorClient": True, "isOneTouchUser": False,
    })


async def logout(state: PaperState, call: Call) -> web.Response:
    if not call.account:
        return invalid_token()
    state.simulator.logout(call.request.headers.get("Authorization", ""))
    return success("s-user-0002", "User logged out", {})


def _refused_read(call: Call) -> web.Response | None:
    """The answer to a read (book, trades, positions) without a valid session or for another client id."""
    if not call.account:
        return invalid_token()
    return _client_mismatch(call.account, call.request.query.get("clientID", ""))


def _no_data(code: str) -> Answer:
    """XTS's answer to a list route with nothing to list: HTTP 400, the route's `...-0005` code."""
    return answer(400, "error", code, "Data Not Available", {})


def render_order_book(simulator: Simulator, client_id: str) -> Answer:
    """The order book's answer rendered from the simulator's state now (what a kept answer must equal)."""
    rows = [_order_row(order) for order in simulator.orders_of(client_id)]
    if not rows:
        return _no_data("e-orders-0005")
    return answer(200, "success", "s-orders-0001", "Success order book", rows)


def render_order_history(simulator: Simulator, client_id: str, app_order_id: int) -> Answer:
    """One order's history: a row per state it went through, oldest first, the last its state now (the SDKs'
    `get_order_history`, "Pending New to New, New to PartiallyFilled, ..."); an order the account does not
    have today has no data (*inferred*: XTS's answer to an unknown AppOrderID is not documented)."""
    rows = [_order_row(state) for state in simulator.order_history(client_id, app_order_id)]
    if not rows:
        return _no_data("e-orders-0005")
    return answer(200, "success", "s-orders-0001", "Success order history", rows)


def render_trade_book(simulator: Simulator, client_id: str) -> Answer:
    rows = [_trade_row(fill) for fill in simulator.fills_of(client_id)]
    if not rows:
        return _no_data("e-tradeBook-0005")
    return answer(200, "success", "s-trades-0001", "Success trade book", rows)


def render_positions(simulator: Simulator, client_id: str, view: Literal["NetWise", "DayWise"]) -> Answer:
    rows = [_position_row(p) for p in simulator.positions_of(client_id, view)]
    if not rows:
        return _no_data("e-portfolio-0005")
    return answer(200, "success", "s-portfolio-0001", "Success", {"positionList": rows})


async def order_book(state: PaperState, call: Call) -> web.Response:
    """`GET /interactive/orders`: the order book, or with `appOrderID` that one order's history."""
    if "appOrderID" in call.request.query:
        return _order_history(state, call)
    return _book(state, call, "order_book", render_order_book)


def _order_history(state: PaperState, call: Call) -> web.Response:
    if refused := _refused_read(call):
        return refused
    app_order_id = call.request.query["appOrderID"]
    if not app_order_id.isdigit():
        return _bad_request("appOrderID must be an integer")
    return render_order_history(state.simulator, call.account, int(app_order_id)).response()


async def trade_book(state: PaperState, call: Call) -> web.Response:
    return _book(state, call, "trade_book", render_trade_book)


def _book(state: PaperState, call: Call, route: Route,
          render: Callable[[Simulator, str], Answer]) -> web.Response:
    """The order or trade book of the session's account, answered again as it was while the book is unchanged."""
    if refused := _refused_read(call):
        return refused
    simulator, client_id = state.simulator, call.account
    return state.read_answer(("xts", route, client_id, ""), simulator.book_stamp(client_id),
                             lambda: render(simulator, client_id)).response()


async def positions(state: PaperState, call: Call) -> web.Response:
    if refused := _refused_read(call):
        return refused
    view = call.request.query.get("dayOrNet", "")
    if view not in ("DayWise", "NetWise"):
        return _bad_request("dayOrNet must be DayWise or NetWise")
    simulator, client_id = state.simulator, call.account
    return state.read_answer(("xts", "positions", client_id, view), simulator.positions_stamp(client_id, view),
                             lambda: render_positions(simulator, client_id, view)).response()


async def place(state: PaperState, call: Call) -> web.Response:
    return _order_request(state, call, PlaceBody, lambda body: state.simulator.place(OrderTicket(
        client_id=call.account, segment=body.exchangeSegment, instrument_id=body.exchangeInstrumentID,
        side=body.orderSide.upper(), order_type=body.orderType.upper(), product_type=body.productType,
        quantity=body.orderQuantity, limit_price=body.limitPrice, stop_price=body.stopPrice,
        tag=body.orderUniqueIdentifier, time_in_force=body.timeInForce, disclosed_qty=body.disclosedQuantity,
    )))


async def modify(state: PaperState, call: Call) -> web.Response:
    return _order_request(state, call, ModifyBody, lambda body: state.simulator.modify(call.account, Amendment(
        app_order_id=body.appOrderID, order_type=body.modifiedOrderType.upper(),
        product_type=body.modifiedProductType, quantity=body.modifiedOrderQuantity,
        limit_price=body.modifiedLimitPrice, stop_price=body.modifiedStopPrice,
        time_in_force=body.modifiedTimeInForce, disclosed_qty=body.modifiedDisclosedQuantity,
    )))


def _order_request(state: PaperState, call: Call, body_type: type[PlaceBody | ModifyBody],
                   act: Callable[[Any], SimOrder]) -> web.Response:
    """A place or modify: the session, the body, the client id, then `act` on the decoded body; every
    outcome is journaled."""
    if not call.account:
        state.record(call, app_order_id=None, outcome="session_expired")
        return invalid_token()
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


async def cancel(state: PaperState, call: Call) -> web.Response:
    if not call.account:
        state.record(call, app_order_id=None, outcome="session_expired")
        return invalid_token()
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



XTS_ROUTES: tuple[tuple[str, str, Route, Handler], ...] = (
    ("POST", "/interactive/user/session", "login", login),
    ("DELETE", "/interactive/user/session", "logout", logout),
    ("GET", "/interactive/orders", "order_book", order_book),
    ("GET", "/interactive/orders/trades", "trade_book", trade_book),
    ("GET", "/interactive/portfolio/positions", "positions", positions),
    ("POST", "/interactive/orders", "place", place),
    ("PUT", "/interactive/orders", "modify", modify),
    ("DELETE", "/interactive/orders", "cancel", cancel),
)
