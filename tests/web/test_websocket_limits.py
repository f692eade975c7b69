"""WebSocket limits over a real aiohttp server: a user's 11th connection gets 429 (JSON) before the upgrade
while the 10 stay up and answer, a place freed is a place taken, another user is not limited; a client that
never reads is dropped (code 4408, its transport aborted) once a frame would take its unsent bytes past the
bound, while the user's reading connection keeps receiving every frame, in order."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import aiohttp
import pytest

from messages.frames import ErrorFrame
from service.web.context import WebSettings
from service.web.hub import SLOW_READER_CODE
from tests.web.conftest import Served, served_at

BOUND = 256 * 1024
"""The tests' send-buffer bound."""


@pytest.fixture
def served(tmp_path) -> Iterator[Served]:
    with served_at(f"sqlite:///{tmp_path / 'limits.db'}", WebSettings(max_send_buffer_bytes=BOUND)) as running:
        yield running


async def connect(session: aiohttp.ClientSession, served: Served, token: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(f"{served.url}/ws?token={token}", compress=0)
    assert (await ws.receive_json())["type"] == "hello"
    return ws


async def status_of_one_more(session: aiohttp.ClientSession, served: Served, token: str) -> tuple[int, dict]:
    """The answer to an upgrade request, read as plain HTTP."""
    headers = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    async with session.get(f"{served.url}/ws?token={token}", headers=headers) as response:
        return response.status, await response.json()


async def answers_ping(ws: aiohttp.ClientWebSocketResponse) -> bool:
    await ws.send_json({"type": "ping"})
    while True:
        frame = await ws.receive_json()
        if frame["type"] == "pong":
            return True


def test_the_eleventh_connection_of_a_user_is_refused_while_ten_stay(served: Served):
    user_id, alice, _ = served.user("alice", "A1")
    _, bob, _ = served.user("bob", "B1")

    async def run() -> None:
        async with aiohttp.ClientSession() as session:
            sockets = [await connect(session, served, alice) for _ in range(10)]  # the last allowed: the 10th
            status, body = await status_of_one_more(session, served, alice)
            assert status == 429
            assert body == {"error": "too many connections: at most 10 WebSockets per user; close one first"}
            assert served.service.hub.connections(user_id) == 10
            assert all([await answers_ping(ws) for ws in sockets])
            bobs = await connect(session, served, bob)  # another user's place is their own
            await sockets.pop().close()
            while served.service.hub.connections(user_id) != 9:
                await asyncio.sleep(0.01)
            sockets.append(await connect(session, served, alice))  # the freed place
            assert (await status_of_one_more(session, served, alice))[0] == 429
            for ws in [*sockets, bobs]:
                await ws.close()
    served.io.call(run())


def never_reading_client(served: Served, token: str) -> socket.socket:
    """A WebSocket client that upgrades, then never reads again (a small receive buffer fills quickly)."""
    address = urlsplit(served.url)
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect((address.hostname, address.port))
    client.sendall(f"GET /ws?token={token} HTTP/1.1\r\nHost: {address.netloc}\r\nConnection: Upgrade\r\n"
                   "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += client.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return client


def test_a_client_that_never_reads_is_dropped_and_the_others_keep_receiving(served: Served, caplog):
    user_id, token, _ = served.user("alice", "A1")
    hub = served.service.hub
    frame_text = "x" * 16_000

    async def reader_connected() -> tuple[aiohttp.ClientSession, aiohttp.ClientWebSocketResponse]:
        session = aiohttp.ClientSession()
        return session, await connect(session, served, token)
    session, reader = served.io.call(reader_connected())
    received: list[str] = []

    async def read_all() -> int | None:
        async for message in reader:
            frame = json.loads(message.data)
            if frame["type"] == "error":
                received.append(frame["message"])
        return reader.close_code
    reading = served.io.call(_started(read_all()))
    slow = never_reading_client(served, token)
    try:
        while hub.connections(user_id) != 2:
            served.io.call(asyncio.sleep(0.01))
        sent = 0
        with caplog.at_level(logging.WARNING, logger="service.web.hub"):
            while hub.connections(user_id) == 2:
                assert sent < 10_000, "the client that never reads was never dropped"
                served.io.call(hub.send(user_id, ErrorFrame(message=f"{sent} {frame_text}")))
                sent += 1
        slow.settimeout(30)  # reading at once, it gets what was queued for it, then the close frame (the server
        assert close_code_read(slow) == SLOW_READER_CODE  # aborts the socket if it is not read within 5 s)
        assert served.io.call(hub.send(user_id, ErrorFrame(message=f"{sent} last"))) == 1
        assert sent * len(frame_text) > BOUND  # it was dropped only once more than the bound was unsent
        [warning] = caplog.records
        assert warning.getMessage().startswith(f"dropping a slow client of user {user_id}: ")
        assert warning.getMessage().endswith(f"would pass the bound of {BOUND}")

        async def all_received() -> None:
            while len(received) < sent + 1:
                await asyncio.sleep(0.01)
        served.io.call(asyncio.wait_for(all_received(), 30))
        assert received == [f"{number} {frame_text}" for number in range(sent)] + [f"{sent} last"]
    finally:
        slow.close()
        served.io.call(reader.close())
        served.io.call(session.close())
        served.io.call(asyncio.wait_for(_joined(reading), 30))


def close_code_read(client: socket.socket) -> int:
    """Read the server's frames (unmasked) up to its close frame; the close code."""
    buffer = b""

    def take(size: int) -> bytes:
        nonlocal buffer
        while len(buffer) < size:
            chunk = client.recv(65536)
            assert chunk, "the connection ended without a close frame"
            buffer += chunk
        taken, buffer = buffer[:size], buffer[size:]
        return taken

    while True:
        first, second = take(2)
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(take(2), "big")
        elif length == 127:
            length = int.from_bytes(take(8), "big")
        payload = take(length)
        if first & 0x0F == 0x8:
            return int.from_bytes(payload[:2], "big")


async def _started(coroutine) -> asyncio.Task:
    return asyncio.ensure_future(coroutine)


async def _joined(task: asyncio.Task) -> None:
    await task
