"""The garbage collector's settings for a long-running service process (`run.py serve` and the benchmarks,
which measure it), applied once at start-up; tests and the demo keep CPython's defaults.

CPython's defaults (a young collection every 700 net allocations, a full one every 100 young ones) suit
short programs. A service with ten thousand users allocates hundreds of thousands of short-lived objects a
second (events, messages, coroutines), so the defaults make it promote many of them and run a full
collection of the whole heap every few seconds; each took up to 1.6 s at 10,000 users, during which the
I/O loop and every monitor stood still. Here young collections run every `YOUNG_THRESHOLD` allocations
(still cheap: a few ms), so far fewer short-lived objects live long enough to be promoted, and a full
collection runs only after `FULL_AFTER` middle ones. What exists when the service has started (modules,
classes, configuration, the pools) is frozen out of every later collection (`gc.freeze`).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
MIDDLE_AFTER = 20
FULL_AFTER = 100


def tune_for_service() -> None:
    """Set the service's thresholds; call before building the service."""
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_AFTER, FULL_AFTER)


def freeze_startup_objects() -> None:
    """Exclude everything alive now from later collections; call once the service has started."""
    gc.collect()
    gc.freeze()
