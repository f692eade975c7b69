"""DESIGN.md's conditional execution matrix, row by row, driven through a real UserMonitor by script.

Given a user's accounts and which steps fail, when a tick arrives and every command is answered, then the
monitor issues exactly these commands, in this order, and logs these errors.
"""

from domain.errors import ErrorKind
from messages.common import Outcome
from messages.common import Step as S
from tests.harness import SILENT, ScriptedMonitor

STRATEGIES = {"regeneration_strategies": ("momentum",)}
FULL_CYCLE = [
    (S.CONTEXT, ()), (S.FETCH, (1,)), (S.PNL, (1,)), (S.SYNC, (1,)), (S.PROTECT, (1,)),
    (S.MODIFY_ENTRIES, (1,)), (S.MODIFY_STOP_LOSSES, (1,)), (S.ARCHIVE_REJECTED, (1,)),
    (S.REGENERATE, (1,)), (S.PLACE_REGENERATED, (1,)),
]
CLOSE = [(S.SUMMARY, (1,)), (S.FINISH, (1,))]
REPORT = [(S.REPORT, (1,))]


def steps_without(*skipped):
    return [row for row in FULL_CYCLE if row[0] not in skipped]


def run(failures=None, **context):
    monitor = ScriptedMonitor()
    monitor.run_cycle(accounts=(1,), failures=failures, **(context or STRATEGIES))
    return monitor


def test_all_steps_succeed_and_the_cycle_ends_with_a_summary_but_no_report():
    monitor = run()
    assert monitor.issued_steps() == FULL_CYCLE + CLOSE
    assert monitor.event_types()[0] == "CycleStarted" and monitor.event_types()[-1] == "CycleFinished"
    assert monitor.state.errors == ()


def test_step1_failure_stops_the_account_and_reports():
    monitor = run({S.FETCH: {1: ErrorKind.UNAVAILABLE}})
    assert monitor.issued_steps() == FULL_CYCLE[:2] + REPORT + CLOSE
    assert [(e.step, e.kind) for e in monitor.state.errors] == [(S.FETCH, ErrorKind.UNAVAILABLE)]


def test_step1_session_expiry_is_reported_as_session_expired():
    monitor = run({S.FETCH: {1: ErrorKind.SESSION_EXPIRED}})
    assert monitor.issued_steps() == FULL_CYCLE[:2] + REPORT + CLOSE
    report = monitor.issued()[-3]
    assert [e.kind for e in report.errors] == [ErrorKind.SESSION_EXPIRED]


def test_step2_failure_stops_the_account_after_pnl():
    monitor = run({S.PNL: {1: ErrorKind.DB}})
    assert monitor.issued_steps() == FULL_CYCLE[:3] + REPORT + CLOSE


def test_step3_failure_skips_only_step4():
    monitor = run({S.SYNC: {1: ErrorKind.DB}})
    assert monitor.issued_steps() == steps_without(S.PROTECT) + REPORT + CLOSE


def test_steps_4_to_7_failures_are_recorded_and_the_cycle_goes_on():
    failing = (S.PROTECT, S.MODIFY_ENTRIES, S.MODIFY_STOP_LOSSES, S.ARCHIVE_REJECTED)
    monitor = run({step: {1: ErrorKind.REJECTED} for step in failing})
    assert monitor.issued_steps() == FULL_CYCLE + REPORT + CLOSE
    assert [e.step for e in monitor.state.errors] == list(failing)


def test_step8_failure_skips_step9():
    monitor = run({S.REGENERATE: {1: ErrorKind.DB}})
    assert monitor.issued_steps() == steps_without(S.PLACE_REGENERATED) + REPORT + CLOSE


def test_step9_failure_is_recorded():
    monitor = run({S.PLACE_REGENERATED: {1: ErrorKind.REJECTED}})
    assert monitor.issued_steps() == FULL_CYCLE + REPORT + CLOSE


def test_regeneration_not_enabled_is_a_notice_not_an_error():
    monitor = run(regeneration_strategies=())
    assert monitor.issued_steps() == steps_without(S.REGENERATE, S.PLACE_REGENERATED) + CLOSE
    summary = monitor.issued()[-2].summary
    assert "entry regeneration not enabled" in summary.notices and summary.error_count == 0


def test_report_failure_is_logged_and_the_summary_still_goes():
    monitor = run({S.FETCH: {1: ErrorKind.UNAVAILABLE}, S.REPORT: {None: ErrorKind.UNAVAILABLE}})
    assert monitor.issued_steps() == FULL_CYCLE[:2] + REPORT + CLOSE
    assert monitor.event_types()[-1] == "CycleFinished"


def test_summary_failure_still_finishes_the_cycle():
    monitor = run({S.SUMMARY: {None: ErrorKind.UNAVAILABLE}})
    assert monitor.issued_steps() == FULL_CYCLE + CLOSE
    assert not monitor.state.running


def test_context_failure_reports_and_touches_no_broker():
    monitor = run({S.CONTEXT: {None: ErrorKind.DB}})
    assert monitor.issued_steps() == [(S.CONTEXT, ()), (S.REPORT, ()), (S.SUMMARY, ()), (S.FINISH, ())]


def test_a_user_with_no_active_accounts_gets_only_a_summary_saying_so():
    monitor = ScriptedMonitor()
    monitor.run_cycle(accounts=(), awaiting_session=(4,))
    assert monitor.issued_steps() == [(S.CONTEXT, ()), (S.SUMMARY, ()), (S.FINISH, ())]
    notices = monitor.issued()[1].summary.notices
    assert "no active accounts: nothing to monitor" in notices
    assert "account 4 is waiting for a new broker session" in notices


