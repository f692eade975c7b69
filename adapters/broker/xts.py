"""The XTS Interactive API adapter (BROKER_XTS.md) behind the `Broker` port.

Owns the HTTP conversation with an XTS broker (or the paper broker): routes, auth header, timeouts, pacing per
session, typed results and failures. Uses the service's one `aiohttp.ClientSession`, keeps no session state and
never logs a token or a key. A read route keeps its last fully mapped answer per account (keyed without the
token) and returns it again, without decoding, for a byte-identical answer.
"""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, NamedTuple, TypeVar

import aiohttp
import msgspec

from adapters.broker import xts_wire as wire
from adapters.broker.json_rows import ListedRows, rows_by_bytes
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

Mapped = TypeVar("Mapped")
_RowsDecoder = Callable[["BrokerAccount", "_Call", Any, Mapping[bytes, Mapped]], ListedRows[Mapped]]
"""A read route's rows from the envelope's `result`, given the rows of its kept answer by their bytes."""

NO_DATA = object()
"""What `_send` returns for a list route's "Data Not Available": an empty list, not a failure."""
_ROUTE_PREFIX = "/interactive"
_SESSION_PATH = f"{_ROUTE_PREFIX}/user/session"
_ORDERS_PATH = f"{_ROUTE_PREFIX}/orders"
_TRADES_PATH = f"{_ROUTE_PREFIX}/orders/trades"
_POSITIONS_PATH = f"{_ROUTE_PREFIX}/portfolio/positions"


class XtsPacing(msgspec.Struct, frozen=True, kw_only=True):
    """Request pace per account session; None means unpaced (tests). Defaults are BROKER_XTS.md's."""

    reads: Rate | None = Rate(1, 1.0)     # order book, trade book, positions: each route on its own
    orders: Rate | None = Rate(10, 1.0)   # place, modify and cancel together


class ReadReuse(msgspec.Struct, frozen=True, kw_only=True):
    """Counts of read answers since start: `reused` were the same bytes as the route's kept answer,
    `decoded` were new and decoded; `accounts` have an answer kept now."""

    accounts: int
    reused: int
    decoded: int


class RowReuse(msgspec.Struct, frozen=True, kw_only=True):
    """Rows of the decoded read answers since start: `reused` had the bytes of a row of the route's kept answer,
    `decoded` were new; `decode_s` is the CPU time spent turning answers into rows (the reused answers' none)."""

    reused: int
    decoded: int
    decode_s: float


class _Call(msgspec.Struct, frozen=True, kw_only=True):
    """One request: `what` names it for messages; `mutating` requests are ambiguous when unanswered."""

    what: str
    method: str
    path: str
    params: dict[str, str] | None = None
    body: dict[str, Any] | None = None
    mutating: bool = False
    authenticated: bool = True
    lists_rows: bool = False


class _KeptRead(NamedTuple):
    status: int
    body: bytes
    rows: tuple[Any, ...]
    by_bytes: Mapping[bytes, Any]
    """The rows by their bytes in the answer (empty for a route whose rows are not kept one by one)."""


_AccountKey = tuple[str, str]
"""(base_url, client_id): whose answers are kept. Never the token."""


class _KeptReads:
    """Each account's last successful answer per read route, for the `max_accounts` accounts read most
    recently."""

    def __init__(self, max_accounts: int) -> None:
        self._max_accounts = max_accounts
        self._accounts: OrderedDict[_AccountKey, dict[str, _KeptRead]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._accounts)

    def get(self, account: _AccountKey, route: str) -> _KeptRead | None:
        routes = self._accounts.get(account)
        if routes is None:
            return None
        self._accounts.move_to_end(account)
        return routes.get(route)

    def keep(self, account: _AccountKey, route: str, kept: _KeptRead) -> None:
        self._accounts.setdefault(account, {})[route] = kept
        self._accounts.move_to_end(account)
        while len(self._accounts) > self._max_accounts:
            self._accounts.popitem(last=False)


