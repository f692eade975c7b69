"""Metrics derived from the event stream: what a scrape shows after some events."""

from datetime import UTC, datetime

from messages.events import TickSkipped
from service.metrics import Metrics

AT = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def test_skipped_ticks_are_counted_by_reason():
    metrics = Metrics()
    for reason in ("waiting_for_capacity", "waiting_for_capacity", "cycle_running"):
        metrics.observe(TickSkipped(user_id=1, cycle_id="", at=AT, reason=reason))

    lines = metrics.exposition().decode().splitlines()

    assert 'monitor_ticks_skipped_total{reason="waiting_for_capacity"} 2.0' in lines
    assert 'monitor_ticks_skipped_total{reason="cycle_running"} 1.0' in lines
