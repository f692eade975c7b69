"""`run.py audit` as an operator runs it, on a log the real service wrote (SQLite and MariaDB): exit 0 when
every cycle replays clean and every user's hash chain holds, 1 once someone changes an event's outcome, edits
a figure the replay cannot see, or deletes an event behind its back."""

from __future__ import annotations

import io

from messages.events import CycleStarted, PnlComputed, SnapshotFetched
from service.cli.audit import Progress
from tests.cycle.conftest import CycleRig
from tests.replay.recorded import given_a_cycle_with_failures, raw_sql, run_py, run_recorded_cycle

TAMPER_OUTCOME = ("UPDATE monitor_events SET payload = REPLACE(payload, '\"type\":\"snapshot_fetched\"', "
                  "'\"type\":\"fetch_failed\",\"kind\":\"unavailable\",\"message\":\"tampered\"') "
                  "WHERE user_id = ? AND seq = ?")


def two_recorded_cycles(rig: CycleRig):
    given_a_cycle_with_failures(rig)
    run_recorded_cycle(rig)
    rig.price("110.5")
    return run_recorded_cycle(rig)


def test_audit_passes_a_clean_log_and_fails_once_an_outcome_is_tampered_with(rig: CycleRig):
    second = two_recorded_cycles(rig)
    clean = run_py("audit", "--database", rig.database_url)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "audit OK: 1 user," in clean.stdout and "2 cycles (2 clean, 0 running)" in clean.stdout
    assert "\r" not in clean.stdout, "no progress bar when stdout is not a terminal"

    fetched = next(e.seq for e in second if isinstance(e.event, SnapshotFetched))
    assert raw_sql(rig.database_url, TAMPER_OUTCOME, (rig.user_id, fetched)) == 1
    tampered = run_py("audit", "--database", rig.database_url)

    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert f"cycle {second[0].event.cycle_id}: FAILED" in tampered.stdout
    good = rig.accounts["GOOD"]
    assert (f"DIVERGES at event {fetched - second[0].seq + 1} (seq {fetched + 1}): decide gives report_errors for "
            f"accounts [{good}], log issued compute_pnl for accounts [{good}]") in tampered.stdout
    assert "audit FAILED" in tampered.stdout


def test_audit_fails_once_an_event_is_deleted(rig: CycleRig):
    second = two_recorded_cycles(rig)
    computed = next(e.seq for e in second if isinstance(e.event, PnlComputed))

    assert raw_sql(rig.database_url, "DELETE FROM monitor_events WHERE user_id = ? AND seq = ?",
                   (rig.user_id, computed)) == 1
    result = run_py("audit", "--database", rig.database_url)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"user {rig.user_id}: seq {computed} missing (1 event deleted)" in result.stdout
    assert f"cycle {second[0].event.cycle_id}: FAILED" in result.stdout


def test_audit_fails_on_an_edited_count_that_leaves_every_decision_the_same(rig: CycleRig):
    second = two_recorded_cycles(rig)
    snapshot = next(e for e in second if isinstance(e.event, SnapshotFetched))
    rows = snapshot.event.order_rows

    assert raw_sql(rig.database_url, "UPDATE monitor_events SET payload = REPLACE(payload, ?, ?) "
                   "WHERE user_id = ? AND seq = ?",
                   (f'"order_rows":{rows}', f'"order_rows":{rows + 1}', rig.user_id, snapshot.seq)) == 1
    result = run_py("audit", "--database", rig.database_url)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 cycles (2 clean, 0 running); 0 cycles with findings, 1 other finding" in result.stdout, \
        "the replay alone passes it"
    assert f"user {rig.user_id}: seq {snapshot.seq} hash does not match" in result.stdout


def test_audit_since_a_time_checks_the_cycles_from_then_on(rig: CycleRig):
    second = two_recorded_cycles(rig)
    assert isinstance(second[0].event, CycleStarted)

    result = run_py("audit", "--database", rig.database_url, "--since", second[0].event.at.isoformat())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 cycle (1 clean, 0 running)" in result.stdout


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_is_drawn_on_a_terminal_only_and_cleared_before_findings():
    terminal, pipe = Terminal(), io.StringIO()
    for out in (terminal, pipe):
        progress = Progress(out, total=200)
        progress.update(50)
        progress.update(51)
        progress.clear()

    assert terminal.getvalue() == "\r[#######.......................]  25% 50/200 events\r\x1b[K"
    assert pipe.getvalue() == ""
