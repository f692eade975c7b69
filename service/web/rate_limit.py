"""A per-key sliding-window rate limit (the batch API, per user). Single-threaded: used on the I/O loop."""

from __future__ import annotations

import time
from collections import defaultdict, deque


class RateLimiter:
    def __init__(self, limit: int, window_s: float) -> None:
        self._limit = limit
        self._window_s = window_s
        self._calls: dict[object, deque[float]] = defaultdict(deque)

    def allow(self, key: object) -> bool:
        now = time.monotonic()
        calls = self._calls[key]
        while calls and now - calls[0] > self._window_s:
            calls.popleft()
        if len(calls) >= self._limit:
            return False
        calls.append(now)
        return True
