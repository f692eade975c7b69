"""A replica cut off from the database across a real network boundary, past its lease, while it trades: replica A
runs in a network namespace of the test's own and holds every user (WebSocket clients on it, a strategy posting
entries whose stop-losses and take-profits its cycles place); replica B, on the host, has clients of the same
users. Every packet between A and the database is dropped (tc filters on the namespace's end of the veth pair),
the paper broker still reachable from A, until B has held every user for a while; then the path is restored.
In the second test A is, at the cut, about to send a stop-loss whose intent it wrote (the send guard's test-only
pause point stops it there), and is let go on while still cut off, its lease long run out.

What is asserted, by code:
- B takes every user within two intervals of A's lease of the user running out, and runs a cycle at once,
  labelled `takeover`;
- A sends the broker no order request once its lease of the user ran out (the broker's journal, each request
  by the address it came from); the stop-loss it was about to send reaches the broker once, from B;
- A begins no cycle of the user after its lease ran out (the `cycle_started` frames its clients get); the cycle
  it had running may run on to its step deadlines, sending and writing nothing;
- A writes no row but events from the cut on, through the restore and its own stop (the test's database logs
  every committed row by the address of the client that wrote it): the fence refuses the rest. The events of
  the cycle A had running are written once the path is back, after B's, and the audit must stay clean;
- after the restore, the soak's invariants (`tests/soak/invariants`): no tag sent after the broker took it, no
  order with two live SLs or TPs, nothing the batch API answered lost, the audit clean (no broken chain, every
  cycle started, finished and replaying clean, no two cycles of a user overlapping in time but A's cycle in
  flight, begun before its lease ran out, only a cycle the cut stopped may lack its finish), every RUNNING order
  protected, two whole cycles of every user on B, and both replicas stop cleanly on SIGTERM.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.tags import order_tag, parse_tag
from service.send_guard import STOP_BEFORE_SENDING_ENV
from tests.replicas.mariadb_server import MariaDbServer
from tests.replicas.netns import NetworkNamespace
from tests.replicas.partition import INTERVAL_S, PartitionRun, RecordingClients
from tests.soak.invariants import event_log_violations, mysql_rows, order_violations, unprotected_running_orders

pytestmark = pytest.mark.mysql

TRADE_S = 4.0
"""A trades alone this long before the cut."""
HOLD_AFTER_TAKEOVER_S = 3.0
"""The cut lasts this long past B's take-over of every user."""
RESUME_S = 8.0
"""By this long after the restore, every connection the cut stalled has had its next TCP retransmission (the
backoff after a cut of some ten seconds is under 6.4 s)."""
PENDING_TAG = order_tag(12, "sl", 1)
"""The stop-loss A is about to send at the cut in the second test: the twelfth order's, a few cycles in."""


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
        outcome = _settle_and_stop(run)
    finally:
        run.close()

    lease_ends = run.figures.lease_ends
    cycles_begun_after_the_lease = [
        f"user {user_id}: cycle {frame['cycle_id']} at {frame['at']}, A's lease ended {lease_ends[user_id]}"
        for user_id in run.tokens for frame in outcome["clients"]["A"].cycles_started(user_id)
        if _at(frame["at"]) > lease_ends[user_id]]
    violations = {**_violations(run, outcome, cut=run.figures.cut_at),
                  "cycles A began after its lease ran out": cycles_begun_after_the_lease}
    record_figures(_figures(run, outcome, violations, started))
    _assert_none(violations)


def test_a_replica_cut_off_with_a_stop_loss_about_to_go_out_does_not_send_it_and_the_other_sends_it_once(
        partition_rig: tuple[NetworkNamespace, MariaDbServer], tmp_path, record_figures):
    namespace, server = partition_rig
    started = time.monotonic()
    run = PartitionRun(namespace, server, tmp_path, users=2, accounts_per_user=2, seed=27,
                       a_environment={STOP_BEFORE_SENDING_ENV: f"place {PENDING_TAG}"})
    try:
        run.start()
        assert _within(60, lambda: run.replicas["A"].stopped), f"A came to send {PENDING_TAG} and stopped"
        stopped_at = datetime.now(UTC)
        [intent] = mysql_rows(run.db, "SELECT sl_tag, sl_orderstatus FROM orders WHERE id = %s",
                              (parse_tag(PENDING_TAG)[0],))
        run.cut()
        run.wait_for_takeover(timeout_s=30)
        run.resume_a()  # still cut off: A reaches the broker, not the database
        time.sleep(HOLD_AFTER_TAKEOVER_S)
        run.restore()
        outcome = _settle_and_stop(run)
    finally:
        run.close()

    assert intent == {"sl_tag": PENDING_TAG, "sl_orderstatus": "PendingSubmit"}, "A wrote the intent, then stopped"
    sends = [(entry["peer"], entry["outcome"]) for entry in outcome["journal"] if entry["tag"] == PENDING_TAG]
    once_by_b = [(namespace.host_address, "accepted")]
    violations = {**_violations(run, outcome, cut=stopped_at),
                  f"{PENDING_TAG} not sent once, by B": [] if sends == once_by_b else sends}
    record_figures(_figures(run, outcome, violations, started))
    _assert_none(violations)


# --- the end of a run, and what it must show -----------------------------------------------------------------


