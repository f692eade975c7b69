"""The Galera soak (quick mode in CI; MONITOR_SOAK=long: 12 users trading a minute between faults): two `serve` replicas on two nodes of a 3-node cluster trade for several users
(WebSocket clients of every user on both replicas, a strategy posting batches, the paper broker as a process)
while, one after the other, the second replica's database node is killed with SIGKILL, restarted and rejoins
(the first replica holds every user and keeps trading through the other nodes); the first replica's own node
is killed, so that the second takes every user over, and restarted (the first replica, back, writes the events
it had queued after the second's); and the replica holding the users, now the second, is killed.

What is asserted, by code after the run:
- the soak's invariants (`tests/soak/invariants`): no tag sent after the broker took it, no order with two live
  SLs or TPs, every order id the batch API answered still in `orders` or `orders_archive`, the audit clean
  (every cycle started, finished and replaying clean, no sequence gap, every user's hash chain unbroken, no
  overlapping cycles of a user) but for a cycle a kill cut short, and every RUNNING order protected once the
  run settles;
- a user is monitored by exactly one replica: the standby's node kill moves no user; after the holder's node
  kill the other replica holds every user's lease once the leases ran out and the cluster left the node out
  (within two intervals of the later of the two), with the next fencing token; after the replica kill the
  survivor holds every user's lease within two intervals;
- both killed nodes rejoin (IST) and the last replica stops cleanly on SIGTERM.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import pytest

from tests.cluster.galera import GaleraCluster
from tests.cluster.soak import INTERVAL_S, NODE_EVICTION_S, GaleraSoak
from tests.soak.conftest import LONG
from tests.soak.crash import CrashPlan
from tests.soak.invariants import event_log_violations, order_violations, unprotected_running_orders

pytestmark = pytest.mark.mysql

PLAN = CrashPlan(users=12 if LONG else 4, accounts_per_user=2, kills=0, fault_rate=0.0, seed=25)
TRADE_S = 60.0 if LONG else 6.0


def within(seconds: float | None, bound_s: float) -> list[float | None]:
    """[] when `seconds` is known and at most `bound_s`; else what it was, as a violation."""
    return [] if seconds is not None and seconds <= bound_s else [seconds]


def test_database_nodes_and_a_replica_killed_mid_trade_lose_nothing_and_leave_each_user_one_replica(
        galera: GaleraCluster, galera_database: str, tmp_path, record_figures):
    started = time.monotonic()
    soak = GaleraSoak(galera, galera_database, tmp_path, PLAN)
    try:
        soak.start()
        soak.kill_and_restart_the_standbys_node(TRADE_S)
        soak.kill_and_restart_the_holders_node(TRADE_S)
        soak.kill_the_holding_replica(TRADE_S)
        for clients in soak.all_clients:
            clients.placing = False
        settled = soak.settle(timeout_s=120 if LONG else 60)
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
        "event log": event_log_violations(soak.db, kills=galera_figures.kills, cut_offs=galera_figures.cut_offs),
        "users moved by the standby's node kill": soak.users_moved_by_the_standby_node_kill,
        "users not all taken over in time after the holder's node kill": within(
            galera_figures.holder_node_kill_to_every_user_held_s,
            max(galera_figures.holder_leases_left_at_the_node_kill_s, NODE_EVICTION_S) + 2 * INTERVAL_S),
        "leases not the second replica's (token 2) before the replica kill":
            soak.users_not_held_before_the_replica_kill,
        "users not all taken over within two intervals of the replica kill": within(
            galera_figures.replica_kill_to_every_user_held_s, 2 * INTERVAL_S),
        "last stop not clean": [] if exit_code == 0 else [exit_code],
    }
    record_figures({"users": PLAN.users, "trade_s_between_faults": TRADE_S, "replicas": 2, "nodes": 3,
                    "standby_node": asdict(galera_figures.standby_node),
                    "holder_node": asdict(galera_figures.holder_node),
                    "holder_leases_left_at_the_node_kill_s": galera_figures.holder_leases_left_at_the_node_kill_s,
                    "holder_node_kill_to_every_user_held_s": galera_figures.holder_node_kill_to_every_user_held_s,
                    "replica_kill_to_every_user_held_s": galera_figures.replica_kill_to_every_user_held_s,
                    "events_stored_after_a_later_replicas": soak.events_stored_late(),
                    "event_batches_numbered_after_another_writers": soak.log_lines("numbered after them"),
                    "orders_placed": len(figures.orders_placed),
                    "batch_requests_refused_or_cut": figures.batch_requests_lost,
                    "place_requests": sum(1 for e in journal if e["route"] == "place"),
                    "seconds": round(time.monotonic() - started, 1),
                    "violations": sum(len(v) for v in violations.values())})
    assert figures.orders_placed
    assert (galera_figures.standby_node.rejoined_by, galera_figures.holder_node.rejoined_by) == ("IST", "IST")
    assert {name: found for name, found in violations.items() if found} == {}
