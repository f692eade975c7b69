"""The garbage collector's settings for a long-running service process (`run.py serve` and the benchmarks),
applied once at start-up; tests and the demo keep CPython's defaults, which at ten thousand users promote many
short-lived objects and stall the loop in long full collections. Young collections run every `YOUNG_THRESHOLD`
allocations, a full one after `FULL_AFTER` middle ones, and what exists at start-up is frozen (`gc.freeze`).
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
