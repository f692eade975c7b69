"""The Zerodha Kite Connect v3 adapter (BROKER_KITE.md) behind the `Broker` port.

Owns the HTTP conversation with Kite (or a server speaking its wire format): routes, the `X-Kite-Version` and
`Authorization: token <api_key>:<access_token>` headers, form bodies, pacing per session, typed results and
failures judged from the body as the official SDK does. The account's `app_key` is Kite's api_key, its
`secret_key` the api_secret, its `token` the access token. The service places only the `regular` variety, so
every order route is `/orders/regular`. Keeps no session state and never puts a token, api key or secret in a
message.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import aiohttp
import msgspec

from adapters.broker import kite_wire as wire
from adapters.broker.json_rows import Row, WireError, convert, convert_rows
from adapters.broker.pacing import Pacer, Rate
from adapters.broker.transport import HttpRequest, Transport, decoded, place_each
from domain.broker import (
    MAX_TAG_LENGTH,
    BrokerAccount,
    BrokerOrder,
    BrokerPosition,
    BrokerTrade,
    ModifyRequest,
    OrderRequest,
    OrderTerms,
    PlaceAck,
)
from domain.broker_errors import (
    BrokerError,
    BrokerMisconfigured,
    BrokerProtocolError,
    BrokerRejected,
    BrokerUnavailable,
    SessionExpired,
)
from domain.ports.broker import PositionView
from domain.ports.send_guard import SendGuard

Decoded = TypeVar("Decoded")

KITE_VERSION = "3"
API_HOST = "api.kite.trade"
LOGIN_PAGE = "https://kite.zerodha.com/connect/login"
VARIETY = "regular"
MARKET_PROTECTION_AUTO = "-1"
"""`market_protection` of MARKET and SL-M orders: Kite's automatic protection (it rejects them without one)."""
_SESSION_PATH = "/session/token"
_ORDERS_PATH = f"/orders/{VARIETY}"
_ORDER_BOOK_PATH = "/orders"
_TRADES_PATH = "/trades"
_POSITIONS_PATH = "/portfolio/positions"
_PROTECTED = frozenset({"MARKET", "STOPMARKET"})
_TAG = re.compile(rf"[A-Za-z0-9]{{1,{MAX_TAG_LENGTH}}}")
_VIEWS: dict[PositionView, str] = {"NetWise": "net", "DayWise": "day"}


class KitePacing(msgspec.Struct, frozen=True, kw_only=True):
    """Request pace per account session; None means unpaced (tests). Defaults are BROKER_KITE.md's."""

    reads: Rate | None = Rate(10, 1.0)    # order book, trade book, positions together
    orders: Rate | None = Rate(10, 1.0)   # place, modify and cancel together


class _Call(msgspec.Struct, frozen=True, kw_only=True):
    """One request: `what` names it for messages, `route` for metrics (the path with no order id);
    `mutating` requests are ambiguous when unanswered."""

    what: str
    method: str
    route: str
    path: str = ""
    form: dict[str, str] | None = None
    mutating: bool = False
    authenticated: bool = True

    @property
    def target(self) -> str:
        return self.path or self.route

    def __repr__(self) -> str:
        """Never the form (the session's api key, request token and checksum)."""
        return f"_Call(what={self.what!r}, method={self.method!r}, route={self.route!r})"


