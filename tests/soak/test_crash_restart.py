"""Crash and restart: the service process is killed with SIGKILL at random points of its cycles and started
again (3 times in quick mode, 30 with MONITOR_SOAK=long), while WebSocket clients keep every user monitored,
a strategy sends entries through the batch API and the paper broker (its own process) faults 5% of calls.

What is asserted, and why:
- no tag was ever sent to the broker after the broker had taken an order under it (the journal of every
  place request, in order). The design re-sends a tag only after an ambiguous failure that the next order
  book proved absent, so a tag may appear twice only when the first request never reached the book;
- every other invariant of the soak: no order with two live SLs or TPs, every order id the API answered
  still in `orders` or `orders_archive`, every cycle started and finished and replaying clean, no sequence
  gap, no overlap — except the cycle each kill cut short (its events end before the kill, nothing after);
- once the faults stop and sessions are renewed, every user completes two cycles and every RUNNING order
  has its SL and TP live; the last process stops cleanly on SIGTERM.
"""

from __future__ import annotations

import time

import pytest

from tests.soak.conftest import LONG
from tests.soak.crash import CrashPlan, CrashRun
from tests.soak.invariants import event_log_violations, mysql_rows, order_violations, unprotected_running_orders

PLAN = CrashPlan(kills=30) if LONG else CrashPlan(kills=3)


@pytest.mark.mysql
def test_sigkill_at_random_points_loses_nothing_and_sends_no_tag_twice(fresh_mysql_url, tmp_path, record_figures):
    started = time.monotonic()
    run = CrashRun(fresh_mysql_url, tmp_path, PLAN)
    try:
        run.run()
        settled = run.settle(timeout_s=60)
        journal = run.journal()
        unprotected = unprotected_running_orders(fresh_mysql_url, journal)
        exit_code = run.stop()
    finally:
        run.stop()
        run.close_broker()
    figures = run.figures
    events = event_log_violations(fresh_mysql_url, kills=figures.kills)
    cut = mysql_rows(fresh_mysql_url, "SELECT COUNT(*) AS n FROM monitor_events s WHERE s.type = 'cycle_started' "
                                      "AND NOT EXISTS (SELECT 1 FROM monitor_events f WHERE f.user_id = s.user_id "
                                      "AND f.cycle_id = s.cycle_id AND f.type = 'cycle_finished')")[0]["n"]
    cycles = mysql_rows(fresh_mysql_url, "SELECT COUNT(*) AS n FROM monitor_events WHERE type = 'cycle_finished'")
    violations = {
        "users without two cycles after the faults": [u for u in run.tokens if settled.get(u, 0) < 2],
        "unprotected RUNNING orders": unprotected,
        **order_violations(fresh_mysql_url, journal, figures.orders_placed),
        "event log": events,
        "last stop not clean": [] if exit_code == 0 else [exit_code],
    }
    record_figures({"kills": len(figures.kills), "cycles_cut_by_a_kill": cut, "cycles_finished": cycles[0]["n"],
                    "service_starts": figures.starts, "orders_placed": len(figures.orders_placed),
                    "batch_requests_refused_or_cut_by_a_kill": figures.batch_requests_lost,
                    "place_requests": sum(1 for e in journal if e["route"] == "place"),
                    "seconds": round(time.monotonic() - started, 1),
                    "violations": sum(len(v) for v in violations.values())})
    assert len(figures.kills) == PLAN.kills and figures.orders_placed
    assert {name: found for name, found in violations.items() if found} == {}
