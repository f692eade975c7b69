"""Coalescing of the cycle's hot reads: keys that many concurrent callers ask for go out as one statement.

`ReadBatcher` sends, at the end of the loop's turn, at most one read at a time and one every `min_interval_s`:
an idle service reads at once, a busy one sends at most 1 / `min_interval_s` statements a second per kind of read.
A value is always read after it was asked for; a failed read fails each caller of its batch. One loop only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from typing import Generic, TypeVar

from domain.errors import DatabaseError

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

ReadMany = Callable[[Sequence[K]], Awaitable[Mapping[K, V]]]
"""Reads the values of some keys in one round trip; a key without a value is left out."""


class ReadBatcher(Generic[K, V]):
    def __init__(self, read_many: ReadMany[K, V], *, min_interval_s: float = 0.005, max_keys: int = 1000) -> None:
        self._read_many = read_many
        self._min_interval_s = min_interval_s
        self._max_keys = max_keys
        self._last_start = float("-inf")
        self._keys: dict[K, None] = {}
        self._waiting: list[tuple[tuple[K, ...], asyncio.Future[dict[K, V]]]] = []
        self._scheduled = False
        self._reading: asyncio.Task[None] | None = None
        self.statements = 0
        """Calls of `read_many` so far (each one statement or a few), against `requests`: how much was saved."""
        self.requests = 0

    async def read(self, keys: Iterable[K]) -> dict[K, V]:
        wanted = tuple(keys)
        if not wanted:
            return {}
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[dict[K, V]] = loop.create_future()
        self._waiting.append((wanted, answer))
        self._keys.update(dict.fromkeys(wanted))
        self.requests += 1
        self._schedule(loop)
        return await answer

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._scheduled or self._reading is not None or not self._waiting:
            return
        self._scheduled = True
        delay = self._last_start + self._min_interval_s - loop.time()
        if delay > 0:
            loop.call_later(delay, self._start)
        else:
            loop.call_soon(self._start)

    def _start(self) -> None:
        self._scheduled = False
        if self._reading is not None or not self._waiting:
            return
        loop = asyncio.get_running_loop()
        self._last_start = loop.time()
        keys, waiting = list(self._keys), self._waiting
        self._keys, self._waiting = {}, []
        self._reading = loop.create_task(self._answer(keys, waiting))

    async def _answer(self, keys: list[K], waiting: list[tuple[tuple[K, ...], asyncio.Future[dict[K, V]]]]) -> None:
        try:
            values: dict[K, V] = {}
            for start in range(0, len(keys), self._max_keys):
                self.statements += 1
                values.update(await self._read_many(keys[start : start + self._max_keys]))
        except asyncio.CancelledError:  # the loop is shutting down: nobody is answered, nothing more is read
            for _, answer in (*waiting, *self._waiting):
                answer.cancel()
            self._keys, self._waiting, self._reading = {}, [], None
            raise
        except Exception as error:
            for _, answer in waiting:
                if not answer.done():
                    answer.set_exception(DatabaseError(error.message) if isinstance(error, DatabaseError) else error)
        else:
            for wanted, answer in waiting:
                if not answer.done():
                    answer.set_result({key: values[key] for key in wanted if key in values})
        self._reading = None
        self._schedule(asyncio.get_running_loop())
