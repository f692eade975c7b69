"""The WebSocket hub: the live connections of each user, and the Notifier that sends them frames.

It lives on the service's I/O loop, like the aiohttp server. A frame for a user goes to each of that
user's connections, never another's; a connection that fails to take it is dropped, not retried. A connection
added `held` (one not greeted yet) counts as the user's at once but keeps its frames, in order, until
`release` sends them: so the greeting is always its first frame and nothing sent meanwhile is lost.
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from collections.abc import Collection, Mapping

import msgspec
from aiohttp import web

from messages.frames import ServerFrame

log = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()


class Hub:
    def __init__(self) -> None:
        self._sockets: dict[int, dict[str, web.WebSocketResponse]] = defaultdict(dict)
        self._token_hashes: dict[str, str] = {}
        self._held: dict[str, deque[str]] = {}

    def add(self, user_id: int, connection_id: str, socket: web.WebSocketResponse, token_hash: str = "",
            held: bool = False) -> None:
        """`token_hash`: the SHA-256 of the token the connection authenticated with (see `revoked`); `held`: keep
        the connection's frames until `release`."""
        self._sockets[user_id][connection_id] = socket
        self._token_hashes[connection_id] = token_hash
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
        """The number of the user's connections that took the frame or keep it until they are released."""
        payload = _encoder.encode(frame).decode()
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
