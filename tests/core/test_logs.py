"""The service's log lines: JSON lines carry the structured fields given in `extra`; APScheduler's routine
INFO lines (each run of a tick job) are logged at DEBUG, shown only at DEBUG, while its warnings and every
other logger's INFO lines keep their level."""

from __future__ import annotations

import io
import json
import logging

import pytest

from service.logs import JsonLines, RoutineInfoAtDebug

RUN_LINE = 'Job "monitoring cycle of user 7 (trigger: interval[0:01:00], next run at: ...)" executed successfully'


def emitted(service_level: int, logger: str, level: int, message: str = "a line", **extra: object) -> list[dict]:
    """What a handler set up like the service's writes for one record, as decoded JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    handler.addFilter(RoutineInfoAtDebug(service_level))
    record = logging.LogRecord(logger, level, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    handler.handle(record)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_carries_the_structured_fields_given_in_extra():
    [line] = emitted(logging.INFO, "actors.user_monitor.failure_log", logging.WARNING, "step fetch failed",
                     user_id=7, cycle_id="c-1", step="fetch", account_id=3, error_kind="session_expired")
    assert line["level"] == "WARNING" and line["message"] == "step fetch failed"
    assert {k: line[k] for k in ("user_id", "cycle_id", "step", "account_id", "error_kind")} == {
        "user_id": 7, "cycle_id": "c-1", "step": "fetch", "account_id": 3, "error_kind": "session_expired"}


def test_a_json_line_without_extra_has_no_structured_fields():
    [line] = emitted(logging.INFO, "service.cli.serve", logging.INFO)
    assert set(line) == {"time", "level", "logger", "message"}


@pytest.mark.parametrize("logger", ["apscheduler.executors.default", "apscheduler.scheduler"])
def test_apschedulers_info_lines_are_not_shown_at_info(logger):
    assert emitted(logging.INFO, logger, logging.INFO, RUN_LINE) == []


def test_apschedulers_info_lines_are_shown_at_debug_as_debug_lines():
    [line] = emitted(logging.DEBUG, "apscheduler.executors.default", logging.INFO, RUN_LINE)
    assert (line["level"], line["message"]) == ("DEBUG", RUN_LINE)


@pytest.mark.parametrize("level", [logging.WARNING, logging.ERROR])
def test_apschedulers_warnings_and_errors_keep_their_level_at_info(level):
    message = 'Run time of job "monitoring cycle of user 7" was missed by 0:00:02'
    [line] = emitted(logging.INFO, "apscheduler.executors.default", level, message)
    assert (line["level"], line["message"]) == (logging.getLevelName(level), message)


def test_other_loggers_info_lines_are_shown_at_info():
    [line] = emitted(logging.INFO, "apschedulerish", logging.INFO)
    assert line["level"] == "INFO"
