"""A coroutine kept running on the I/O loop from `start` until `stop` cancels it and waits for its end. One that
ends on its own with an error is logged when it ends; `stop` then has nothing to cancel and raises nothing, so
a shutdown goes on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class BackgroundLoop:
    def __init__(self, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._run = run
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())
        self._task.add_done_callback(_log_failure)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait((self._task,))


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background loop %s ended with an error", task.get_coro().__qualname__,  # type: ignore[union-attr]
                  exc_info=task.exception())