class KiteBroker:
    """The `Broker` port over Kite Connect's REST routes, for every account of the service."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        timeout_s: float = 10.0,
        pacing: KitePacing = KitePacing(),  # noqa: B008 - immutable
        observe: Callable[[str, str, float], None] | None = None,
        send_guard: SendGuard | None = None,
    ) -> None:
        """`observe(endpoint, status, seconds)` is told every call's outcome (metrics); it must be quick. A
        place, modify or cancel goes out only when `send_guard` (if any) lets it."""
        self._transport = Transport(session, timeout_s=timeout_s, observe=observe, send_guard=send_guard)
        self._read_pacer = Pacer(pacing.reads)
        self._order_pacer = Pacer(pacing.orders)

    async def login(self, account: BrokerAccount) -> str:
        raise SessionExpired(f"login for {account.client_id}: a Kite session starts with a login by hand once a "
                             f"day (Kite has no unattended login); log in at the account's login page")

    def login_url(self, account: BrokerAccount) -> str:
        """Kite's login page for the real API host (`api.kite.trade`); for any other base URL (a sandbox, the
        paper broker) the same page under that base URL, `<base_url>/connect/login`."""
        query = urlencode({"api_key": _api_key(account, "login"), "v": KITE_VERSION})
        base_url = account.base_url.rstrip("/")
        page = LOGIN_PAGE if urlsplit(base_url).hostname == API_HOST else f"{base_url}/connect/login"
        return f"{page}?{query}"

    async def open_session(self, account: BrokerAccount, request_token: str) -> str:
        if not (account.app_key and account.secret_key):
            raise BrokerRejected(f"session for {account.client_id}: no api key and api secret stored",
                                 reason="no credentials")
        if not request_token:
            raise BrokerRejected(f"session for {account.client_id}: no request token given; log in by hand first",
                                 reason="no request token")
        call = _Call(what="session", method="POST", route=_SESSION_PATH, authenticated=False, form={
            "api_key": account.app_key, "request_token": request_token,
            "checksum": wire.checksum(account.app_key, request_token, account.secret_key),
        })
        data = await self._send(account, call)
        return self._decode(account, call, lambda: convert(data, wire.KiteSession, "session")).access_token

    async def order_book(self, account: BrokerAccount) -> list[BrokerOrder]:
        call = _Call(what="order book", method="GET", route=_ORDER_BOOK_PATH)
        rows = self._rows(account, call, await self._send(account, call), wire.KiteOrderRow)
        return self._decode(account, call, lambda: [wire.to_order(row, account.client_id) for row in rows])

    async def trade_book(self, account: BrokerAccount) -> list[BrokerTrade]:
        call = _Call(what="trade book", method="GET", route=_TRADES_PATH)
        rows = self._rows(account, call, await self._send(account, call), wire.KiteTradeRow)
        return self._decode(account, call, lambda: [wire.to_trade(row, account.client_id) for row in rows])

    async def positions(self, account: BrokerAccount, view: PositionView = "NetWise") -> list[BrokerPosition]:
        """Kite answers both views at once: `data.net` is `NetWise`, `data.day` `DayWise`."""
        call = _Call(what=f"positions ({view})", method="GET", route=_POSITIONS_PATH)
        data = await self._send(account, call)
        both = self._decode(account, call, lambda: convert(data, wire.KitePositions, "positions"))
        key = _VIEWS[view]
        rows = self._rows(account, call, getattr(both, key), wire.KitePositionRow, f"data.{key}")
        return self._decode(account, call, lambda: [wire.to_position(row, account.client_id) for row in rows])

    async def place(self, account: BrokerAccount, request: OrderRequest) -> PlaceAck:
        what = f"place {request.tag}"
        exchange = _checked(account, what, request)
        form = {
            "exchange": exchange,
            "tradingsymbol": request.symbol,
            "transaction_type": request.side,
            **_terms(request),
            "product": request.product_type,
            "tag": request.tag,
        }
        call = _Call(what=what, method="POST", route=_ORDERS_PATH, form=form, mutating=True)
        return self._ack(account, call, await self._send(account, call), request.tag)

    async def place_batch(
        self, account: BrokerAccount, requests: Sequence[OrderRequest]
    ) -> list[PlaceAck | BrokerError]:
        return await place_each(self.place, account, requests)

    async def modify(self, account: BrokerAccount, request: ModifyRequest) -> PlaceAck:
        """Kite cannot change an order's tag or product: the order keeps those it was placed with."""
        call = _Call(what=f"modify {request.app_order_id}", method="PUT", route=f"{_ORDERS_PATH}/{{order_id}}",
                     path=f"{_ORDERS_PATH}/{request.app_order_id}", form=_terms(request), mutating=True)
        return self._ack(account, call, await self._send(account, call), request.tag)

    async def cancel(self, account: BrokerAccount, app_order_id: int, tag: str = "") -> PlaceAck:
        call = _Call(what=f"cancel {app_order_id}", method="DELETE", route=f"{_ORDERS_PATH}/{{order_id}}",
                     path=f"{_ORDERS_PATH}/{app_order_id}", mutating=True)
        return self._ack(account, call, await self._send(account, call), tag)

    async def _send(self, account: BrokerAccount, call: _Call) -> Any:
        """Make the request and return the envelope's `data`, or raise the typed failure."""
        where = f"{call.what} for {account.client_id}"
        headers = {"X-Kite-Version": KITE_VERSION}
        if call.authenticated:
            api_key = _api_key(account, call.what)
            if not account.token:
                raise SessionExpired(f"{where}: no access token; log in to Kite first")
            headers["Authorization"] = f"token {api_key}:{account.token}"
        request = HttpRequest(where=where, endpoint=f"{call.method} {call.route}", method=call.method,
                              url=_url(account, call), headers=headers, user_id=account.user_id, data=call.form,
                              mutating=call.mutating)
        status, raw = await self._transport.exchange(request, self._paced(account, call))
        return _data(account, call, status, raw)

    def _paced(self, account: BrokerAccount, call: _Call) -> AbstractAsyncContextManager[None]:
        """The turn a request waits for: orders and reads each paced per session, the session call not."""
        session_key = (account.base_url, account.client_id)
        if call.mutating:
            return self._order_pacer.turn(session_key)
        if call.authenticated:
            return self._read_pacer.turn(session_key)
        return contextlib.nullcontext()

    def _decode(self, account: BrokerAccount, call: _Call, decode: Callable[[], Decoded]) -> Decoded:
        return decoded(decode, f"{call.what} for {account.client_id}", mutating=call.mutating)

    def _rows(self, account: BrokerAccount, call: _Call, rows: Any, row_type: type[Row],
              listed_in: str = "data") -> list[Row]:
        return self._decode(account, call, lambda: convert_rows(rows, row_type, call.what, listed_in=listed_in))

    def _ack(self, account: BrokerAccount, call: _Call, data: Any, tag: str) -> PlaceAck:
        ack = self._decode(account, call, lambda: wire.order_id(convert(data, wire.KiteOrderAck, "ack").order_id))
        return PlaceAck(app_order_id=ack, tag=tag)


