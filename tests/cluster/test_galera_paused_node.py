"""A database node paused past the lease length while the replica holding every user is connected through it:
two `serve` replicas on two nodes of a 3-node Galera cluster trade for several users (the Galera soak's
`GaleraSoak`: clients of every user on both replicas, a strategy posting batches, the paper broker as a
process); the first replica holds every user when its node is frozen (SIGSTOP).

What is asserted, by code:
- the other replica, on another node, holds every user within two intervals of the moment it could: the
  holder's leases had run out and the cluster had left the frozen node out of its view (until then no node can
  commit: a frozen member holds up the cluster's total order);
- the cut-off holder sends nothing once its leases have run out (its own `/metrics`: no order request,
  answered or not, after that moment until the node is resumed); it writes nothing meanwhile (its statements
  wait at the frozen node), and what it writes once the node is back is fenced;
- after the node is resumed and rejoins, the soak's invariants (`tests/soak/invariants`): no tag sent after
  the broker took it, no order with two live SLs or TPs, nothing lost, the audit clean (the holder's cycles in
  flight at the pause end late, as those of a replica cut off from its node do: `cut_offs`), every RUNNING
  order protected; every user still held by the other replica alone; a clean last stop.
"""

from __future__ import annotations

import contextlib
import re
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from tests.cluster.galera import GaleraCluster, GaleraNode
from tests.cluster.soak import INTERVAL_S, GaleraSoak, Replica
from tests.soak.crash import CrashPlan
from tests.soak.invariants import event_log_violations, mysql_rows, order_violations, unprotected_running_orders

pytestmark = pytest.mark.mysql

PLAN = CrashPlan(users=3, accounts_per_user=2, kills=0, fault_rate=0.0, seed=33)
TRADE_S = 5.0
LEASE_S = 4.0
"""The replicas' lease: 2 x (1 s call timeout + 2 x 0.5 s clock-drift margin), longer than the 1 s interval."""
PAUSE_S = 3 * LEASE_S
"""How long the node stays frozen: well past the lease, and past the cluster's eviction of it (6 s)."""
ORDER_REQUEST = re.compile(r'^monitor_broker_call_seconds_count\{endpoint="(POST|PUT|DELETE) [^"]*orders[^"]*",'
                           r'status="[^"]*"\} (\S+)$', re.MULTILINE)


def order_requests(port: int) -> int:
    """Order requests (place, modify, cancel) a replica has made so far, answered or not, by its /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return int(sum(float(count) for _, count in ORDER_REQUEST.findall(response.read().decode())))


def port_of(replica: Replica) -> int:
    return int(re.search(r"^port = (\d+)$", replica.config.read_text(), re.MULTILINE).group(1))


def holds_every_user(soak: GaleraSoak, replica: Replica, node: GaleraNode) -> bool:
    """Whether `replica` holds every user's lease, unexpired, as `node` has them (False while it cannot say)."""
    with contextlib.suppress(Exception):  # the cluster is still settling its view: look again
        rows = mysql_rows(node.url(soak.database),
                          "SELECT user_id, owner FROM monitor_leases WHERE expires_at > UTC_TIMESTAMP(6)")
        return {r["user_id"] for r in rows if f":{replica.process.pid}:" in r["owner"]} >= set(soak.tokens)
    return False


def left_out_of_the_view(node: GaleraNode) -> bool:
    """Whether `node` sees a cluster of two (the frozen node left out)."""
    with contextlib.suppress(Exception):
        return node.status("wsrep_cluster_size")["wsrep_cluster_size"] == "2"
    return False


