"""A replica cut off from the database across a real network boundary, past its lease, while it trades: replica A
runs in a network namespace of the test's own and holds every user (WebSocket clients on it, a strategy posting
entries whose stop-losses and take-profits its cycles place); replica B, on the host, has clients of the same
users. Every packet between A and the database is dropped (tc filters on the namespace's end of the veth pair),
the paper broker still reachable from A, until B has held every user for a while; then the path is restored.

What is asserted, by code:
- B takes every user within two intervals of A's lease of the user running out, and runs a cycle at once,
  labelled `takeover`;
- A sends the broker no order request once its lease of the user ran out (the broker's journal, each request
  by the address it came from);
- A runs nothing of the user's more than an interval after its lease ran out: no frame reaches A's clients;
- A writes no row but events from the cut on, through the restore and its own stop (the test's database logs
  every committed row by the address of the client that wrote it): the fence refuses the rest. The events of
  the cycle A had running at the cut are written once the path is back, after B's, and the audit must stay
  clean;
- after the restore, the soak's invariants (`tests/soak/invariants`): no tag sent after the broker took it, no
  order with two live SLs or TPs, nothing the batch API answered lost, the audit clean (no broken chain, every
  cycle started, finished and replaying clean, no two cycles of a user overlapping, only a cycle the cut stopped
  may lack its finish), every RUNNING order protected, two whole cycles of every user on B, and both replicas
  stop cleanly on SIGTERM.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from domain.tags import parse_tag
from tests.replicas.mariadb_server import MariaDbServer
from tests.replicas.netns import NetworkNamespace
from tests.replicas.partition import INTERVAL_S, PartitionRun
from tests.soak.invariants import event_log_violations, order_violations, unprotected_running_orders

pytestmark = pytest.mark.mysql

TRADE_S = 4.0
"""A trades alone this long before the cut."""
HOLD_AFTER_TAKEOVER_S = 3.0
"""The cut lasts this long past B's take-over of every user."""
RESUME_S = 8.0
"""By this long after the restore, every connection the cut stalled has had its next TCP retransmission (the
backoff after a cut of some ten seconds is under 6.4 s)."""


def test_a_replica_cut_off_from_the_database_past_its_lease_stops_sending_and_writing_and_another_takes_its_users(
        partition_rig: tuple[NetworkNamespace, MariaDbServer], tmp_path, record_figures):
    namespace, server = partition_rig
    started = time.monotonic()
    run = PartitionRun(namespace, server, tmp_path, users=2, accounts_per_user=2, seed=26)
    try:
        run.start()
        time.sleep(TRADE_S)
        run.cut()
        run.wait_for_takeover(timeout_s=30)
        time.sleep(HOLD_AFTER_TAKEOVER_S)
        run.restore()
        settled = run.settle(timeout_s=30)
        time.sleep(max(0.0, RESUME_S - (datetime.now(UTC) - run.figures.restored_at).total_seconds()))
        journal = run.journal()
        unprotected = unprotected_running_orders(run.db, journal)
        frames_a, frames_b = run.clients["A"], run.clients["B"]
        run.stop_clients()
        exit_a = run.stop("A")
        written_after_the_cut = server.writes(run.db, namespace.inside_address, after=run.figures.write_mark)
        exit_b = run.stop("B")
    finally:
        run.close()

    figures = run.figures
    assert figures.cut_at is not None and figures.restored_at is not None
    lease_ends = figures.lease_ends
    assert set(lease_ends) == set(run.tokens), "A held every user when it was cut off"
    sent_by_a = [entry for entry in journal if entry["peer"] == namespace.inside_address]
    placed_by_a_before_the_cut = [e for e in sent_by_a if _at(e["received_at"]) < figures.cut_at
                                  and e["route"] == "place" and (parse_tag(e["tag"]) or (0, ""))[1] in ("sl", "tp")]

    def lease_end(entry: dict) -> datetime:
        """When A's lease of the request's user ended (the first to end, for a request of no known account)."""
        return lease_ends.get(run.client_of.get(entry["account"], 0), min(lease_ends.values()))

    sent_after_the_lease = [f"{e['route']} {e['tag']} ({e['outcome']}) at {e['received_at']}; A's lease of the "
                            f"user ended {lease_end(e)}" for e in sent_by_a if _at(e["received_at"]) > lease_end(e)]
    frames_after_the_lease = [
        f"user {user_id}: {frame['type']} at {received:%H:%M:%S.%f}, A's lease ended {lease_ends[user_id]:%H:%M:%S.%f}"
        for user_id in run.tokens for received, frame in list(frames_a.frames[user_id])
        if received > lease_ends[user_id] + timedelta(seconds=INTERVAL_S)]
    takeovers = {user_id: (figures.taken_over_at[user_id] - lease_ends[user_id]).total_seconds()
                 for user_id in run.tokens if user_id in figures.taken_over_at}
    takeover_cycles = {user_id for user_id in run.tokens for frame in frames_b.cycles_started(user_id)
                       if frame["trigger"] == "takeover" and _at(frame["at"]) > figures.cut_at}
    violations = {
        "users B did not take within two intervals of A's lease ending":
            [f"user {u}: {takeovers.get(u, 'never')}" for u in run.tokens if takeovers.get(u, 99) > 2 * INTERVAL_S],
        "users without a takeover cycle on B": sorted(set(run.tokens) - takeover_cycles),
        "order requests A sent after its lease ran out": sent_after_the_lease,
        "frames of a cycle A ran after its lease ran out": frames_after_the_lease,
        "rows A wrote after it was cut off, other than events":
            [f"{table}: {rows}" for table, rows in written_after_the_cut.items() if table != "monitor_events"],
        "users without two cycles at the end": [u for u in run.tokens if settled.get(u, 0) < 2],
        "unprotected RUNNING orders": unprotected,
        **order_violations(run.db, journal, run.orders_placed),
        "event log": event_log_violations(run.db, kills=[figures.cut_at]),
        "stops not clean": [f"{name} exited {code}" for name, code in (("A", exit_a), ("B", exit_b)) if code != 0],
    }
    record_figures({
        "users": len(run.tokens), "interval_s": INTERVAL_S,
        "lease_left_at_cut_s": round(min((end - figures.cut_at).total_seconds() for end in lease_ends.values()), 2),
        "lease_end_to_takeover_s": round(max(takeovers.values(), default=-1), 2),
        "cut_s": round((figures.restored_at - figures.cut_at).total_seconds(), 1),
        "packets_dropped": figures.packets_dropped,
        "sl_tp_placed_by_a_before_the_cut": len(placed_by_a_before_the_cut),
        "requests_by_a_after_the_cut": sum(1 for e in sent_by_a if _at(e["received_at"]) > figures.cut_at),
        "requests_by_a_after_its_lease": len(sent_after_the_lease),
        "rows_written_by_a_before_the_cut": sum(figures.rows_written_by_a.values()),
        "rows_written_by_a_after_the_cut": written_after_the_cut,
        "orders_placed": len(run.orders_placed),
        "place_requests": sum(1 for e in journal if e["route"] == "place"),
        "seconds": round(time.monotonic() - started, 1),
        "violations": sum(len(v) for v in violations.values())})
    assert placed_by_a_before_the_cut and figures.rows_written_by_a.get("orders"), "A traded before the cut"
    assert figures.packets_dropped > 0, "the cut dropped A's packets to the database"
    found = {name: found for name, found in violations.items() if found}
    assert found == {}, "\n".join(f"{name}: {items}" for name, items in found.items())


def _at(text: str | datetime) -> datetime:
    moment = text if isinstance(text, datetime) else datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
