"""The paper broker's Kite face: Kite Connect v3 routes at the host root over the `Simulator` (BROKER_KITE.md).

Owns Kite's wire: form requests, the `status`/`data` envelope and `error_type`s, the version and token headers,
the session exchange (request token + checksum) and the login page a person reads a request token from. Rows
are `kite_rows.py`'s, order forms `kite_forms.py`'s, latency, faults and the journal `calls.py`'s. The api_key
plays the XTS app key's part: it is the account's client id in the engine, and an access token is a simulator
session like an XTS token.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from aiohttp import web

from adapters.broker.paper.calls import ORDER_ROUTES, STATE, Answer, Call, Handler, MalformedShape, PaperState, Route
from adapters.broker.paper.kite_forms import Refused, amendment, check_variety, ticket
from adapters.broker.paper.kite_rows import (
    EXCHANGES,
    ORDER_TYPES,
    STATUSES,
    kite_time,
    order_row,
    positions_data,
    trade_row,
)
from adapters.broker.paper.simulator import (
    PRODUCT_TYPES,
    LoginRefused,
    OrderInvalid,
    SimOrder,
)

KITE_VERSION = "3"
_HEX_CHECKSUM = re.compile(r"[0-9a-fA-F]{64}")
_json = msgspec.json.Encoder(decimal_format="number")

_MALFORMED_DATA: dict[Route, Any] = {
    "login": {"user_id": "PAPER", "access_token": ["not-a-string"], "login_time": "not-a-time"},
    "logout": "not-a-bool",
    "order_book": [{"order_id": "1", "quantity": "not-a-number"}],
    "trade_book": [{"order_id": "1", "quantity": "not-a-number"}],
    "positions": {"net": [{"quantity": "not-a-number"}], "day": []},
    "place": {"order_id": ["not-a-string"]},
    "modify": {"order_id": ["not-a-string"]},
    "cancel": {"order_id": ["not-a-string"]},
}
"""A `malformed` fault's `data` (shape `wrong_types`): the right envelope, a field that cannot decode."""


# --- envelope -------------------------------------------------------------------------------------------


def _answer(data: Any) -> Answer:
    return Answer(200, _json.encode({"status": "success", "data": data}))


def _success(data: Any) -> web.Response:
    return _answer(data).response()


def _error(status: int, error_type: str, message: str) -> web.Response:
    return Answer(status, _json.encode({"status": "error", "message": message, "error_type": error_type,
                                        "data": None})).response()


def _input_error(message: str) -> web.Response:
    return _error(400, "InputException", message)


def _token_error(message: str = "Incorrect `api_key` or `access_token`.") -> web.Response:
    return _error(403, "TokenException", message)


# --- who is calling, and faults spelled Kite's way ----------------------------------------------------------


def _token_pair(request: web.Request, route: Route) -> tuple[str, str]:
    """(api_key, access_token) of a request: the `Authorization: token K:T` header; logout's own query."""
    if route == "logout" and "access_token" in request.query:
        return request.query.get("api_key", ""), request.query["access_token"]
    scheme, _, pair = request.headers.get("Authorization", "").partition(" ")
    api_key, _, access_token = pair.partition(":")
    return (api_key, access_token) if scheme == "token" else ("", "")


class KiteFace:
    name = "kite"

    def caller(self, state: PaperState, route: Route, request: web.Request, fields: dict[str, Any]
               ) -> tuple[str, str]:
        """An unknown or ended access token, or an api_key that is not its session's, is no account."""
        if route == "login":
            return str(fields.get("api_key", "")), ""
        api_key, access_token = _token_pair(request, route)
        account = api_key if api_key and state.simulator.client_for(access_token) == api_key else ""
        return account, str(fields.get("tag", ""))

    def session_expired(self) -> web.Response:
        return _token_error()

    def server_error(self) -> web.Response:
        return _error(500, "GeneralException", "Internal server error")

    def gateway_timeout(self) -> web.Response:
        return _error(504, "NetworkException", "Gateway timeout")

    def malformed(self, route: Route, shape: MalformedShape) -> web.Response:
        if shape == "invalid_json":
            return web.Response(body=b'{"status": "success", "data": [', content_type="application/json")
        return _success(_MALFORMED_DATA[route])


