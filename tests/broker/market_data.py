"""Helpers for the paper broker's market data tests: its REST routes called as the XTS SDKs call them (the raw
token in `Authorization`), payloads decoded with prices as `Decimal`, and a real `socketio.AsyncClient` on its
stream that queues every event it gets."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import socketio

from adapters.broker.paper import RunningPaperBroker

SBIN = {"exchangeSegment": 1, "exchangeInstrumentID": 3045}
RELIANCE = {"exchangeSegment": 1, "exchangeInstrumentID": 2885}
SOCKET_PATH = "/apimarketdata/socket.io"


async def md_call(http: aiohttp.ClientSession, paper: RunningPaperBroker, method: str, path: str,
                  token: str | None = None, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": token} if token is not None else {}
    async with http.request(method, f"{paper.url}/apimarketdata{path}", json=body, headers=headers) as response:
        return response.status, await response.json()


async def md_login(http: aiohttp.ClientSession, paper: RunningPaperBroker, app_key: str = "MD1") -> tuple[str, str]:
    """(token, userID) of a new market data session of `app_key`."""
    status, body = await md_call(http, paper, "POST", "/auth/login",
                                 body={"appKey": app_key, "secretKey": "md-secret", "source": "WEBAPI"})
    assert (status, body["type"]) == (200, "success"), body
    return body["result"]["token"], body["result"]["userID"]


async def subscribe(http: aiohttp.ClientSession, paper: RunningPaperBroker, token: str, *instruments: dict[str, int],
                    code: int = 1501, method: str = "POST") -> tuple[int, dict[str, Any]]:
    """Subscribe (PUT: unsubscribe) `instruments` for `code`."""
    return await md_call(http, paper, method, "/instruments/subscription", token,
                         {"instruments": list(instruments), "xtsMessageCode": code})


def decode_quote(text: str) -> dict[str, Any]:
    """A payload as the wire carries it: a JSON text inside the event or the envelope, prices as `Decimal`."""
    assert isinstance(text, str)
    return json.loads(text, parse_float=Decimal)


def snapshots(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [decode_quote(item) for item in body["result"]["listQuotes"]]


def best(payload: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    """(best bid, best ask, last traded price) of a Full payload's touchline."""
    touchline = payload["Touchline"]
    return (Decimal(touchline["BidInfo"]["Price"]), Decimal(touchline["AskInfo"]["Price"]),
            Decimal(touchline["LastTradedPrice"]))


class Stream:
    """A Socket.IO client of the paper's market data stream; `events` gets (event, argument) in arrival order,
    `connect` and `disconnect` included."""

    def __init__(self, paper: RunningPaperBroker, token: str, user_id: str, broadcast_mode: str = "Full",
                 reconnection: bool = True) -> None:
        self.url = f"{paper.url}/?token={token}&userID={user_id}&publishFormat=JSON&broadcastMode={broadcast_mode}"
        self.client = socketio.AsyncClient(reconnection=reconnection, reconnection_delay=0.05,
                                           reconnection_delay_max=0.1, randomization_factor=0)
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.client.on("*", lambda event, data: self.events.put_nowait((event, data)))
        self.client.on("connect", lambda: self.events.put_nowait(("connect", None)))
        self.client.on("disconnect", lambda reason: self.events.put_nowait(("disconnect", reason)))

    async def connect(self) -> None:
        await self.client.connect(self.url, socketio_path=SOCKET_PATH, wait_timeout=2)

    async def next(self, timeout: float = 3) -> tuple[str, Any]:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def next_quote(self, timeout: float = 3) -> tuple[str, dict[str, Any]]:
        """The next market data event, skipping `connect` and `joined`."""
        while True:
            event, data = await self.next(timeout)
            if event.endswith("-json-full"):
                return event, decode_quote(data)
            assert event in ("connect", "joined"), (event, data)

    async def expect(self, *events: str) -> None:
        assert [(await self.next())[0] for _ in events] == list(events)


@contextlib.asynccontextmanager
async def stream(paper: RunningPaperBroker, token: str, user_id: str, **options: Any) -> AsyncIterator[Stream]:
    """A connected `Stream` that has had its `connect` and `joined`."""
    connected = Stream(paper, token, user_id, **options)
    await connected.connect()
    try:
        await connected.expect("connect", "joined")
        yield connected
    finally:
        await connected.client.disconnect()
