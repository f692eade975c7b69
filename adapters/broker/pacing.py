"""Client-side request pacing: at most `count` requests reach the broker in any window of `per_s` seconds,
per key. The XTS adapter keys it by account session and route, so one account's burst never delays another's.

A request is made inside `async with pacer.turn(key):`. Callers take turns in arrival order without a lock:
each goes `per_s` after the caller `count` turns before it has finished its request (answered, failed or
cancelled). A request reaches the broker somewhere between its turn and its finish, so counting the window
from the finish holds whatever the scheduler does in between (a process descheduled after its turn but
before its bytes went out once let a later request land inside the window). Pacing only errs on the slow side.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Hashable

import msgspec


class Rate(msgspec.Struct, frozen=True):
    """`count` requests per `per_s` seconds."""

    count: int
    per_s: float = 1.0


class Pacer:
    """Sliding-window pacing; `rate=None` lets every request through at once."""

    def __init__(self, rate: Rate | None) -> None:
        self._rate = rate
        self._finishes: dict[Hashable, deque[asyncio.Future[float]]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        """Wait for this caller's turn, run the block (the request), and count the window from its end."""
        if self._rate is None:
            yield
            return
        loop = asyncio.get_running_loop()
        finishes = self._finishes.setdefault(key, deque(maxlen=self._rate.count))
        window_opener = finishes[0] if len(finishes) == self._rate.count else None
        finished: asyncio.Future[float] = loop.create_future()
        finishes.append(finished)
        try:
            if window_opener is not None:
                turn = await asyncio.shield(window_opener) + self._rate.per_s
                while (now := loop.time()) < turn:
                    await asyncio.sleep(turn - now)
            yield
        finally:
            finished.set_result(loop.time())
