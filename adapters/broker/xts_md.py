"""The XTS Market Data client (MARKETDATA_XTS.md): one market-data session, the instruments it watches, and
the stream of their quotes.

Owns the session (its own app key and secret key, logged in again when the broker calls the token dead),
the subscriptions (the touchline, 1501, of every watched instrument; a repeat subscription is no error), the
Socket.IO stream (`python-socketio`, on the service's one aiohttp session) and what happens when it drops:
it connects again after `reconnect_s`, subscribes everything again and re-reads every quote by REST (ticks
were missed), and while it is down it polls REST quotes every `poll_s` instead. Every quote goes to
`on_quote`. Never logs a token or a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

import aiohttp
import socketio

from adapters.broker import xts_md_wire as wire
from adapters.broker.json_rows import WireError
from adapters.broker.xts_wire import decode_envelope, encode_json, is_invalid_session
from domain.broker_errors import BrokerProtocolError, BrokerRejected, BrokerUnavailable, SessionExpired
from domain.quotes import Quote

log = logging.getLogger(__name__)

Instrument = tuple[str, int]
"""(segment name, exchange instrument id)."""
_PREFIX = "/apimarketdata"
_SOCKET_PATH = f"{_PREFIX}/socket.io"
_EVENTS = (f"{wire.TOUCHLINE}-json-full", f"{wire.MARKET_DEPTH}-json-full")
_QUOTES_PER_REQUEST = 50
_DEAD_TOKEN = object()
"""What `_request` answers when the broker calls the session's token dead."""


