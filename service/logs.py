"""Logging set-up: human text, or JSON lines carrying the structured fields callers pass in `extra`.

APScheduler's routine INFO lines are logged at DEBUG (its warnings and errors keep their level), so a service at
INFO is not drowned in two lines per user per interval. Every record of any logger passes `RedactSecrets`, which
masks `token=` values and `Bearer` credentials in the message and the exception text.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

STRUCTURED_FIELDS = ("user_id", "cycle_id", "step", "account_id", "connection_id", "error_kind", "request_id")
ROUTINE_INFO_LOGGERS = ("apscheduler.",)
AIOHTTP_LOGGERS = ("aiohttp.access", "aiohttp.client", "aiohttp.internal", "aiohttp.server", "aiohttp.web",
                   "aiohttp.websocket")
"""aiohttp's loggers, which get `RedactSecrets` themselves too: a record is masked before any handler, the
service's or another one added later, sees it."""
SECRET_VALUES = re.compile(r"(token=|Bearer\s+)[^\s&\"'\\,;]+", re.IGNORECASE)
"""A `token=` parameter's value and a `Bearer` credential, as they appear in a URL, a header or a repr."""
MASK = "***"


def redacted(text: str) -> str:
    return SECRET_VALUES.sub(lambda match: match.group(1) + MASK, text)
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
            line["exception"] = record.exc_text or self.formatException(record.exc_info)
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


class RedactSecrets(logging.Filter):
    """Masks secret values (see SECRET_VALUES) in a record's message and exception text, before any formatter
    sees them. The message is formatted here once, so a secret in an argument is masked too."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redacted(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redacted(record.exc_text)
        return True


REDACT_SECRETS = RedactSecrets()


def configure_logging(level: str, json_lines: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(level.upper())
    handler.addFilter(RoutineInfoAtDebug(root.level))
    handler.addFilter(REDACT_SECRETS)
    root.handlers[:] = [handler]
    for name in ("", *AIOHTTP_LOGGERS):
        if REDACT_SECRETS not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(REDACT_SECRETS)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
