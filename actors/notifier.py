"""The Notifier port: how the cycle reaches a user's connected clients; the web hub (service/web/hub.py) is one."""

from __future__ import annotations

from typing import Protocol

from messages.frames import ServerFrame


class Notifier(Protocol):
    async def send(self, user_id: int, frame: ServerFrame) -> int:
        """Send `frame` to every live client of `user_id`; return how many received it."""
