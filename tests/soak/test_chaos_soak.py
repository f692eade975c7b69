"""The chaos soak as a test: 20 users x 3 accounts on a 1 s interval, ~10% of broker calls faulted at random
(session expired, HTTP 500, timeouts, resets, malformed JSON, slow answers, accepted-then-500) and every
service connection to MySQL killed at ~1% of cycle starts. Quick mode (CI) runs 200 cycles; MONITOR_SOAK=long
runs 12,000 (600 per user). Afterwards: no monitor is dead, no order has two live SLs or TPs, no tag was sent
after the broker took it, every order handed out is in `orders` or `orders_archive`, the audit is clean
(start and finish of every cycle, no divergence, no sequence gap), no two cycles of a user overlapped, and
once faults stop every RUNNING order has its SL and TP live within two cycles."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.soak.chaos import ChaosSoak, SoakPlan
from tests.soak.conftest import LONG
from tests.soak.invariants import event_log_violations, mysql_rows, order_violations, unprotected_running_orders

ROOT = Path(__file__).resolve().parents[2]
PLAN = SoakPlan(cycles=12_000) if LONG else SoakPlan(cycles=200)


@pytest.mark.mysql
def test_the_service_survives_random_broker_faults_and_killed_db_connections(fresh_mysql_url, record_figures):
    started = time.monotonic()
    soak = ChaosSoak(fresh_mysql_url, PLAN)
    try:
        soak.given_users()
        soak.run_under_faults()
        settled = soak.settle(timeout_s=120 if LONG else 45)
        monitored = soak.monitored_users()
        journal = soak.journal()
        unprotected = unprotected_running_orders(fresh_mysql_url, journal)
        running = mysql_rows(fresh_mysql_url, "SELECT COUNT(*) AS n FROM orders WHERE status = 'RUNNING'")[0]["n"]
    finally:
        soak.close()
    figures = soak.figures
    figures.db_kills, figures.connections_killed = soak.killer.kills, soak.killer.connections
    figures.cycles_total = mysql_rows(fresh_mysql_url, "SELECT COUNT(*) AS n FROM monitor_events "
                                                       "WHERE type = 'cycle_finished'")[0]["n"]
    figures.seconds = round(time.monotonic() - started, 1)
    audit = subprocess.run([sys.executable, str(ROOT / "run.py"), "audit", "--database", fresh_mysql_url],
                           capture_output=True, text=True, timeout=300, env={"MONITOR_NO_BOOTSTRAP": "1"})
    violations = {
        "dead monitors": sorted(set(soak.accounts) - monitored),
        "users without two cycles after the faults": [u for u in soak.accounts if settled.get(u, 0) < 2],
        "unprotected RUNNING orders": unprotected,
        **order_violations(fresh_mysql_url, journal, figures.orders_placed),
        "event log": event_log_violations(fresh_mysql_url),
        "run.py audit": [] if audit.returncode == 0 else audit.stdout.splitlines()[-20:],
    }
    record_figures({**dataclasses.asdict(figures), "orders_placed": len(figures.orders_placed),
                    "broker_order_requests": len(journal), "running_orders_checked": running,
                    "violations": sum(len(v) for v in violations.values())})
    assert figures.db_kills > 0 or not LONG
    assert running > 0, "no RUNNING order to check the protection of"
    assert sum(figures.faults_injected.values()) > 0
    assert {name: found for name, found in violations.items() if found} == {}
