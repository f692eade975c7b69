"""The XTS Interactive API adapter (BROKER_XTS.md) behind the `Broker` port.

Owns the HTTP conversation with an XTS broker (or the paper broker, which serves the same format): the
routes, the `Authorization` header, the per-call timeout, pacing per account session, and the mapping of
every answer to a typed result or a typed failure. It shares the service's one `aiohttp.ClientSession`
(created on the running loop by the composition root) and never opens its own. It keeps no session
state: tokens travel in the `BrokerAccount` of each call, and a new token from `login` is the caller's to
store. It never logs or puts into a message a token or a key.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import aiohttp
import msgspec

from adapters.broker import xts_wire as wire
from adapters.broker.errors import (
    BrokerError,
    BrokerProtocolError,
    BrokerRejected,
    BrokerTimeout,
    BrokerUnavailable,
    SessionExpired,
)
from adapters.broker.pacing import Pacer, Rate
from adapters.broker.port import PositionView
from adapters.broker.types import (
    BrokerAccount,
    BrokerOrder,
    BrokerPosition,
    BrokerTrade,
    ModifyRequest,
    OrderRequest,
    PlaceAck,
)

log = logging.getLogger(__name__)
Mapped = TypeVar("Mapped")

MAX_TAG_LENGTH = 20
NO_DATA = object()
"""What `_send` returns for a list route's "Data Not Available": an empty list, not a failure."""
_SESSION_PATH = "/interactive/user/session"
_ORDERS_PATH = "/interactive/orders"
_TRADES_PATH = "/interactive/orders/trades"
_POSITIONS_PATH = "/interactive/portfolio/positions"


