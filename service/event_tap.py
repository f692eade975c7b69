"""An EventLog that also shows every appended event to observers (metrics, the `cycle_started` frame).

Observers run in the appending actor's thread, so each must be quick and thread-safe; one that raises is
logged and never stops the append or the other observers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from adapters.store.port import EventLog
from messages.events import Event

log = logging.getLogger(__name__)

EventObserver = Callable[[Event], None]


class TappedEventLog:
    def __init__(self, inner: EventLog, observers: Sequence[EventObserver]) -> None:
        self._inner = inner
        self._observers = tuple(observers)

    def append(self, event: Event) -> None:
        self._inner.append(event)
        for observer in self._observers:
            try:
                observer(event)
            except Exception:
                log.exception("event observer failed on %s", type(event).__name__)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