def _no_such_route(envelope: wire.Envelope) -> bool:
    """Kite's own answer to a path it does not have (a base URL with a path, such as `.../v3`): HTTP 404, a
    `GeneralException` "Route not found". Its 404 for an order id it does not know is an `InputException`."""
    return envelope.error_type == "GeneralException" and "route not found" in (envelope.message or "").lower()


def _url(account: BrokerAccount, call: _Call) -> str:
    return account.base_url.rstrip("/") + call.target


def _api_key(account: BrokerAccount, what: str) -> str:
    if not account.app_key:
        raise BrokerRejected(f"{what} for {account.client_id}: no Kite api key stored for the account; nothing sent",
                             reason="no api key")
    return account.app_key


def _checked(account: BrokerAccount, what: str, request: OrderRequest) -> str:
    """The Kite exchange of a request Kite can take; one it cannot is refused before anything is sent."""
    where = f"{what} for {account.client_id}"
    if not _TAG.fullmatch(request.tag):
        raise BrokerRejected(f"{where}: tag {request.tag!r} is not 1 to {MAX_TAG_LENGTH} letters and digits, "
                             f"as Kite needs; not sent", reason="tag not taken by Kite")
    if not request.symbol:
        raise BrokerRejected(f"{where}: no trading symbol, which Kite places by; not sent", reason="no symbol")
    try:
        return wire.kite_exchange(request.exchange_segment)
    except WireError as exc:
        raise BrokerRejected(f"{where}: {exc.detail}; not sent", reason="unknown segment") from None


def _terms(terms: OrderTerms) -> dict[str, str]:
    """The form fields a placement and a modification share; MARKET and SL-M carry Kite's automatic
    market protection, without which Kite rejects them."""
    form = {
        "quantity": str(terms.quantity),
        "order_type": wire.kite_order_type(terms.order_type),
        "price": _number(terms.limit_price),
        "trigger_price": _number(terms.stop_price),
        "validity": terms.time_in_force,
        "disclosed_quantity": str(terms.disclosed_qty),
    }
    if terms.order_type in _PROTECTED:
        form["market_protection"] = MARKET_PROTECTION_AUTO
    return form


def _number(amount: Decimal) -> str:
    return format(amount, "f")


def _data(account: BrokerAccount, call: _Call, status: int, raw: bytes) -> Any:
    """The envelope's `data`; a failure judged from the body first, as the official SDK does, then from the
    HTTP status."""
    where = f"{call.what} for {account.client_id}"
    maybe = " (it may have reached Kite)" if call.mutating else ""
    try:
        envelope: wire.Envelope | None = wire.decode_envelope(raw)
    except WireError as exc:
        envelope, undecodable = None, exc
    failed = envelope is not None and envelope.failed
    said = (envelope.message or envelope.error_type or "no message") if envelope is not None and failed else ""
    if failed and envelope.error_type == "TokenException":
        raise SessionExpired(f"{where}: Kite ended the session ({said}); log in to Kite again")
    if status >= 500:
        detail = f": {envelope.error_type}: {said}" if failed else ""
        raise BrokerUnavailable(f"{where}: Kite error HTTP {status}{detail}{maybe}", ambiguous=call.mutating)
    if status == 429 or (failed and envelope.error_type == "NetworkException"):
        raise BrokerUnavailable(f"{where}: Kite is rate limiting or unreachable (HTTP {status}: "
                                f"{said or 'no Kite answer'})")
    if status == 404 and (not failed or _no_such_route(envelope)):
        raise BrokerMisconfigured(
            f"{where}: HTTP 404 for {call.method} {_url(account, call)}: Kite has no such route; check the "
            f"account's base_url, which must be the host alone (e.g. https://{API_HOST})")
    if envelope is None:
        raise BrokerProtocolError(f"{where}: unreadable answer (HTTP {status}: {undecodable.detail}){maybe}",
                                  field=undecodable.field, ambiguous=call.mutating)
    if failed:
        raise BrokerRejected(f"{where}: rejected by Kite ({envelope.error_type or 'error'}): {said}", reason=said)
    if envelope.status != "success":
        raise BrokerProtocolError(f"{where}: envelope status {envelope.status!r} is not success or error{maybe}",
                                  field="status", ambiguous=call.mutating)
    return envelope.data
