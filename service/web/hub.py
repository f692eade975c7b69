"""The WebSocket hub: the live connections of each user, and the Notifier that sends them frames.

On the I/O loop. A frame goes to its user's connections only; one that fails is dropped. A `held` connection keeps
its frames until `release`, so the greeting is its first. At most `max_connections_per_user` (`reserve` before
the upgrade), and a connection whose unsent bytes would pass `max_send_buffer_bytes` is dropped and closed with
`SLOW_READER_CODE`, so a client that stops reading never holds up the others. With the fan-out on, every frame
`send` delivers here is also handed to the relay (other replicas' clients of the user); frames relayed from
another replica come in through `send_relayed`, to this replica's connections only.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Collection, Mapping

import msgspec
from aiohttp import web

from messages.frames import ServerFrame

log = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()

SLOW_READER_CODE = 4408
"""The close code of a connection dropped for not reading its frames."""
SLOW_READER_CLOSE_S = 5.0
"""How long the close of a slow reader may take before its transport is aborted."""

Relay = Callable[[int, ServerFrame, str], Awaitable[None]]
"""(user_id, frame, the frame as sent) -> handed to the user's clients on other replicas; never raises."""


class Hub:
    def __init__(self, max_connections_per_user: int = 10, max_send_buffer_bytes: int = 1024 * 1024) -> None:
        self.max_connections_per_user = max_connections_per_user
        self.max_send_buffer_bytes = max_send_buffer_bytes
        self._sockets: dict[int, dict[str, web.WebSocketResponse]] = defaultdict(dict)
        self._transports: dict[str, asyncio.Transport | None] = {}
        self._token_hashes: dict[str, str] = {}
        self._held: dict[str, deque[str]] = {}
        self._reserved: dict[int, int] = defaultdict(int)
        self._closing: set[asyncio.Task[None]] = set()
        self._relay: Relay | None = None

    def relay_to(self, relay: Relay) -> None:
        """Hand every frame `send` delivers to `relay` as well."""
        self._relay = relay

    def reserve(self, user_id: int) -> bool:
        """Take one of the user's places for a connection being opened; False when all are taken. The place is
        handed back by `unreserve`, right before `add` takes it for good."""
        if self.connections(user_id) + self._reserved[user_id] >= self.max_connections_per_user:
            return False
        self._reserved[user_id] += 1
        return True

    def unreserve(self, user_id: int) -> None:
        self._reserved[user_id] -= 1
        if not self._reserved[user_id]:
            del self._reserved[user_id]

    def add(self, user_id: int, connection_id: str, socket: web.WebSocketResponse, token_hash: str = "",
            held: bool = False, transport: asyncio.Transport | None = None) -> None:
        """`token_hash`: the SHA-256 of the token the connection authenticated with (see `revoked`); `held`: keep
        the connection's frames until `release`; `transport`: the connection's, whose write buffer is bounded
        (its high-water mark raised to the bound, so a send below it never waits)."""
        self._sockets[user_id][connection_id] = socket
        self._token_hashes[connection_id] = token_hash
        self._transports[connection_id] = transport
        if transport is not None:
            transport.set_write_buffer_limits(high=self.max_send_buffer_bytes)
        if held:
            self._held[connection_id] = deque()

    async def release(self, user_id: int, connection_id: str) -> None:
        """Send a held connection the frames kept for it, in order, then send it frames as they come."""
        held = self._held.get(connection_id)
        socket = self._sockets.get(user_id, {}).get(connection_id)
        while held and socket is not None:
            if not await self._deliver(user_id, connection_id, socket, held.popleft()):
                return
        self._held.pop(connection_id, None)

    def remove(self, user_id: int, connection_id: str) -> None:
        self._token_hashes.pop(connection_id, None)
        self._transports.pop(connection_id, None)
        self._held.pop(connection_id, None)
        sockets = self._sockets.get(user_id)
        if sockets is not None:
            sockets.pop(connection_id, None)
            if not sockets:
                del self._sockets[user_id]

    def connections(self, user_id: int) -> int:
        return len(self._sockets.get(user_id, ()))

    def users(self) -> list[int]:
        return list(self._sockets)

    def revoked(self, checked: Collection[int],
                valid_hashes: Mapping[int, str]) -> list[tuple[int, str, web.WebSocketResponse]]:
        """The connections of the `checked` users whose token no longer opens the API, given the token hash of
        each of them still active: (user, connection id, socket)."""
        return [(user_id, connection_id, socket)
                for user_id in checked
                for connection_id, socket in list(self._sockets.get(user_id, {}).items())
                if valid_hashes.get(user_id) != self._token_hashes.get(connection_id)]

    async def send(self, user_id: int, frame: ServerFrame) -> int:
        """The number of the user's connections here that took the frame or keep it until they are released
        (the relay's, on other replicas, are not counted)."""
        payload = _encoder.encode(frame).decode()
        delivered = await self.send_relayed(user_id, payload)
        if self._relay is not None:
            await self._relay(user_id, frame, payload)
        return delivered

    async def send_relayed(self, user_id: int, payload: str) -> int:
        """Deliver an encoded frame to the user's connections here only."""
        delivered = 0
        for connection_id, socket in list(self._sockets.get(user_id, {}).items()):
            held = self._held.get(connection_id)
            if held is not None:
                held.append(payload)
                delivered += 1
            elif await self._deliver(user_id, connection_id, socket, payload):
                delivered += 1
        return delivered

    async def _deliver(self, user_id: int, connection_id: str, socket: web.WebSocketResponse, payload: str) -> bool:
        transport = self._transports.get(connection_id)
        if transport is not None and not transport.is_closing() and \
                transport.get_write_buffer_size() + len(payload) > self.max_send_buffer_bytes:
            log.warning("dropping a slow client of user %s: %s bytes unsent, a %s-byte frame would pass the bound "
                        "of %s", user_id, transport.get_write_buffer_size(), len(payload),
                        self.max_send_buffer_bytes, extra={"user_id": user_id, "connection_id": connection_id})
            self.remove(user_id, connection_id)
            closing = asyncio.ensure_future(_close_slow_reader(socket, transport, self.max_send_buffer_bytes))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
            return False
        try:
            await socket.send_str(payload)
        except (ConnectionError, RuntimeError) as error:
            log.info("dropping a dead client of user %s: %s", user_id, error, extra={"user_id": user_id})
            self.remove(user_id, connection_id)
            return False
        return True

    async def close_all(self) -> None:
        for sockets in list(self._sockets.values()):
            for socket in list(sockets.values()):
                await socket.close(code=1001, message=b"server shutting down")
        self._sockets.clear()
        await asyncio.gather(*self._closing, return_exceptions=True)


async def _close_slow_reader(socket: web.WebSocketResponse, transport: asyncio.Transport, bound: int) -> None:
    """Send the close frame and what is queued before it, to a client that reads again; abort after
    SLOW_READER_CLOSE_S."""
    try:
        async with asyncio.timeout(SLOW_READER_CLOSE_S):
            await socket.close(code=SLOW_READER_CODE, message=f"too slow: over {bound} bytes unsent".encode())
            while transport.get_write_buffer_size():
                await asyncio.sleep(0.05)
    except (TimeoutError, ConnectionError, RuntimeError):
        pass
    transport.abort()