class XtsBroker:
    """The `Broker` port over XTS's REST routes, for every account of the service."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        timeout_s: float = 10.0,
        pacing: XtsPacing = XtsPacing(),  # noqa: B008 - immutable
        source: str = "WEBAPI",
        observe: Callable[[str, str, float], None] | None = None,
        read_cache_accounts: int = 20_000,
        send_guard: SendGuard | None = None,
    ) -> None:
        """`observe(endpoint, status, seconds)` is told every call's outcome (metrics); it must be quick.
        `read_cache_accounts` bounds how many accounts' last read answers are kept. A place, modify or cancel
        goes out only when `send_guard` (if any) lets it."""
        self._transport = Transport(session, timeout_s=timeout_s, observe=observe, send_guard=send_guard)
        self._kept_reads = _KeptReads(read_cache_accounts)
        self._reads_reused = 0
        self._reads_decoded = 0
        self._rows_reused = 0
        self._rows_decoded = 0
        self._decode_s = 0.0
        self._read_pacer = Pacer(pacing.reads)
        self._order_pacer = Pacer(pacing.orders)
        self._source = source

    async def login(self, account: BrokerAccount) -> str:
        if not (account.app_key and account.secret_key):
            raise BrokerRejected(
                f"login for {account.client_id}: no app key and secret key stored", reason="no credentials"
            )
        call = _Call(
            what="login",
            method="POST",
            path=_SESSION_PATH,
            body={"appKey": account.app_key, "secretKey": account.secret_key, "source": self._source},
            authenticated=False,
        )
        result = await self._send(account, call)
        return self._decode(account, call, result, wire.XtsLoginResult).token

    def login_url(self, account: BrokerAccount) -> str:
        """XTS logs in with the stored keys alone: there is no page to log in at."""
        return ""

    async def open_session(self, account: BrokerAccount, request_token: str) -> str:
        raise BrokerRejected(f"session for {account.client_id}: XTS has no login by hand, so no request token; "
                             f"send its session token, or nothing to log in with the stored keys",
                             reason="no request token login")

    async def order_book(self, account: BrokerAccount) -> list[BrokerOrder]:
        call = _Call(what="order book", method="GET", path=_ORDERS_PATH,
                     params={"clientID": account.client_id}, lists_rows=True)
        return await self._read(account, call, self._orders)

    async def trade_book(self, account: BrokerAccount) -> list[BrokerTrade]:
        call = _Call(what="trade book", method="GET", path=_TRADES_PATH,
                     params={"clientID": account.client_id}, lists_rows=True)
        return await self._read(account, call, self._trades)

    async def positions(self, account: BrokerAccount, view: PositionView = "NetWise") -> list[BrokerPosition]:
        call = _Call(what=f"positions ({view})", method="GET", path=_POSITIONS_PATH,
                     params={"dayOrNet": view, "clientID": account.client_id}, lists_rows=True)
        return await self._read(account, call, self._positions)

    def read_reuse(self) -> ReadReuse:
        return ReadReuse(accounts=len(self._kept_reads), reused=self._reads_reused, decoded=self._reads_decoded)

    def row_reuse(self) -> RowReuse:
        return RowReuse(reused=self._rows_reused, decoded=self._rows_decoded, decode_s=self._decode_s)

    async def place(self, account: BrokerAccount, request: OrderRequest) -> PlaceAck:
        _check_tag(account, request.tag, "place")
        call = _Call(
            what=f"place {request.tag}",
            method="POST",
            path=_ORDERS_PATH,
            body={
                "exchangeSegment": request.exchange_segment,
                "exchangeInstrumentID": request.instrument_id,
                "productType": request.product_type,
                "orderType": request.order_type,
                "orderSide": request.side,
                "timeInForce": request.time_in_force,
                "disclosedQuantity": request.disclosed_qty,
                "orderQuantity": request.quantity,
                "limitPrice": request.limit_price,
                "stopPrice": request.stop_price,
                "apiOrderSource": wire.API_ORDER_SOURCE,
                "orderUniqueIdentifier": request.tag,
                "clientID": account.client_id,
            },
            mutating=True,
        )
        return self._ack(account, call, await self._send(account, call), request.tag)

    async def place_batch(
        self, account: BrokerAccount, requests: Sequence[OrderRequest]
    ) -> list[PlaceAck | BrokerError]:
        return await place_each(self.place, account, requests)

    async def modify(self, account: BrokerAccount, request: ModifyRequest) -> PlaceAck:
        _check_tag(account, request.tag, "modify")
        call = _Call(
            what=f"modify {request.app_order_id}",
            method="PUT",
            path=_ORDERS_PATH,
            body={
                "appOrderID": request.app_order_id,
                "modifiedProductType": request.product_type,
                "modifiedOrderType": request.order_type,
                "modifiedOrderQuantity": request.quantity,
                "modifiedDisclosedQuantity": request.disclosed_qty,
                "modifiedLimitPrice": request.limit_price,
                "modifiedStopPrice": request.stop_price,
                "modifiedTimeInForce": request.time_in_force,
                "orderUniqueIdentifier": request.tag,
                "clientID": account.client_id,
            },
            mutating=True,
        )
        return self._ack(account, call, await self._send(account, call), request.tag)

    async def cancel(self, account: BrokerAccount, app_order_id: int, tag: str = "") -> PlaceAck:
        """`orderUniqueIdentifier` goes with every cancel, empty when there is no tag, as the official SDKs
        send it."""
        params = {"appOrderID": str(app_order_id), "orderUniqueIdentifier": tag, "clientID": account.client_id}
        call = _Call(what=f"cancel {app_order_id}", method="DELETE", path=_ORDERS_PATH, params=params,
                     mutating=True)
        return self._ack(account, call, await self._send(account, call), tag)

    async def _read(self, account: BrokerAccount, call: _Call, decode: _RowsDecoder[Mapped]) -> list[Mapped]:
        """The route's rows: the kept ones when the answer's status and body are the same bytes as the last
        successful answer of this route for this account; else decoded, each row that has the bytes of a kept
        answer's row taken from it."""
        account_key = (account.base_url, account.client_id)
        kept = self._kept_reads.get(account_key, call.what)
        status, raw = await self._exchange(account, call, kept.body if kept is not None else b"")
        if kept is not None and raw is kept.body and status == kept.status:
            self._reads_reused += 1
            return list(kept.rows)
        started = time.thread_time()
        kept_rows = decode(account, call, self._result(account, call, status, raw, rows=True),
                           kept.by_bytes if kept is not None else {})
        self._decode_s += time.thread_time() - started
        self._reads_decoded += 1
        self._rows_decoded += kept_rows.decoded
        self._rows_reused += len(kept_rows.rows) - kept_rows.decoded
        self._kept_reads.keep(account_key, call.what,
                              _KeptRead(status, raw, tuple(kept_rows.rows), kept_rows.by_bytes))
        return kept_rows.rows

    def _orders(self, account: BrokerAccount, call: _Call, result: Any, previous: Mapping[bytes, BrokerOrder]
                ) -> ListedRows[BrokerOrder]:
        return self._listed(account, call, result, previous, wire.order_rows, wire.XtsOrderRow, wire.to_order)

    def _trades(self, account: BrokerAccount, call: _Call, result: Any, previous: Mapping[bytes, BrokerTrade]
                ) -> ListedRows[BrokerTrade]:
        return self._listed(account, call, result, previous, wire.trade_rows, wire.XtsTradeRow, wire.to_trade)

    def _listed(self, account: BrokerAccount, call: _Call, result: Any, previous: Mapping[bytes, Mapped],
                decode_new: Callable[[list[tuple[int, bytes]], str], list[Mapped]], row_type: type[wire.Row],
                to_port: Callable[[Any], Mapped]) -> ListedRows[Mapped]:
        """A list route's rows: from its rows' bytes, each new one decoded once; or (an answer given in another
        shape, which then fails to decode) converted whole."""
        if result is NO_DATA:
            return ListedRows([], {}, 0)
        if isinstance(result, list) and all(isinstance(row, msgspec.Raw) for row in result):
            return decoded(lambda: rows_by_bytes(result, previous, lambda new: decode_new(new, call.what)),
                           _where(account, call), mutating=call.mutating)
        rows = self._map(account, call, self._rows(account, call, result, row_type), to_port)
        return ListedRows(rows, {}, len(rows))

    def _positions(self, account: BrokerAccount, call: _Call, result: Any, previous: Mapping[bytes, BrokerPosition]
                   ) -> ListedRows[BrokerPosition]:
        """A handful of rows under `positionList`: converted whole, none kept one by one."""
        if result is NO_DATA:
            return ListedRows([], {}, 0)
        listing = self._decode(account, call, result, wire.XtsPositions)
        rows = self._map(account, call, self._rows(account, call, listing.positionList, wire.XtsPositionRow),
                         wire.to_position)
        return ListedRows(rows, {}, len(rows))

    async def _send(self, account: BrokerAccount, call: _Call) -> Any:
        """Make the request and return the envelope's `result`, or `NO_DATA` for XTS's "no data" answer."""
        status, raw = await self._exchange(account, call)
        return self._result(account, call, status, raw)

    async def _exchange(self, account: BrokerAccount, call: _Call, known: bytes = b"") -> tuple[int, bytes]:
        """Make the request; the answer's HTTP status and body (`known` itself when the body is the same
        bytes), or the transport's typed failure."""
        where = f"{call.what} for {account.client_id}"
        headers = {"Content-Type": "application/json"}
        if call.authenticated:
            if not account.token:
                raise SessionExpired(f"{where}: no session token; log in first")
            headers["Authorization"] = account.token
        request = HttpRequest(
            where=where, endpoint=f"{call.method} {call.path}", method=call.method, url=_url(account, call),
            headers=headers, user_id=account.user_id, params=call.params,
            data=wire.encode_json(call.body) if call.body is not None else None, mutating=call.mutating,
        )
        return await self._transport.exchange(request, self._paced(account, call), known)

    def _result(self, account: BrokerAccount, call: _Call, status: int, raw: bytes, *, rows: bool = False) -> Any:
        """The envelope's `result` (with `rows`, a list as each row's bytes), or the answer's typed failure."""
        where = f"{call.what} for {account.client_id}"
        try:
            envelope: wire.Envelope | None = wire.decode_envelope(raw, rows=rows)
        except wire.WireError as exc:
            envelope, undecodable = None, exc
        if envelope is not None and wire.is_invalid_session(envelope):
            raise SessionExpired(f"{where}: session expired ({envelope.description or envelope.code})")
        if status == 404:
            raise BrokerMisconfigured(_no_such_route(account, call, envelope))
        maybe = " (it may have reached the broker)" if call.mutating else ""
        if status >= 500:
            raise BrokerUnavailable(f"{where}: broker error HTTP {status}{maybe}", ambiguous=call.mutating)
        if status == 429:
            raise BrokerUnavailable(f"{where}: rate limited by the broker (HTTP 429)")
        if envelope is None:
            raise BrokerProtocolError(f"{where}: unreadable answer ({undecodable.detail})",
                                      field=undecodable.field, ambiguous=call.mutating)
        if envelope.succeeded:
            return envelope.result
        if envelope.type != "error":
            raise BrokerProtocolError(f"{where}: envelope type {envelope.type!r} is not success or error",
                                      field="type", ambiguous=call.mutating)
        if call.lists_rows and wire.is_no_data(envelope):
            return NO_DATA
        reason = _reason(envelope)
        raise BrokerRejected(f"{where}: rejected by the broker: {reason}", reason=reason)

    def _paced(self, account: BrokerAccount, call: _Call) -> AbstractAsyncContextManager[None]:
        """The turn a request waits for: orders paced per session, reads per session and route, log-ins not."""
        session_key = (account.base_url, account.client_id)
        if call.mutating:
            return self._order_pacer.turn(session_key)
        if call.authenticated:
            return self._read_pacer.turn((*session_key, call.path))
        return contextlib.nullcontext()

    def _rows(self, account: BrokerAccount, call: _Call, result: Any, row_type: type[wire.Row]
              ) -> list[wire.Row]:
        if result is NO_DATA:
            return []
        return decoded(lambda: wire.convert_rows(result, row_type, call.what), _where(account, call),
                       mutating=call.mutating)

    def _decode(self, account: BrokerAccount, call: _Call, result: Any, result_type: type[wire.Row]
                ) -> wire.Row:
        return decoded(lambda: wire.convert(result, result_type, call.what), _where(account, call),
                       mutating=call.mutating)

    def _map(self, account: BrokerAccount, call: _Call, rows: list[wire.Row],
             to_port: Callable[[wire.Row], Mapped]) -> list[Mapped]:
        return decoded(lambda: [to_port(row) for row in rows], _where(account, call), mutating=call.mutating)

    def _ack(self, account: BrokerAccount, call: _Call, result: Any, tag: str) -> PlaceAck:
        ack = self._decode(account, call, result, wire.XtsOrderAck)
        return PlaceAck(app_order_id=ack.AppOrderID, tag=ack.OrderUniqueIdentifier or tag)