def test_a_paused_node_past_the_lease_moves_its_users_to_the_other_replica_and_its_own_sends_nothing(
        galera: GaleraCluster, galera_database: str, tmp_path, record_figures):
    started = time.monotonic()
    soak = GaleraSoak(galera, galera_database, tmp_path, PLAN)
    node = galera.nodes[0]
    figures: dict = {}
    try:
        soak.start()
        holder, other = soak.replicas
        time.sleep(TRADE_S)

        # when the holder's node is frozen while both trade
        galera.pause(node)
        paused_at = datetime.now(UTC)
        [row] = mysql_rows(galera.nodes[2].url(galera_database),
                           "SELECT MAX(expires_at) AS leases_out FROM monitor_leases WHERE owner LIKE %s",
                           (f"%:{holder.process.pid}:%",))
        leases_out = row["leases_out"].replace(tzinfo=UTC)
        sent: list[tuple[datetime, int]] = []
        evicted_at = None
        took_over_at = None
        while (datetime.now(UTC) - paused_at).total_seconds() < PAUSE_S:
            sent.append((datetime.now(UTC), order_requests(port_of(holder))))
            if evicted_at is None and left_out_of_the_view(galera.nodes[1]):
                evicted_at = datetime.now(UTC)
            if took_over_at is None and holds_every_user(soak, other, galera.nodes[1]):
                took_over_at = datetime.now(UTC)
            time.sleep(0.2)
        sent.append((datetime.now(UTC), order_requests(port_of(holder))))
        galera.resume(node)
        galera.wait_synced(timeout_s=120)
        resumed_at = datetime.now(UTC)

        # then the strategies stop, sessions are renewed through the other replica, two cycles each settle it
        for clients in soak.all_clients:
            clients.placing = False
        soak.url = f"http://127.0.0.1:{port_of(other)}"
        settled = soak.settle(timeout_s=60)
        journal = soak.journal()
        unprotected = unprotected_running_orders(soak.db, journal)
        leases = mysql_rows(soak.db, "SELECT user_id, owner FROM monitor_leases WHERE expires_at > UTC_TIMESTAMP(6)")
        holder_log = (tmp_path / f"serve-{holder.name}.log").read_text()
        exit_code = soak.stop()
    finally:
        if node.running:
            galera.resume(node)
        soak.stop()
        soak.close_broker()

    could_take_at = max(leases_out, evicted_at or resumed_at)
    after_leases_out = [count for at, count in sent if at >= leases_out]
    violations = {
        "the other replica did not hold every user within two intervals of when it could":
            [] if took_over_at is not None and (took_over_at - could_take_at).total_seconds() <= 2 * INTERVAL_S
            else [f"could take at {could_take_at}, held every user at {took_over_at}"],
        "order requests of the cut-off holder after its leases ran out":
            [] if len(set(after_leases_out)) <= 1 else [str(after_leases_out)],
        "users without two cycles at the end": [u for u in soak.tokens if settled.get(u, 0) < 2],
        "unprotected RUNNING orders": unprotected,
        **order_violations(soak.db, journal, soak.figures.orders_placed),
        "event log": event_log_violations(soak.db, cut_offs=[(paused_at, leases_out)]),
        "users not held by the other replica alone at the end":
            sorted(set(soak.tokens) - {r["user_id"] for r in leases if f":{other.process.pid}:" in r["owner"]}),
        "last stop not clean": [] if exit_code == 0 else [exit_code],
    }
    figures = {
        "users": PLAN.users, "lease_s": LEASE_S, "pause_s": PAUSE_S,
        "leases_out_after_pause_s": round((leases_out - paused_at).total_seconds(), 2),
        "node_evicted_after_pause_s": round((evicted_at - paused_at).total_seconds(), 2) if evicted_at else None,
        "every_user_held_after_pause_s":
            round((took_over_at - paused_at).total_seconds(), 2) if took_over_at else None,
        "holder_order_requests_during_pause": sent[-1][1] - sent[0][1],
        "holder_sends_withheld": holder_log.count("withheld, not sent"),
        "holder_writes_refused": holder_log.count("write refused"),
        "orders_placed": len(soak.figures.orders_placed),
        "place_requests": sum(1 for e in journal if e["route"] == "place"),
        "seconds": round(time.monotonic() - started, 1),
        "violations": sum(len(v) for v in violations.values()),
    }
    record_figures(figures)
    assert soak.figures.orders_placed and leases_out <= paused_at + timedelta(seconds=LEASE_S)
    assert {name: found for name, found in violations.items() if found} == {}