def _checked(handler: Handler) -> Handler:
    """Refuse a request without `X-Kite-Version: 3` (HTTP 400 InputException: *inferred*, the docs only say
    the header is required) or, but for the session exchange, without a live session (403 TokenException);
    order requests refused here are journaled."""

    async def handle(state: PaperState, call: Call) -> web.Response:
        if call.request.headers.get("X-Kite-Version") != KITE_VERSION:
            refusal, outcome, detail = _input_error(f"X-Kite-Version must be {KITE_VERSION}"), "refused", "version"
        elif not call.account and call.route != "login":
            refusal, outcome, detail = _token_error(), "session_expired", ""
        else:
            return await handler(state, call)
        if call.route in ORDER_ROUTES:
            state.record(call, app_order_id=None, outcome=outcome, detail=detail)
        return refusal

    return handle


# --- session --------------------------------------------------------------------------------------------


def _checksum(api_key: str, request_token: str, api_secret: str) -> str:
    return hashlib.sha256((api_key + request_token + api_secret).encode()).hexdigest()


def _profile(client_id: str) -> dict[str, Any]:
    return {
        "user_id": client_id, "user_name": f"Paper {client_id}", "user_shortname": client_id,
        "user_type": "individual", "email": "", "broker": "PAPER", "avatar_url": None,
        "exchanges": list(EXCHANGES.values()), "products": sorted(PRODUCT_TYPES), "order_types": list(ORDER_TYPES),
        "meta": {"demat_consent": ""},
    }


async def session_token(state: PaperState, call: Call) -> web.Response:
    """`POST /session/token`: a request token (single use) and its checksum for an access token. The checksum
    is checked against the api secret when the simulator knows one (configured credentials, or a secret set by
    `/_sim/expire`); else any 64-hex checksum is taken, as the XTS face takes any non-empty secret key."""
    fields = call.body if isinstance(call.body, dict) else {}
    api_key, request_token, checksum = (str(fields.get(name, "")) for name in ("api_key", "request_token",
                                                                                 "checksum"))
    if not (api_key and request_token and checksum):
        return _input_error("`api_key`, `request_token` and `checksum` are required")
    simulator = state.simulator
    if not simulator.redeem_request_token(api_key, request_token):
        return _token_error("Token is invalid or has expired.")
    secret = simulator.secret_of(api_key)
    valid = _HEX_CHECKSUM.fullmatch(checksum) is not None and (
        secret is None or hmac.compare_digest(checksum.lower(), _checksum(api_key, request_token, secret)))
    if not valid:
        return _token_error("Invalid `checksum`.")
    return _success({
        **_profile(api_key), "api_key": api_key, "access_token": simulator.open_session(api_key),
        "public_token": secrets.token_urlsafe(24), "refresh_token": "", "login_time": kite_time(simulator.now()),
    })


async def logout(state: PaperState, call: Call) -> web.Response:
    """`DELETE /session/token?api_key=&access_token=`: ends that session."""
    state.simulator.logout(_token_pair(call.request, "logout")[1])
    return _success(True)


async def profile(state: PaperState, call: Call) -> web.Response:
    return _success(_profile(call.account))


async def login_page(request: web.Request) -> web.Response:
    """`GET /connect/login?api_key=K&v=3`: a page showing a fresh request token of K. A real Kite redirects to
    the app's registered URL with `request_token` in the query; the paper broker has no such URL."""
    api_key = request.query.get("api_key", "")
    try:
        request_token = request.app[STATE].simulator.issue_request_token(api_key)
    except LoginRefused:
        return web.Response(status=400, content_type="text/html",
                            text=_page("<p>Unknown <code>api_key</code>: no login for it here.</p>"))
    return web.Response(content_type="text/html", text=_page(
        f"<p>Logged in as <b>{html.escape(api_key)}</b>. A real Kite login would now redirect to your app's "
        "redirect URL with <code>request_token</code> in its query; the paper broker has none, so paste this "
        "request token into your app (it works once):</p>"
        f'<p><code id="request_token">{request_token}</code></p>'))


def _page(body: str) -> str:
    return f"<!doctype html><title>Paper broker: Kite login</title><h1>Paper broker: Kite login</h1>{body}"


# --- reads ----------------------------------------------------------------------------------------------


async def orders(state: PaperState, call: Call) -> web.Response:
    simulator, client_id = state.simulator, call.account
    return state.read_answer(("kite", "order_book", client_id, ""), simulator.book_stamp(client_id), lambda: _answer(
        [order_row(order) for order in simulator.orders_of(client_id)])).response()


async def trades(state: PaperState, call: Call) -> web.Response:
    simulator, client_id = state.simulator, call.account
    return state.read_answer(("kite", "trade_book", client_id, ""), simulator.book_stamp(client_id), lambda: _answer(
        [trade_row(fill) for fill in simulator.fills_of(client_id)])).response()


