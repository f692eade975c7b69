"""Every step failure is logged once, at WARNING, one line per account with the user, cycle, step and
account: a failure event and a deadline that passed alike; steps that succeed log nothing. Given a cycle run
in the scripted harness, then the log records."""

import logging

from domain.errors import ErrorKind
from messages.common import Step as S
from tests.harness import SILENT, ScriptedMonitor

MONITOR_LOGGER = "actors.user_monitor.failure_log"


def warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == MONITOR_LOGGER and r.levelno == logging.WARNING]


def fields(record: logging.LogRecord) -> tuple:
    return record.user_id, record.cycle_id, record.step, record.account_id, record.getMessage()


def test_a_failed_step_is_logged_once_per_account_with_user_cycle_step_and_account(caplog):
    monitor = ScriptedMonitor()
    with caplog.at_level(logging.WARNING, logger=MONITOR_LOGGER):
        monitor.run_cycle(accounts=(1, 2), failures={S.FETCH: {2: ErrorKind.UNAVAILABLE}})
    cycle_id = monitor.state.cycle_id

    assert [fields(r) for r in warnings(caplog)] == [
        (7, cycle_id, "fetch", 2, "step fetch failed for user 7, account 2 (unavailable): broker unavailable")]


def test_a_step_whose_deadline_passed_is_logged_once_per_silent_account(caplog):
    monitor = ScriptedMonitor()
    with caplog.at_level(logging.WARNING, logger=MONITOR_LOGGER):
        monitor.run_cycle(accounts=(1, 2), failures={S.PROTECT: {1: SILENT, 2: SILENT}})
    cycle_id = monitor.state.cycle_id

    assert [fields(r) for r in warnings(caplog)] == [
        (7, cycle_id, "protect", account, f"step protect failed for user 7, account {account} (timeout): "
                                          "no reply within 20 s")
        for account in (1, 2)]


def test_a_user_level_step_that_fails_is_logged_without_an_account(caplog):
    monitor = ScriptedMonitor()
    with caplog.at_level(logging.WARNING, logger=MONITOR_LOGGER):
        monitor.run_cycle(accounts=(1,), failures={S.CONTEXT: {None: ErrorKind.DB}})

    [record] = warnings(caplog)
    assert (record.step, record.account_id) == ("context", None)


def test_a_cycle_whose_steps_all_succeed_logs_no_warning(caplog):
    with caplog.at_level(logging.WARNING, logger=MONITOR_LOGGER):
        ScriptedMonitor().run_cycle(accounts=(1, 2))

    assert warnings(caplog) == []


def test_a_failure_reply_after_the_deadline_is_not_logged_again_while_the_cycle_runs(caplog):
    monitor = ScriptedMonitor()
    with caplog.at_level(logging.WARNING, logger=MONITOR_LOGGER):
        monitor.tick()
        monitor.ok(accounts=(1, 2))
        fetch = monitor.pending
        monitor.ok(accounts=(1,))
        monitor.advance(monitor.config.timeout_for(S.FETCH))
        assert monitor.state.running and monitor.pending.step is S.PNL
        monitor.fail(accounts=(2,), kind=ErrorKind.TIMEOUT, message="timed out", command=fetch)

    assert [(r.step, r.account_id, r.getMessage()) for r in warnings(caplog)] == [
        ("fetch", 2, "step fetch failed for user 7, account 2 (timeout): no reply within 20 s")]


def test_a_failure_reply_after_the_deadline_is_not_logged_again_once_the_cycle_finished(caplog):
    monitor = ScriptedMonitor()
    with caplog.at_level(logging.WARNING, logger=MONITOR_LOGGER):
        monitor.run_cycle(accounts=(1,), failures={S.PROTECT: {1: SILENT}})
        [protect] = [c for c in monitor.issued() if c.step is S.PROTECT]
        monitor.fail(kind=ErrorKind.TIMEOUT, message="timed out", command=protect)

    assert not monitor.state.running
    assert [(r.step, r.account_id) for r in warnings(caplog)] == [("protect", 1)]


def test_a_failure_of_a_cycle_that_is_not_the_current_one_is_not_logged(caplog):
    monitor = ScriptedMonitor()
    monitor.run_cycle(accounts=(1,))
    [old_fetch] = [c for c in monitor.issued() if c.step is S.FETCH]
    monitor.tick()
    with caplog.at_level(logging.WARNING, logger=MONITOR_LOGGER):
        monitor.fail(kind=ErrorKind.UNAVAILABLE, command=old_fetch)

    assert monitor.state.cycle_id != old_fetch.cycle_id
    assert warnings(caplog) == []
