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
import time
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
WAIT_SLICE_S = 0.25
"""How long the main thread sleeps at a time while it waits for a stop signal."""


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
        """Block until a stop signal came (True) or `timeout_s` passed (False). The wait is cut in slices of
        `WAIT_SLICE_S`: a signal's Python handler runs only when the main thread is back in the interpreter,
        and one that landed as the thread was going to sleep on the lock left `serve` asleep for good (seen
        under load: SIGTERM caught, nothing pending, the main thread still in this wait)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            left = WAIT_SLICE_S if deadline is None else min(WAIT_SLICE_S, deadline - time.monotonic())
            if self._stop.wait(max(left, 0.0)):
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
