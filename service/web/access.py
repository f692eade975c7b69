"""Access of open connections: a socket stays open only while the token it authenticated with still opens
the API. Every half heartbeat, on the I/O loop, one query reads the token hash of every connected user that
is still active; a connection whose user was disabled, or whose token was replaced (`run.py users disable`,
`rotate-token`, from any process), is closed with 4401. Its user's last socket closing stops the user's
monitor as any disconnect does (a running cycle finishes first), and from then on the user's cycles find no
active account.
"""

from __future__ import annotations

import asyncio
import logging

from adapters.store.port import Store
from domain.errors import AdapterError
from service.background import BackgroundLoop
from service.web.hub import Hub

log = logging.getLogger(__name__)

REVOKED_CODE = 4401
REVOKED_MESSAGE = b"access revoked: the user was disabled or its API token replaced"


class AccessWatch:
    def __init__(self, store: Store, hub: Hub, heartbeat_s: float) -> None:
        self._store = store
        self._hub = hub
        self._every_s = heartbeat_s / 2
        self._background = BackgroundLoop(self._watch)

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._every_s)
            await self.close_revoked()

    async def close_revoked(self) -> int:
        """Close every connection that lost its access; how many were closed. A failed read closes nothing
        (it is logged, and the next pass reads again)."""
        users = self._hub.users()
        if not users:
            return 0
        try:
            valid = await self._store.active_token_hashes(users)
        except AdapterError as error:
            log.warning("access of open connections not checked: %s", error.message)
            return 0
        revoked = self._hub.revoked(users, valid)
        for user_id, connection_id, socket in revoked:
            log.warning("closing a connection of user %s: its access was revoked", user_id,
                        extra={"user_id": user_id, "connection_id": connection_id})
            self._hub.remove(user_id, connection_id)
            await socket.close(code=REVOKED_CODE, message=REVOKED_MESSAGE)
        return len(revoked)