def _settle_and_stop(run: PartitionRun) -> dict[str, Any]:
    """After the restore: two whole cycles of every user on B, then A's stop and B's; what they left."""
    settled = run.settle(timeout_s=30)
    time.sleep(max(0.0, RESUME_S - (datetime.now(UTC) - run.figures.restored_at).total_seconds()))
    journal = run.journal()
    unprotected = unprotected_running_orders(run.db, journal)
    clients = dict(run.clients)
    run.stop_clients()
    exit_a = run.stop("A")
    written = run.server.writes(run.db, run.namespace.inside_address, after=run.figures.write_mark)
    exit_b = run.stop("B")
    return {"settled": settled, "journal": journal, "unprotected": unprotected, "clients": clients,
            "exits": {"A": exit_a, "B": exit_b}, "written_after_the_cut": written}


def _violations(run: PartitionRun, outcome: dict[str, Any], cut: datetime) -> dict[str, list]:
    """What every case must keep; `cut` is when A stopped talking to the database (cut off, or stopped)."""
    figures, journal = run.figures, outcome["journal"]
    lease_ends = figures.lease_ends
    assert set(lease_ends) == set(run.tokens), "A held every user when it was cut off"
    frames_b: RecordingClients = outcome["clients"]["B"]

    def lease_end(entry: dict[str, Any]) -> datetime:
        """When A's lease of the request's user ended (the first to end, for a request of no known account)."""
        return lease_ends.get(run.client_of.get(entry["account"], 0), min(lease_ends.values()))

    takeovers = _takeover_delays(run)
    takeover_cycles = {user_id for user_id in run.tokens for frame in frames_b.cycles_started(user_id)
                       if frame["trigger"] == "takeover" and _at(frame["at"]) > figures.cut_at}
    return {
        "users B did not take within two intervals of A's lease ending":
            [f"user {u}: {takeovers.get(u, 'never')}" for u in run.tokens if takeovers.get(u, 99) > 2 * INTERVAL_S],
        "users without a takeover cycle on B": sorted(set(run.tokens) - takeover_cycles),
        "order requests A sent after its lease ran out": [
            f"{e['route']} {e['tag']} ({e['outcome']}) at {e['received_at']}; A's lease of the user ended "
            f"{lease_end(e)}" for e in _sent_by_a(run, journal) if _at(e["received_at"]) > lease_end(e)],
        "rows A wrote after it was cut off, other than events":
            [f"{table}: {rows}" for table, rows in outcome["written_after_the_cut"].items()
             if table != "monitor_events"],
        "users without two cycles at the end": [u for u in run.tokens if outcome["settled"].get(u, 0) < 2],
        "unprotected RUNNING orders": outcome["unprotected"],
        **order_violations(run.db, journal, run.orders_placed),
        "event log": event_log_violations(run.db, kills=[cut], cut_offs=[(cut, max(lease_ends.values()))]),
        "stops not clean": [f"{name} exited {code}" for name, code in outcome["exits"].items() if code != 0],
    }


def _figures(run: PartitionRun, outcome: dict[str, Any], violations: dict[str, list], started: float) -> dict:
    figures, journal = run.figures, outcome["journal"]
    sent_by_a = _sent_by_a(run, journal)
    return {
        "users": len(run.tokens), "interval_s": INTERVAL_S,
        "lease_left_at_cut_s": round(min((end - figures.cut_at).total_seconds()
                                         for end in figures.lease_ends.values()), 2),
        "lease_end_to_takeover_s": round(max(_takeover_delays(run).values(), default=-1), 2),
        "cut_s": round((figures.restored_at - figures.cut_at).total_seconds(), 1),
        "packets_dropped": figures.packets_dropped,
        "sl_tp_placed_by_a_before_the_cut": sum(
            1 for e in sent_by_a if _at(e["received_at"]) < figures.cut_at and e["route"] == "place"
            and (parse_tag(e["tag"]) or (0, ""))[1] in ("sl", "tp")),
        "requests_by_a_after_the_cut": sum(1 for e in sent_by_a if _at(e["received_at"]) > figures.cut_at),
        "rows_written_by_a_before_the_cut": sum(figures.rows_written_by_a.values()),
        "rows_written_by_a_after_the_cut": outcome["written_after_the_cut"],
        "orders_placed": len(run.orders_placed),
        "place_requests": sum(1 for e in journal if e["route"] == "place"),
        "seconds": round(time.monotonic() - started, 1),
        "violations": sum(len(v) for v in violations.values()),
    }


def _assert_none(violations: dict[str, list]) -> None:
    found = {name: items for name, items in violations.items() if items}
    assert found == {}, "\n".join(f"{name}: {items}" for name, items in found.items())


def _sent_by_a(run: PartitionRun, journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in journal if entry["peer"] == run.namespace.inside_address]


def _takeover_delays(run: PartitionRun) -> dict[int, float]:
    """Per user, seconds from A's lease running out to B seen holding it."""
    figures = run.figures
    return {user_id: (figures.taken_over_at[user_id] - figures.lease_ends[user_id]).total_seconds()
            for user_id in run.tokens if user_id in figures.taken_over_at and user_id in figures.lease_ends}


def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _at(text: str | datetime) -> datetime:
    moment = text if isinstance(text, datetime) else datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
