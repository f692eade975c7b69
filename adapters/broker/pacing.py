"""Client-side request pacing: at most `count` request starts in any window of `per_s` seconds, per key.

The XTS adapter keys it by account session and route, so one account's burst never delays another's.
A caller reserves its slot before sleeping, so concurrent callers queue in arrival order without a lock
(the reservation happens with no await in between). A slot reserved by a caller that is then cancelled
stays used: pacing only errs on the slow side.
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
        self._starts: dict[Hashable, deque[float]] = {}

    async def wait_turn(self, key: Hashable) -> None:
        if self._rate is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        starts = self._starts.setdefault(key, deque(maxlen=self._rate.count))
        slot = now
        if len(starts) == self._rate.count:
            slot = max(now, starts[0] + self._rate.per_s)
        starts.append(slot)
        if slot > now:
            await asyncio.sleep(slot - now)
