"""Logging set-up: human text, or JSON lines carrying the structured fields (user_id, cycle_id, step,
account_id, connection_id, error_kind) that callers pass in `extra`. Nothing here ever formats a secret.

APScheduler's routine INFO lines (each tick job's "Running job" and "executed successfully", each job added
or removed, the scheduler started or shut down) are logged at DEBUG, so a service at INFO is not drowned in
two lines per user per interval; its warnings (a run missed, a run skipped at max_instances) and errors keep
their level.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

STRUCTURED_FIELDS = ("user_id", "cycle_id", "step", "account_id", "connection_id", "error_kind")
ROUTINE_INFO_LOGGERS = ("apscheduler.",)
"""Loggers (name prefixes) whose INFO lines are routine and logged at DEBUG."""


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: getattr(record, k) for k in STRUCTURED_FIELDS if hasattr(record, k)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class RoutineInfoAtDebug(logging.Filter):
    """Turns the INFO records of ROUTINE_INFO_LOGGERS into DEBUG records, kept only when the service logs at
    `level` DEBUG (or lower). Records of other loggers and of other levels pass unchanged."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self._keep_debug = level <= logging.DEBUG

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not record.name.startswith(ROUTINE_INFO_LOGGERS):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return self._keep_debug


def configure_logging(level: str, json_lines: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(level.upper())
    handler.addFilter(RoutineInfoAtDebug(root.level))
    root.handlers[:] = [handler]
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
