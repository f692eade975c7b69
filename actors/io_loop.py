"""The service's single asyncio loop, run in one thread, and the helper actors use to reach it.

It lives with the actors, not behind a port: it is their runtime (pykka tells, `StepOutcome`), has one
implementation, and knows nothing of the service; the service only creates and stops it.

Actors never block on I/O: they hand a coroutine to `IoLoop.tell_outcome`, which runs it on the loop and
tells the resulting events to the reply-to actor, all of them in one `StepOutcome`. The aiohttp client
session and the DB pool live here. The loop is uvloop's where it is installed (Linux and macOS: a
dependency there), which does the same I/O for about a third less CPU; the standard loop elsewhere.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol, TypeVar

import pykka

from messages.control import StepOutcome

log = logging.getLogger(__name__)
T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when it is installed, else the standard one."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class ReplyTo(Protocol):
    def tell(self, message: Any) -> None: ...


class IoLoop:
    """Owns an asyncio event loop running in a daemon thread until `stop()`."""

    def __init__(self, name: str = "io-loop") -> None:
        self.loop = new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule `coro` on the loop from any other thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coro` on the loop and wait for it; for start-up, shutdown and tests, never inside an actor."""
        return self.run(coro).result(timeout)

    def tell_outcome(
        self,
        work: Awaitable[Sequence[Any]],
        reply_to: ReplyTo,
        on_error: Callable[[BaseException], Any],
        timeout_s: float | None = None,
    ) -> concurrent.futures.Future[None]:
        """Run `work`; tell the events it returns to `reply_to` as one `StepOutcome`, or `on_error`'s event
        for its failure. Work still running after `timeout_s` is cancelled and fails with TimeoutError."""

        async def run_and_tell() -> None:
            try:
                async with asyncio.timeout(timeout_s):
                    events = tuple(await work)
            except Exception as exc:  # every failure becomes an event; nothing escapes
                events = (on_error(exc),)
            try:
                reply_to.tell(StepOutcome(events=events))
            except pykka.ActorDeadError:
                log.warning("reply to a stopped actor dropped: %s", ", ".join(type(e).__name__ for e in events))

        return self.run(run_and_tell())

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel what is still running, stop the loop and join its thread."""
        if self.loop.is_closed():
            return

        async def cancel_pending() -> None:
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        try:
            self.call(cancel_pending(), timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self.loop.close()