class XtsMarketData:
    def __init__(self, http: aiohttp.ClientSession, *, base_url: str, app_key: str, secret_key: str,
                 on_quote: Callable[[Quote], None], timeout_s: float = 10.0, reconnect_s: float = 2.0,
                 poll_s: float = 5.0) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._keys = {"appKey": app_key, "secretKey": secret_key, "source": "WEBAPI"}
        self._on_quote = on_quote
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._reconnect_s = reconnect_s
        self._poll_s = poll_s
        self._token = ""
        self._user_id = ""
        self._watched: set[Instrument] = set()
        self._subscribed: set[Instrument] = set()
        """Instruments subscribed on the current connection (a failed subscription is tried at the next watch)."""
        self._refused: set[Instrument] = set()
        """Watched instruments the broker would not subscribe (its subscription cap): read by REST instead, and
        not asked for again before the next connection."""
        self._login_lock = asyncio.Lock()
        self._connected = asyncio.Event()
        self._was_connected = False
        self.reconnects = 0
        """How many times the stream was connected again after it dropped."""

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def watch(self, instruments: Iterable[Instrument]) -> None:
        """Watch exactly `instruments` from now on: subscribe those not subscribed yet (their snapshot goes to
        `on_quote`), unsubscribe the others. While the stream is down the subscription waits for the next
        connection; one that failed is tried again at the next call. An instrument of a segment XTS Market Data
        does not have is left out, with a warning."""
        wanted = set()
        for instrument in instruments:
            if instrument[0] in wire.SEGMENT_CODES:
                wanted.add(instrument)
            else:
                log.warning("market data has no segment %s: instrument %d is not fed", *instrument,
                            extra={"step": "fair_price_feed"})
        self._watched = wanted
        if not self.connected:
            return
        self._refused &= wanted
        dropped = self._subscribed - wanted
        if dropped:
            await self._call("PUT", "/instruments/subscription", wire.instruments_body(sorted(dropped)))
            self._subscribed -= dropped
        added = wanted - self._subscribed - self._refused
        if added:
            await self._subscribe(sorted(added))

    async def run(self) -> None:
        """Keep the stream up until cancelled: connect, subscribe and re-read, wait for a drop, poll meanwhile."""
        while True:
            try:
                await self._stream()
            except (SessionExpired, BrokerRejected, BrokerUnavailable, BrokerProtocolError,
                    socketio.exceptions.ConnectionError) as error:
                log.warning("market data stream down: %s", error, extra={"step": "fair_price_feed"})
            except Exception:
                log.exception("market data stream failed unexpectedly", extra={"step": "fair_price_feed"})
            await self._poll_until(asyncio.get_running_loop().time() + self._reconnect_s)

    async def quotes(self, instruments: Iterable[Instrument]) -> list[Quote]:
        """The current quotes of `instruments` by REST (no subscription needed)."""
        listed = sorted(instruments)
        found: list[Quote] = []
        for start in range(0, len(listed), _QUOTES_PER_REQUEST):
            body = {**wire.instruments_body(listed[start:start + _QUOTES_PER_REQUEST]), "publishFormat": "JSON"}
            found.extend(_decoded(wire.decode_snapshots, await self._call("POST", "/instruments/quotes", body)))
        return found

    async def close(self) -> None:
        """Log the session out (a dead one is left as it is: no login just to log out)."""
        if self._token:
            with contextlib.suppress(SessionExpired, BrokerRejected, BrokerUnavailable, BrokerProtocolError):
                await self._request("DELETE", "/auth/logout", None, True, False)

    async def _stream(self) -> None:
        if not self._token:
            await self._login()
        client = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=self._http)
        for event in _EVENTS:
            client.on(event, self._event)
        client.on("disconnect", lambda *reason: self._connected.clear())
        query = urlencode({"token": self._token, "userID": self._user_id, "publishFormat": "JSON",
                           "broadcastMode": "Full"})
        try:
            await client.connect(f"{self._base_url}/?{query}", socketio_path=_SOCKET_PATH, transports=["websocket"],
                                 wait_timeout=self._timeout.total or 10)
            self._connected.set()
            if self._was_connected:
                self.reconnects += 1
            self._was_connected = True
            self._subscribed.clear()
            self._refused.clear()
            await self._subscribe(sorted(self._watched))
            for quote in await self.quotes(self._watched):
                self._on_quote(quote)
            await self._while_up(client)
        finally:
            self._connected.clear()
            with contextlib.suppress(Exception):
                await client.disconnect()
            client.eio.http = None  # the service's session: engineio's __del__ closes any session it still holds

    async def _while_up(self, client: socketio.AsyncClient) -> None:
        """Until the stream drops: the watched instruments not subscribed (refused, or their subscription failed)
        read by REST every `poll_s`."""
        stream = asyncio.ensure_future(client.wait())
        try:
            while not stream.done():
                await asyncio.wait((stream,), timeout=self._poll_s)
                unsubscribed = self._watched - self._subscribed
                if unsubscribed and not stream.done():
                    await self._read(unsubscribed)
        finally:
            stream.cancel()

    async def _read(self, instruments: Iterable[Instrument]) -> None:
        """Quotes of `instruments` by REST to `on_quote`; a failure is logged, the next read tries again."""
        try:
            if not self._token:
                await self._login()
            for quote in await self.quotes(instruments):
                self._on_quote(quote)
        except (SessionExpired, BrokerRejected, BrokerUnavailable, BrokerProtocolError) as error:
            log.warning("market data quotes failed: %s", error, extra={"step": "fair_price_feed"})

    async def _poll_until(self, deadline: float) -> None:
        """Until `deadline`: REST quotes of every watched instrument, every `poll_s` (the stream is down)."""
        loop = asyncio.get_running_loop()
        while True:
            if self._watched:
                await self._read(self._watched)
            left = deadline - loop.time()
            if left <= 0:
                return
            await asyncio.sleep(min(self._poll_s, left))

    async def _login(self, dead: str = "") -> None:
        """A new session, unless another caller has replaced the `dead` token already: a second login would end
        the first one's session (XTS keeps one per key pair)."""
        async with self._login_lock:
            if self._token and self._token != dead:
                return
            result = await self._call("POST", "/auth/login", self._keys, authenticated=False)
            token = result.get("token") if isinstance(result, dict) else None
            if not isinstance(token, str) or not token:
                raise BrokerProtocolError("market data login: no token in the answer", field="token")
            self._token, self._user_id = token, str(result.get("userID", ""))

    async def _subscribe(self, instruments: list[Instrument]) -> None:
        """Subscribe `instruments` (their snapshots go to `on_quote`); those the broker refuses (its cap on a
        session's subscriptions) are read by REST while the stream is up. A refused batch is tried again one
        instrument at a time, so what room the cap leaves is used."""
        for start in range(0, len(instruments), _QUOTES_PER_REQUEST):
            batch = instruments[start:start + _QUOTES_PER_REQUEST]
            try:
                result = await self._call("POST", "/instruments/subscription", wire.instruments_body(batch),
                                          already_subscribed_ok=True)
            except BrokerRejected as refusal:
                if len(batch) > 1:
                    for instrument in batch:
                        await self._subscribe([instrument])
                    continue
                log.warning("market data: %s %d not subscribed (%s); read by REST every %g s instead",
                            *batch[0], refusal.reason, self._poll_s, extra={"step": "fair_price_feed"})
                self._refused.update(batch)
                continue
            self._subscribed.update(batch)
            for quote in _decoded(wire.decode_snapshots, result):
                self._on_quote(quote)

    def _event(self, payload: Any) -> None:
        try:
            quote = wire.decode_event(payload)
        except WireError as error:
            log.warning("market data event does not decode: %s", error)
            return
        self._on_quote(quote)

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None, *,
                    authenticated: bool = True, already_subscribed_ok: bool = False) -> Any:
        """The answer's `result`; a token the broker calls dead is replaced by a new login, once, and the
        request made again."""
        if authenticated and not self._token:
            await self._login()
        sent_with = self._token
        result = await self._request(method, path, body, authenticated, already_subscribed_ok)
        if result is _DEAD_TOKEN:
            await self._login(dead=sent_with)
            result = await self._request(method, path, body, authenticated, already_subscribed_ok)
            if result is _DEAD_TOKEN:
                raise SessionExpired(f"market data {path}: the session expired again right after a login")
        return result

    async def _request(self, method: str, path: str, body: dict[str, Any] | None, authenticated: bool,
                       already_subscribed_ok: bool) -> Any:
        """The answer's `result`, or `_DEAD_TOKEN` when the broker calls the session's token dead."""
        headers = {"Content-Type": "application/json"}
        if authenticated:
            headers["Authorization"] = self._token
        try:
            async with self._http.request(method, f"{self._base_url}{_PREFIX}{path}", headers=headers,
                                          data=encode_json(body) if body is not None else None,
                                          timeout=self._timeout) as response:
                status, raw = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise BrokerUnavailable(f"market data {path}: {type(error).__name__}") from None
        try:
            envelope = decode_envelope(raw)
        except WireError as error:
            raise BrokerProtocolError(f"market data {path}: HTTP {status}, {error.detail}",
                                      field=error.field) from None
        if is_invalid_session(envelope):
            if not authenticated:
                raise SessionExpired(f"market data {path}: the broker refused the session")
            return _DEAD_TOKEN
        if envelope.succeeded or (already_subscribed_ok and envelope.code == wire.ALREADY_SUBSCRIBED_CODE):
            return envelope.result
        if status >= 500:
            raise BrokerUnavailable(f"market data {path}: HTTP {status}")
        reason = envelope.description or envelope.code or "no reason given"
        raise BrokerRejected(f"market data {path}: {reason}", reason=reason)


def _decoded(decode: Callable[[Any], list[Quote]], result: Any) -> list[Quote]:
    try:
        return decode(result)
    except WireError as error:
        raise BrokerProtocolError(f"market data answer: {error}", field=error.field) from None
