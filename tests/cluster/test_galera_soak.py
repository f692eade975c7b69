"""The Galera soak, quick mode: two `serve` replicas on two nodes of a 3-node cluster trade for several users
(WebSocket clients of every user on both replicas, a strategy posting batches, the paper broker as a process)
while the second replica's database node is killed with SIGKILL, restarted and rejoins (the first replica
holds every user and keeps trading through the other nodes), and then the replica holding the users is killed.

What is asserted, by code after the run:
- the soak's invariants (`tests/soak/invariants`): no tag sent after the broker took it, no order with two live
  SLs or TPs, every order id the batch API answered still in `orders` or `orders_archive`, the audit clean
  (every cycle started, finished and replaying clean, no sequence gap, no overlapping cycles of a user) but for
  a cycle a kill cut short, and every RUNNING order protected once the run settles;
- a user is monitored by exactly one replica: the node kill moves no user, and after the replica kill the
  survivor holds every user's lease within two intervals;
- the killed node rejoins (IST) and the last replica stops cleanly on SIGTERM.
"""

from __future__ import annotations

import time

import pytest

from tests.cluster.galera import GaleraCluster
from tests.cluster.soak import INTERVAL_S, GaleraSoak
from tests.soak.crash import CrashPlan
from tests.soak.invariants import event_log_violations, order_violations, unprotected_running_orders

pytestmark = pytest.mark.mysql

PLAN = CrashPlan(users=4, accounts_per_user=2, kills=0, fault_rate=0.0, seed=25)
TRADE_S = 6.0


def test_a_database_node_and_a_replica_killed_mid_trade_lose_nothing_and_leave_each_user_one_replica(
        galera: GaleraCluster, galera_database: str, tmp_path, record_figures):
    started = time.monotonic()
    soak = GaleraSoak(galera, galera_database, tmp_path, PLAN)
    try:
        soak.start()
        soak.kill_and_restart_a_node(TRADE_S)
        soak.kill_the_holding_replica(TRADE_S)
        for clients in soak.all_clients:
            clients.placing = False
        settled = soak.settle(timeout_s=60)
        journal = soak.journal()
        unprotected = unprotected_running_orders(soak.db, journal)
        exit_code = soak.stop()
    finally:
        soak.stop()
        soak.close_broker()
    figures, galera_figures = soak.figures, soak.galera
    violations = {
        "users without two cycles at the end": [u for u in soak.tokens if settled.get(u, 0) < 2],
        "unprotected RUNNING orders": unprotected,
        **order_violations(soak.db, journal, figures.orders_placed),
        "event log": event_log_violations(soak.db, kills=galera_figures.kills),
        "users not all taken over within two intervals of the replica kill":
            [] if (galera_figures.replica_kill_to_every_user_held_s or 99) <= 2 * INTERVAL_S else
            [galera_figures.replica_kill_to_every_user_held_s],
        "users moved by the node kill": soak.users_moved_before_the_replica_kill,
        "last stop not clean": [] if exit_code == 0 else [exit_code],
    }
    record_figures({"users": PLAN.users, "replicas": 2, "nodes": 3, "node_killed": galera_figures.node_killed,
                    "node_rejoined_by": galera_figures.node_rejoined_by, "node_down_s": galera_figures.node_down_s,
                    "replica_kill_to_every_user_held_s": galera_figures.replica_kill_to_every_user_held_s,
                    "orders_placed": len(figures.orders_placed),
                    "batch_requests_refused_or_cut": figures.batch_requests_lost,
                    "place_requests": sum(1 for e in journal if e["route"] == "place"),
                    "seconds": round(time.monotonic() - started, 1),
                    "violations": sum(len(v) for v in violations.values())})
    assert figures.orders_placed and galera_figures.node_rejoined_by == "IST"
    assert {name: found for name, found in violations.items() if found} == {}