async def positions(state: PaperState, call: Call) -> web.Response:
    simulator, client_id = state.simulator, call.account
    stamp = (simulator.positions_stamp(client_id, "NetWise"), simulator.positions_stamp(client_id, "DayWise"))
    return state.read_answer(("kite", "positions", client_id, ""), stamp, lambda: _answer(positions_data(
        simulator.positions_of(client_id, "NetWise"), simulator.positions_of(client_id, "DayWise")))).response()


def _order_of(state: PaperState, call: Call) -> SimOrder:
    """The order of the path's `order_id` in the session's account (*inferred*: Kite's answer to an unknown
    order_id is not documented; the paper answers InputException)."""
    order_id = call.request.match_info["order_id"]
    order = state.simulator.find_order(call.account, int(order_id)) if order_id.isdigit() else None
    if order is None:
        raise Refused(f"Couldn't find that `order_id` ({order_id}).")
    return order


async def order_history(state: PaperState, call: Call) -> web.Response:
    """`GET /orders/{order_id}`: the order's states, oldest first, the last its state now."""
    try:
        order = _order_of(state, call)
    except Refused as refused:
        return _input_error(refused.message)
    return _success([order_row(past) for past in state.simulator.order_history(call.account, order.app_order_id)])


async def order_trades(state: PaperState, call: Call) -> web.Response:
    try:
        order = _order_of(state, call)
    except Refused as refused:
        return _input_error(refused.message)
    return _success([trade_row(fill) for fill in state.simulator.fills_of(call.account) if fill.order is order])




# --- orders ---------------------------------------------------------------------------------------------


def _order_request(state: PaperState, call: Call, act: Callable[[Mapping[str, Any]], SimOrder]) -> web.Response:
    """A place, modify or cancel: `act` on the form (or query); every outcome is journaled."""
    fields = call.body if isinstance(call.body, dict) else {}
    try:
        order = act(fields)
    except (Refused, OrderInvalid) as exc:
        reason = exc.message if isinstance(exc, Refused) else exc.reason
        state.record(call, app_order_id=None, outcome="refused", detail=reason)
        return _input_error(reason)
    state.record(call, app_order_id=order.app_order_id, outcome="accepted", detail=order.status)
    return _success({"order_id": str(order.app_order_id)})


async def place(state: PaperState, call: Call) -> web.Response:
    """`POST /orders/{variety}`."""
    simulator = state.simulator
    return _order_request(state, call, lambda fields: simulator.place(
        ticket(call.account, call.request.match_info["variety"], fields, simulator.instrument_by_symbol)))


def _known_order(state: PaperState, call: Call) -> SimOrder:
    """The path's order; the journal entry carries its tag (Kite's modify and cancel send none)."""
    order = _order_of(state, call)
    call.tag = order.tag
    return order


async def modify(state: PaperState, call: Call) -> web.Response:
    """`PUT /orders/{variety}/{order_id}`: the same order_id on success."""
    def act(fields: Mapping[str, Any]) -> SimOrder:
        order = _known_order(state, call)
        return state.simulator.modify(call.account, amendment(call.request.match_info["variety"], order, fields))

    return _order_request(state, call, act)


async def cancel(state: PaperState, call: Call) -> web.Response:
    """`DELETE /orders/{variety}/{order_id}`."""
    def act(_query: Mapping[str, Any]) -> SimOrder:
        order = _known_order(state, call)
        check_variety(call.request.match_info["variety"])
        if not order.is_open:
            raise Refused(f"Order cannot be cancelled: it is {STATUSES[order.status]}.")
        return state.simulator.cancel(call.account, order.app_order_id)

    return _order_request(state, call, act)


KITE_ROUTES: tuple[tuple[str, str, Route, Handler], ...] = tuple(
    (method, path, route, _checked(handler)) for method, path, route, handler in (
        ("POST", "/session/token", "login", session_token),
        ("DELETE", "/session/token", "logout", logout),
        ("GET", "/user/profile", "profile", profile),
        ("GET", "/orders", "order_book", orders),
        ("GET", "/orders/{order_id}", "order_book", order_history),
        ("GET", "/trades", "trade_book", trades),
        ("GET", "/orders/{order_id}/trades", "trade_book", order_trades),
        ("GET", "/portfolio/positions", "positions", positions),
        ("POST", "/orders/{variety}", "place", place),
        ("PUT", "/orders/{variety}/{order_id}", "modify", modify),
        ("DELETE", "/orders/{variety}/{order_id}", "cancel", cancel),
    ))
"""(method, path, fault route, handler); an order's history and its trades share the faults of the order and
trade books."""
