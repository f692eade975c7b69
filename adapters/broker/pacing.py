"""Client-side request pacing: at most `count` request starts in any window of `per_s` seconds, per key.

The XTS adapter keys it by account session and route, so one account's burst never delays another's.
Callers take turns in arrival order without a lock: each starts `per_s` after the start of the caller
`count` turns before it, the moment that caller actually went, so one that woke late (a busy loop, a
descheduled process) pushes the later ones back instead of letting them bunch up behind it. A caller
cancelled before its start counts as starting then: pacing only errs on the slow side.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable

import msgspec


class Rate(msgspec.Struct, frozen=True):
    """`count` requests per `per_s` seconds."""

    count: int
    per_s: float = 1.0


class Pacer:
    """Sliding-window pacing; `rate=None` lets every request through at once."""

    def __init__(self, rate: Rate | None) -> None:
        self._rate = rate
        self._starts: dict[Hashable, deque[asyncio.Future[float]]] = {}

    async def wait_turn(self, key: Hashable) -> None:
        if self._rate is None:
            return
        loop = asyncio.get_running_loop()
        starts = self._starts.setdefault(key, deque(maxlen=self._rate.count))
        window_opener = starts[0] if len(starts) == self._rate.count else None
        started: asyncio.Future[float] = loop.create_future()
        starts.append(started)
        try:
            if window_opener is not None:
                turn = await asyncio.shield(window_opener) + self._rate.per_s
                while (now := loop.time()) < turn:
                    await asyncio.sleep(turn - now)
        finally:
            started.set_result(loop.time())
