"""The paper broker's XTS Market Data face (MARKETDATA_XTS.md in the shared notes): REST under `/apimarketdata`
and a Socket.IO stream at `/apimarketdata/socket.io` that publishes every quote change of a subscribed
instrument.

Owns the market data wire: its own login (a token per app key, apart from Interactive sessions), the
subscription, unsubscription and quotes routes, and the socket's connections and events. Sessions and
subscriptions are `md_sessions.py`'s, payloads `md_quotes.py`'s, the bid and ask the simulator's. Faults and
latency (`calls.py`) do not apply here; the stream has its own controls (`drop`, `down_for`). Unknown
codes of XTS (a passed cap, a bad instrument) are the paper's own: `e-session-0004`, `e-instrument-0001`,
`e-request-0001`.

The stream is a python-socketio 5.x `AsyncServer` on the broker's aiohttp app: Engine.IO 4, what python-socketio
5.x clients speak (as OpenAlgo's XTS client does); the official SDKs' EIO=3 clients cannot connect to it.
A socket connects with `?token=…&userID=…&publishFormat=JSON&broadcastMode=Full` (Full in any letter case);
an unknown token, another format or mode, or a stream held down is refused. On connect it gets `joined`
(a JSON text `{"userID", "publishFormat", "broadcastMode"}`: the paper's own, XTS's payload is not known),
then `1501-json-full` / `1502-json-full` events, each a JSON text, for the subscriptions of its token.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import parse_qs

import msgspec
import socketio
from aiohttp import web

from adapters.broker.paper.calls import read_body
from adapters.broker.paper.md_quotes import MESSAGE_CODES, quote_text
from adapters.broker.paper.md_sessions import CapReached, MarketDataSessions, MdSession, Subscription
from adapters.broker.paper.simulator import SEGMENT_CODES, Instrument, LoginRefused, Simulator
from adapters.broker.paper.xts_envelope import error, invalid_token, success
from adapters.broker.paper.xts_routes import LoginBody
from adapters.broker.xts_wire import WireError, convert

SOCKET_PATH = "/apimarketdata/socket.io"
DropKind = Literal["lost", "closed"]
_SEGMENT_NAMES = {code: name for name, code in SEGMENT_CODES.items()}
_CLIENT_CONFIG = {
    "exchangeSegments": dict(SEGMENT_CODES),
    "xtsMessageCode": {"touchlineEvent": 1501, "marketDepthEvent": 1502},
    "publishFormat": ["JSON"],
    "broadcastMode": ["Full"],
}
"""What the paper publishes, in `clientConfig`'s shape (XTS lists more codes, formats and modes)."""


class InstrumentRef(msgspec.Struct, frozen=True):
    exchangeSegment: int
    exchangeInstrumentID: int


class InstrumentsBody(msgspec.Struct, frozen=True, kw_only=True):
    """A subscription, unsubscription or quotes body (quotes add `publishFormat`)."""

    instruments: list[InstrumentRef]
    xtsMessageCode: int
    publishFormat: str = "JSON"


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


