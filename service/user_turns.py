"""`UserTurns`: one coroutine at a time per user, on one event loop; a user's lock lives only while someone holds
or waits for it, so 10,000 users who come and go leave nothing behind."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class UserTurns:
    def __init__(self) -> None:
        self._turns: dict[int, tuple[asyncio.Lock, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, user_id: int) -> AsyncIterator[None]:
        """Hold the user's turn for the block; callers of one user go in the order they came."""
        lock, waiting = self._turns.setdefault(user_id, (asyncio.Lock(), [0]))
        waiting[0] += 1
        try:
            async with lock:
                yield
        finally:
            waiting[0] -= 1
            if not waiting[0]:
                del self._turns[user_id]

    def __len__(self) -> int:
        """Users whose turn is held or waited for now."""
        return len(self._turns)