def test_three_accounts_one_fails_fetch_another_fails_pnl_the_third_runs_everything():
    monitor = ScriptedMonitor()
    monitor.run_cycle(accounts=(1, 2, 3), failures={S.FETCH: {1: ErrorKind.SESSION_EXPIRED}, S.PNL: {2: ErrorKind.DB}},
                      **STRATEGIES)
    assert monitor.issued_steps() == [
        (S.CONTEXT, ()), (S.FETCH, (1, 2, 3)), (S.PNL, (2, 3)), (S.SYNC, (3,)), (S.PROTECT, (3,)),
        (S.MODIFY_ENTRIES, (3,)), (S.MODIFY_STOP_LOSSES, (3,)), (S.ARCHIVE_REJECTED, (3,)), (S.REGENERATE, (3,)),
        (S.PLACE_REGENERATED, (3,)), (S.REPORT, (1, 2, 3)), (S.SUMMARY, (1, 2, 3)), (S.FINISH, (1, 2, 3)),
    ]
    assert [(e.step, e.account_id, e.kind) for e in monitor.state.errors] == [
        (S.FETCH, 1, ErrorKind.SESSION_EXPIRED), (S.PNL, 2, ErrorKind.DB)]


def test_strict_mode_stops_every_account_when_one_fails_fetch():
    from actors.user_monitor.config import CycleConfig
    from actors.user_monitor.window import TradingWindow

    monitor = ScriptedMonitor(config=CycleConfig(isolate_account_failures=False, window=TradingWindow(enabled=False)))
    monitor.run_cycle(accounts=(1, 2, 3), failures={S.FETCH: {2: ErrorKind.UNAVAILABLE}}, **STRATEGIES)
    assert monitor.issued_steps() == [
        (S.CONTEXT, ()), (S.FETCH, (1, 2, 3)), (S.REPORT, (1, 2, 3)), (S.SUMMARY, (1, 2, 3)), (S.FINISH, (1, 2, 3))]


def test_strict_mode_skips_step4_for_all_when_one_account_fails_sync():
    from actors.user_monitor.config import CycleConfig
    from actors.user_monitor.window import TradingWindow

    monitor = ScriptedMonitor(config=CycleConfig(isolate_account_failures=False, window=TradingWindow(enabled=False)))
    monitor.run_cycle(accounts=(1, 2), failures={S.SYNC: {1: ErrorKind.DB}})
    steps = [step for step, _ in monitor.issued_steps()]
    assert S.PROTECT not in steps and S.MODIFY_ENTRIES in steps


def test_paused_user_syncs_protects_and_cancels_open_entries_but_modifies_no_entry_and_regenerates_nothing():
    monitor = run(paused=True, pause_reason="daily loss limit reached", regeneration_strategies=("momentum",))
    assert monitor.issued_steps() == [
        (S.CONTEXT, ()), (S.FETCH, (1,)), (S.PNL, (1,)), (S.SYNC, (1,)), (S.PROTECT, (1,)),
        (S.MODIFY_STOP_LOSSES, (1,)), (S.ARCHIVE_REJECTED, (1,)), *CLOSE]
    protect = monitor.issued()[4]
    assert (protect.oco_cancels_only, protect.cancel_open_entries) == (False, True)
    summary = monitor.issued()[-2].summary
    assert summary.paused and any("daily loss limit reached" in n for n in summary.notices)


def test_paused_user_with_entry_cancelling_off_leaves_open_entries_and_still_protects():
    from actors.user_monitor.config import CycleConfig
    from actors.user_monitor.window import TradingWindow

    monitor = ScriptedMonitor(config=CycleConfig(cancel_entries_when_paused=False,
                                                 window=TradingWindow(enabled=False)))
    monitor.run_cycle(accounts=(1,), paused=True)
    protect = monitor.issued()[4]
    assert (protect.step, protect.oco_cancels_only, protect.cancel_open_entries) == (S.PROTECT, False, False)


def test_paused_user_with_protection_off_sends_only_oco_cancels():
    from actors.user_monitor.config import CycleConfig
    from actors.user_monitor.window import TradingWindow

    monitor = ScriptedMonitor(config=CycleConfig(protect_while_paused=False, cancel_entries_when_paused=False,
                                                 window=TradingWindow(enabled=False)))
    monitor.run_cycle(accounts=(1,), paused=True)
    assert monitor.issued_steps() == [
        (S.CONTEXT, ()), (S.FETCH, (1,)), (S.PNL, (1,)), (S.SYNC, (1,)), (S.PROTECT, (1,)),
        (S.ARCHIVE_REJECTED, (1,)), *CLOSE]
    assert monitor.issued()[4].oco_cancels_only is True


def test_summary_reports_each_step_per_account_with_outcome_and_duration():
    monitor = ScriptedMonitor()
    monitor.run_cycle(accounts=(1, 2), failures={S.FETCH: {2: ErrorKind.UNAVAILABLE}}, step_seconds=0.25)
    summary = monitor.issued()[-2].summary
    by_key = {(r.step, r.account_id): r for r in summary.steps}
    assert by_key[(S.FETCH, 1)].outcome is Outcome.OK and by_key[(S.FETCH, 1)].duration_ms == 250
    assert by_key[(S.FETCH, 2)].outcome is Outcome.FAILED
    assert by_key[(S.PNL, 2)].outcome is Outcome.SKIPPED and by_key[(S.PNL, 2)].duration_ms is None
    assert summary.error_count == 1


def test_a_silent_worker_times_out_and_counts_as_the_steps_failure():
    monitor = run({S.PNL: {1: SILENT}})
    assert monitor.issued_steps() == FULL_CYCLE[:3] + REPORT + CLOSE
    assert [(e.step, e.kind) for e in monitor.state.errors] == [(S.PNL, ErrorKind.TIMEOUT)]
    assert "StepTimedOut" in monitor.event_types()
