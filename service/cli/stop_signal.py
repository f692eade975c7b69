"""How `serve` and `demo` learn they must stop: SIGINT or SIGTERM sets one `threading.Event`.

`StopSignal()` is taken before the service starts: its handler is in place from then on, so no stop ever
meets the default handler (which kills the process without closing it). The signals stay blocked while the
service starts its threads, which inherit the block, so the kernel delivers them to the main thread, the
one waiting on the event; one sent during the start is held and handled by `started()`. Print the address
only after `started()`.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignal:
    def __init__(self) -> None:
        self._stop = threading.Event()
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()

    def started(self) -> None:
        """The service's threads are running: let the stop signals reach this thread again."""
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until a stop signal came (True) or `timeout_s` passed (False)."""
        return self._stop.wait(timeout_s)
