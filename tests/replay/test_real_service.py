"""Replay of cycles the real service recorded (actors, store, event log, paper broker over HTTP) on SQLite
and MariaDB: the decider re-folded over the stored log agrees with every command, the timeline shows what
happened to the orders, the scripted harness reproduces the cycle, and `run.py replay` prints it."""

from __future__ import annotations

from datetime import UTC, datetime

from replay.fold import check_cycle
from replay.timeline import cycle_timeline
from tests.cycle.conftest import CycleRig
from tests.replay.recorded import given_a_cycle_with_failures, run_py, run_recorded_cycle
from tests.rerun import rerun_cycle


def test_a_recorded_cycle_with_failures_replays_clean(rig: CycleRig):
    given_a_cycle_with_failures(rig)

    events = run_recorded_cycle(rig)
    check = check_cycle(rig.user_id, events[0].event.cycle_id, events, now=datetime.now(UTC))

    assert check.clean, check
    assert check.status == "finished" and check.error_count >= 1
    kinds = [type(e.event).__name__ for e in events]
    assert {"FetchFailed", "OrdersSynced", "ProtectiveOrdersPlaced", "RejectedArchived"} <= set(kinds)


def test_the_timeline_of_a_recorded_cycle_shows_its_errors_and_order_changes(rig: CycleRig):
    given_a_cycle_with_failures(rig)
    events = run_recorded_cycle(rig)
    cycle_id = events[0].event.cycle_id

    timeline = rig.io.call(cycle_timeline(rig.runtime.event_log, rig.user_id, cycle_id, now=datetime.now(UTC)))
    other_user = rig.io.call(cycle_timeline(rig.runtime.event_log, rig.user_id + 1, cycle_id, now=datetime.now(UTC)))

    assert timeline is not None and timeline.check.clean and other_user is None
    expired = rig.accounts["EXPIRED"]
    assert [(e.account_ids, e.error.kind) for e in timeline.entries if e.error] == [((expired,), "session_expired")]
    synced = next(e for e in timeline.entries if e.event == "orders_synced")
    assert ("status", "ENTRY_OPEN", "RUNNING") in {(c.field, c.before, c.after) for c in synced.changes}
    placed = next(e for e in timeline.entries if e.event == "protective_orders_placed")
    assert {(a.leg, a.action) for a in placed.actions} == {("sl", "place"), ("tp", "place")}
    archived = next(e for e in timeline.entries if e.event == "rejected_archived")
    assert [a.reason for a in archived.archived] == ["RMS:Blocked"]


def test_a_recorded_cycle_rerun_in_the_harness_logs_the_same_events(rig: CycleRig):
    given_a_cycle_with_failures(rig)
    stored = [e.event for e in run_recorded_cycle(rig)]

    assert rerun_cycle(stored).events == stored


def test_run_py_replay_prints_the_last_cycle_and_exits_0(rig: CycleRig):
    given_a_cycle_with_failures(rig)
    events = run_recorded_cycle(rig)

    text = run_py("replay", "--database", rig.database_url, "--user", "trader", "--last", "1")
    lines = run_py("replay", "--database", rig.database_url, "--user", "trader", "--cycle",
                   events[0].event.cycle_id, "--json")

    assert text.returncode == 0, text.stderr
    assert f"cycle {events[0].event.cycle_id}" in text.stdout and "replay: clean" in text.stdout
    assert "+05:30" in text.stdout and "session_expired" in text.stdout
    assert lines.returncode == 0, lines.stderr
    assert len(lines.stdout.splitlines()) == 1 and '"status":"finished"' in lines.stdout


def test_run_py_replay_names_an_unknown_user_or_cycle(rig: CycleRig):
    given_a_cycle_with_failures(rig)
    run_recorded_cycle(rig)

    nobody = run_py("replay", "--database", rig.database_url, "--user", "nobody")
    no_cycle = run_py("replay", "--database", rig.database_url, "--user", "trader", "--cycle", "nope")

    assert nobody.returncode == 1 and "no user named 'nobody'" in nobody.stderr
    assert no_cycle.returncode == 1 and "has no cycle 'nope'" in no_cycle.stderr
