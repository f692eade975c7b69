"""Times given on the command line (`--since`, `--until`): ISO 8601, read as people write them.

A time with an offset (`2026-11-25T11:42:00+05:30`, `...Z`) means what it says; one without is
Asia/Kolkata wall time, the market's (`2026-11-25 11:42`); a date alone is its midnight there.
The result is always an aware UTC datetime.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

MARKET_TZ = ZoneInfo("Asia/Kolkata")


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-11-25T11:42+05:30, or 2026-11-25 11:42 in IST)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=MARKET_TZ)
    return moment.astimezone(UTC)