def _url(account: BrokerAccount, call: _Call) -> str:
    return account.base_url.rstrip("/") + call.path


def _no_such_route(account: BrokerAccount, call: _Call, envelope: wire.Envelope | None) -> str:
    """What a 404 says: the route the adapter called is not where the account's base URL points."""
    said = f" ({envelope.description or envelope.code})" if envelope is not None else ""
    hint = (f"; this one ends in {_ROUTE_PREFIX}, which every route already starts with"
            if account.base_url.rstrip("/").endswith(_ROUTE_PREFIX) else "")
    return (f"{call.what} for {account.client_id}: HTTP 404 for {call.method} {_url(account, call)}{said}: the "
            f"broker has no such route; check the account's base_url, which must be the broker's address alone "
            f"(without {_ROUTE_PREFIX}){hint}")


def _check_tag(account: BrokerAccount, tag: str, what: str) -> None:
    if len(tag) > MAX_TAG_LENGTH:
        raise BrokerRejected(
            f"{what} for {account.client_id}: tag {tag!r} is over {MAX_TAG_LENGTH} characters; not sent",
            reason="orderUniqueIdentifier too long",
        )


def _reason(envelope: wire.Envelope) -> str:
    reason = envelope.description or envelope.code or "no reason given"
    errors = envelope.result.get("errors") if isinstance(envelope.result, dict) else None
    if isinstance(errors, list) and errors:
        reason += ": " + "; ".join(str(error) for error in errors)
    return reason


def _where(account: BrokerAccount, call: _Call) -> str:
    return f"{call.what} for {account.client_id}"