class MarketData:
    """The face's state: sessions, the Socket.IO server and its sockets, and the queue of events to emit."""

    def __init__(self, simulator: Simulator, subscription_cap: int) -> None:
        self.simulator = simulator
        self.sessions = MarketDataSessions(subscription_cap)
        self.sio = socketio.AsyncServer(async_mode="aiohttp")
        self.sio.on("connect", self._connected)
        self.sio.on("disconnect", self._disconnected)
        self._sockets: dict[str, str] = {}
        """Socket id → the token it connected with."""
        self._down_until = 0.0
        self._outbox: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue()
        """(event, JSON text, room: a token or a socket id), emitted in order by `publish`."""
        simulator.quote_listeners.append(self._quote_changed)

    # --- the stream ----------------------------------------------------------------------------------

    async def drop(self, token: str | None = None, how: DropKind = "lost") -> int:
        """End every socket (of `token` only, when given); how many were open.

        `lost` cuts the connection without a word, as a network failure or a restart does: Socket.IO clients
        reconnect by themselves. `closed` is the server's Socket.IO disconnect, after which python-socketio
        clients stay disconnected until told to connect again.
        """
        sids = [sid for sid, of in self._sockets.items() if token is None or of == token]
        for sid in sids:
            if how == "closed":
                await self.sio.disconnect(sid)
            else:
                await self._cut(sid)
        return len(sids)

    async def down_for(self, seconds: float) -> int:
        """Cut every socket and refuse connections for `seconds`; how many sockets were open."""
        self._down_until = asyncio.get_running_loop().time() + seconds
        return await self.drop()

    async def _cut(self, sid: str) -> None:
        """Close the socket's Engine.IO connection with no close packet: the client sees its transport end (a
        websocket closed, a poll answered empty and the next one refused). python-engineio has no public call
        for this; it reaches into its socket (`close(abort=True)`, then the end of its send queue), as 4.x has
        it."""
        self._sockets.pop(sid, None)
        connection = self.sio.eio.sockets.get(self.sio.manager.eio_sid_from_sid(sid, "/"))
        if connection is not None:
            await connection.close(wait=False, abort=True)
            connection.queue.put_nowait(None)

    async def publish(self) -> None:
        while True:
            event, text, room = await self._outbox.get()
            await self.sio.emit(event, text, to=room)

    async def _connected(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        query = {key: values[-1] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if asyncio.get_running_loop().time() < self._down_until:
            raise socketio.exceptions.ConnectionRefusedError("the market data stream is down")
        session = self.sessions.session(query.get("token", ""))
        if session is None:
            raise socketio.exceptions.ConnectionRefusedError("Invalid Token")
        if query.get("publishFormat", "JSON") != "JSON" or query.get("broadcastMode", "Full").lower() != "full":
            raise socketio.exceptions.ConnectionRefusedError("the paper publishes JSON, broadcastMode Full only")
        self._sockets[sid] = session.token
        await self.sio.enter_room(sid, session.token)
        joined = msgspec.json.encode({"userID": session.user_id, "publishFormat": "JSON", "broadcastMode": "Full"})
        self._outbox.put_nowait(("joined", joined.decode(), sid))

    async def _disconnected(self, sid: str, *_: Any) -> None:
        self._sockets.pop(sid, None)

    def _quote_changed(self, instrument: Instrument) -> None:
        segment = SEGMENT_CODES.get(instrument.segment)
        if segment is None:
            return
        for code in MESSAGE_CODES:
            tokens = self.sessions.subscribers((segment, instrument.instrument_id, code))
            if tokens:
                text = quote_text(instrument, code)
                for token in sorted(tokens):
                    self._outbox.put_nowait((f"{code}-json-full", text, token))

    async def end_session(self, token: str) -> MdSession | None:
        """End the session of `token`: its subscriptions dropped, its sockets closed."""
        ended = self.sessions.close(token)
        if ended is not None:
            await self.drop(ended.token, "closed")
        return ended


MD = web.AppKey("paper_market_data", MarketData)


# --- REST ----------------------------------------------------------------------------------------------


def _session(request: web.Request) -> MdSession:
    session = request.app[MD].sessions.session(request.headers.get("Authorization", ""))
    if session is None:
        raise _Refused(invalid_token())
    return session


def _bad_request(reason: str) -> _Refused:
    return _Refused(error(400, "e-request-0001", "Bad Request", {"errors": [reason]}))


async def _instruments_body(request: web.Request) -> InstrumentsBody:
    try:
        body = convert(await read_body(request), InstrumentsBody, "instruments")
    except WireError as exc:
        raise _bad_request(str(exc)) from None
    if not body.instruments:
        raise _bad_request("instruments is empty")
    if body.xtsMessageCode not in MESSAGE_CODES:
        raise _bad_request(f"xtsMessageCode {body.xtsMessageCode} is not published here")
    return body


def _instrument(simulator: Simulator, ref: InstrumentRef) -> Instrument:
    segment = _SEGMENT_NAMES.get(ref.exchangeSegment, "")
    instrument = simulator.instrument(segment, ref.exchangeInstrumentID)
    if instrument is None:
        raise _Refused(error(400, "e-instrument-0001", "Invalid Instrument",
                             {"errors": [f"unknown instrument {ref.exchangeSegment} {ref.exchangeInstrumentID}"]}))
    return instrument


def _echo(refs: list[InstrumentRef]) -> list[dict[str, int]]:
    return [{"exchangeSegment": ref.exchangeSegment, "exchangeInstrumentID": ref.exchangeInstrumentID}
            for ref in refs]


def _refusals(handler: Callable[[web.Request], Awaitable[web.Response]]
              ) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler, answering a `_Refused` with its response."""

    async def handle(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except _Refused as refused:
            return refused.response

    return handle


async def login(request: web.Request) -> web.Response:
    """`POST /apimarketdata/auth/login`: JSON or a form, `source` optional; app keys are checked as
    Interactive's are. A new login of an app key ends its previous token (sockets closed, subscriptions gone)."""
    market_data = request.app[MD]
    try:
        body = convert(await read_body(request), LoginBody, "login")
        market_data.simulator.check_keys(body.appKey, body.secretKey)
    except (WireError, LoginRefused):
        return error(400, "e-user-0005", "Invalid appKey or secretKey")
    session, ended = market_data.sessions.open(body.appKey)
    if ended is not None:
        await market_data.drop(ended.token, "closed")
    expiry = (market_data.simulator.now() + timedelta(days=365)).date().isoformat()
    return success("s-user-0001", "Valid User.", {
        "token": session.token, "userID": session.user_id, "appVersion": "paper",
        "application_expiry_date": expiry,
    })


async def logout(request: web.Request) -> web.Response:
    session = _session(request)
    await request.app[MD].end_session(session.token)
    return success("s-user-0002", "User logged out", {})


async def client_config(request: web.Request) -> web.Response:
    _session(request)
    return success("s-response-0001", "Fetched client config successfully", _CLIENT_CONFIG)


def _wanted(market_data: MarketData, body: InstrumentsBody) -> list[tuple[Subscription, Instrument]]:
    return [((ref.exchangeSegment, ref.exchangeInstrumentID, body.xtsMessageCode),
             _instrument(market_data.simulator, ref)) for ref in body.instruments]


async def subscribe(request: web.Request) -> web.Response:
    """A new subscription answers the snapshot of each instrument it added; one that adds nothing is XTS's
    "Instrument Already Subscribed !"."""
    market_data, session = request.app[MD], _session(request)
    body = await _instruments_body(request)
    wanted = _wanted(market_data, body)
    try:
        added = set(market_data.sessions.subscribe(session, [key for key, _ in wanted]))
    except CapReached:
        return error(400, "e-session-0004", "Subscription limit reached",
                     {"Remaining_Subscription_Count": market_data.sessions.remaining(session)})
    remaining = market_data.sessions.remaining(session)
    if not added:
        return error(400, "e-session-0002", "Instrument Already Subscribed !",
                     {"Remaining_Subscription_Count": remaining})
    snapshots = [quote_text(instrument, body.xtsMessageCode) for key, instrument in wanted if key in added]
    return success("s-session-0001", "Instrument subscribed successfully", {
        "mdp": body.xtsMessageCode, "quotesList": _echo(body.instruments), "listQuotes": snapshots,
        "Remaining_Subscription_Count": remaining,
    })


async def unsubscribe(request: web.Request) -> web.Response:
    market_data, session = request.app[MD], _session(request)
    body = await _instruments_body(request)
    dropped = market_data.sessions.unsubscribe(session, [key for key, _ in _wanted(market_data, body)])
    return success("s-session-0001", "Instrument unsubscribed successfully", {
        "xtsMessageCode": body.xtsMessageCode,
        "unsubList": [{"exchangeSegment": segment, "exchangeInstrumentID": instrument_id}
                      for segment, instrument_id, _ in dropped],
    })


async def quotes(request: web.Request) -> web.Response:
    """`POST /apimarketdata/instruments/quotes`: the snapshot of each instrument now, subscribed or not."""
    market_data = request.app[MD]
    _session(request)
    body = await _instruments_body(request)
    return success("s-quotes-0001", "Get quotes successfully!", {
        "mdp": body.xtsMessageCode, "quotesList": _echo(body.instruments),
        "listQuotes": [quote_text(instrument, body.xtsMessageCode) for _, instrument in _wanted(market_data, body)],
    })


MD_ROUTES = (
    ("POST", "/apimarketdata/auth/login", login),
    ("DELETE", "/apimarketdata/auth/logout", logout),
    ("GET", "/apimarketdata/config/clientConfig", client_config),
    ("POST", "/apimarketdata/instruments/subscription", subscribe),
    ("PUT", "/apimarketdata/instruments/subscription", unsubscribe),
    ("POST", "/apimarketdata/instruments/quotes", quotes),
)


def attach_market_data(app: web.Application, simulator: Simulator, subscription_cap: int) -> MarketData:
    """Serve the market data face on `app`: its routes, its socket, and the task that emits its events."""
    market_data = app[MD] = MarketData(simulator, subscription_cap)
    for method, path, handler in MD_ROUTES:
        app.router.add_route(method, path, _refusals(handler))
    market_data.sio.attach(app, socketio_path=SOCKET_PATH)

    async def run_stream(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(market_data.publish())
        yield
        task.cancel()

    async def close_sockets(app: web.Application) -> None:
        await market_data.sio.shutdown()

    app.cleanup_ctx.append(run_stream)
    app.on_shutdown.append(close_sockets)
    return market_data