class XtsPacing(msgspec.Struct, frozen=True, kw_only=True):
    """Request pace per account session; None means unpaced (tests). Defaults are BROKER_XTS.md's."""

    reads: Rate | None = Rate(1, 1.0)     # order book, trade book, positions: each route on its own
    orders: Rate | None = Rate(10, 1.0)   # place, modify and cancel together


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
    ) -> None:
        """`observe(endpoint, status, seconds)` is told every call's outcome (metrics); it must be quick."""
        self._observe = observe
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
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

    async def order_book(self, account: BrokerAccount) -> list[BrokerOrder]:
        call = _Call(what="order book", method="GET", path=_ORDERS_PATH,
                     params={"clientID": account.client_id}, lists_rows=True)
        rows = self._rows(account, call, await self._send(account, call), wire.XtsOrderRow)
        return self._map(account, call, rows, wire.to_order)

    async def trade_book(self, account: BrokerAccount) -> list[BrokerTrade]:
        call = _Call(what="trade book", method="GET", path=_TRADES_PATH,
                     params={"clientID": account.client_id}, lists_rows=True)
        rows = self._rows(account, call, await self._send(account, call), wire.XtsTradeRow)
        return self._map(account, call, rows, wire.to_trade)

    async def positions(self, account: BrokerAccount, view: PositionView = "NetWise") -> list[BrokerPosition]:
        call = _Call(what=f"positions ({view})", method="GET", path=_POSITIONS_PATH,
                     params={"dayOrNet": view, "clientID": account.client_id}, lists_rows=True)
        result = await self._send(account, call)
        if result is NO_DATA:
            return []
        listing = self._decode(account, call, result, wire.XtsPositions)
        rows = self._rows(account, call, listing.positionList, wire.XtsPositionRow)
        return self._map(account, call, rows, wire.to_position)

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
                "orderUniqueIdentifier": request.tag,
                "clientID": account.client_id,
            },
            mutating=True,
        )
        return self._ack(account, call, await self._send(account, call), request.tag)

    async def place_batch(
        self, account: BrokerAccount, requests: Sequence[OrderRequest]
    ) -> list[PlaceAck | BrokerError]:
        outcomes = await asyncio.gather(*(self.place(account, r) for r in requests), return_exceptions=True)
        results: list[PlaceAck | BrokerError] = []
        for request, outcome in zip(requests, outcomes, strict=True):
            if isinstance(outcome, PlaceAck | BrokerError):
                results.append(outcome)
            elif isinstance(outcome, Exception):
                log.error("place %s for %s failed unexpectedly", request.tag, account.client_id,
                          exc_info=outcome)
                results.append(BrokerError(
                    f"place {request.tag} for {account.client_id}: unexpected failure "
                    f"({type(outcome).__name__}); the order may exist at the broker",
                    ambiguous=True,
                ))
            else:
                raise outcome
        return results

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
        params = {"appOrderID": str(app_order_id), "clientID": account.client_id}
        if tag:
            params["orderUniqueIdentifier"] = tag
        call = _Call(what=f"cancel {app_order_id}", method="DELETE", path=_ORDERS_PATH, params=params,
                     mutating=True)
        return self._ack(account, call, await self._send(account, call), tag)

    async def _send(self, account: BrokerAccount, call: _Call) -> Any:
        """Make the request and return the envelope's `result`, or `NO_DATA` for XTS's "no data" answer."""
        where = f"{call.what} for {account.client_id}"
        headers = {"Content-Type": "application/json"}
        if call.authenticated:
            if not account.token:
                raise SessionExpired(f"{where}: no session token; log in first")
            headers["Authorization"] = account.token
        await self._pace(account, call)
        body = wire.encode_json(call.body) if call.body is not None else None
        maybe = " (it may have reached the broker)" if call.mutating else ""
        started, outcome = time.monotonic(), "error"
        try:
            async with self._session.request(
                call.method, account.base_url.rstrip("/") + call.path, params=call.params, data=body,
                headers=headers, timeout=self._timeout,
            ) as response:
                status = response.status
                raw = await response.read()
                outcome = str(status)
        except TimeoutError:
            outcome = "timeout"
            raise BrokerTimeout(f"{where}: no answer within {self._timeout.total:g} s{maybe}",
                                ambiguous=call.mutating) from None
        except aiohttp.ClientConnectorError:
            raise BrokerUnavailable(f"{where}: cannot connect to the broker") from None
        except aiohttp.ClientError as exc:
            raise BrokerUnavailable(f"{where}: connection failed ({type(exc).__name__}){maybe}",
                                    ambiguous=call.mutating) from None
        finally:
            if self._observe is not None:
                self._observe(f"{call.method} {call.path}", outcome, time.monotonic() - started)
        return self._result(where, call, status, raw)

    def _result(self, where: str, call: _Call, status: int, raw: bytes) -> Any:
        try:
            envelope: wire.Envelope | None = wire.decode_envelope(raw)
        except wire.WireError as exc:
            envelope, undecodable = None, exc
        description = envelope.description if envelope else ""
        expired_code = envelope is not None and envelope.code == wire.SESSION_EXPIRED_CODE
        if expired_code or description.strip().lower() == "invalid token":
            raise SessionExpired(f"{where}: session expired ({description or wire.SESSION_EXPIRED_CODE})")
        if status == 404 or description.strip().lower() == "not found":
            raise SessionExpired(f"{where}: session expired (HTTP {status} not found)")
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
        if call.lists_rows and envelope.code in wire.NO_DATA_CODES:
            return NO_DATA
        reason = _reason(envelope)
        raise BrokerRejected(f"{where}: rejected by the broker: {reason}", reason=reason)

    async def _pace(self, account: BrokerAccount, call: _Call) -> None:
        session_key = (account.base_url, account.client_id)
        if call.mutating:
            await self._order_pacer.wait_turn(session_key)
        elif call.authenticated:
            await self._read_pacer.wait_turn((*session_key, call.path))

    def _rows(self, account: BrokerAccount, call: _Call, result: Any, row_type: type[wire.Row]
                    ) -> list[wire.Row]:
        if result is NO_DATA:
            return []
        try:
            return wire.convert_rows(result, row_type, call.what)
        except wire.WireError as exc:
            raise _protocol_error(account, call, exc) from None

    def _decode(self, account: BrokerAccount, call: _Call, result: Any, result_type: type[wire.Row]
                ) -> wire.Row:
        try:
            return wire.convert(result, result_type, call.what)
        except wire.WireError as exc:
            raise _protocol_error(account, call, exc) from None

    def _map(self, account: BrokerAccount, call: _Call, rows: list[wire.Row],
             to_port: Callable[[wire.Row], Mapped]) -> list[Mapped]:
        try:
            return [to_port(row) for row in rows]
        except wire.WireError as exc:
            raise _protocol_error(account, call, exc) from None

    def _ack(self, account: BrokerAccount, call: _Call, result: Any, tag: str) -> PlaceAck:
        ack = self._decode(account, call, result, wire.XtsOrderAck)
        return PlaceAck(app_order_id=ack.AppOrderID, tag=ack.OrderUniqueIdentifier or tag)


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


def _protocol_error(account: BrokerAccount, call: _Call, exc: wire.WireError) -> BrokerProtocolError:
    return BrokerProtocolError(
        f"{call.what} for {account.client_id}: field {exc.field} does not decode ({exc.detail})",
        field=exc.field,
        ambiguous=call.mutating,
    )
