"""Recorded cycles for the replay tests: a story the real service runs, and ways to reach its database and CLI."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pymysql

from adapters.store.port import LoggedEvent
from adapters.store.url import parse_database_url
from messages.events import CycleFinished
from tests.cycle.conftest import CycleRig, wait_for

ROOT = Path(__file__).resolve().parents[2]


def given_a_cycle_with_failures(rig: CycleRig) -> None:
    """GOOD: a filled long (SL and TP placed) and a rejected TCS entry (archived); EXPIRED: session expired."""
    rig.given_user("GOOD", "EXPIRED")
    rig.price("100")
    rig.place_entry("GOOD", side="BUY", quantity=10, entry_type="LIMIT", entry_limit_price="99",
                    sl_stop_price="95", tp_price="110")
    rig.sim("reject", rule={"rule": "symbol", "symbol": "TCS", "reason": "RMS:Blocked"})
    rig.place_entry("GOOD", symbol="TCS", instrument_id=11536, side="BUY", quantity=1, entry_type="LIMIT",
                    entry_limit_price="11500")
    rig.place_entry("EXPIRED", side="BUY", quantity=5, entry_type="LIMIT", entry_limit_price="90")
    rig.sim("expire", account="EXPIRED")
    rig.price("99")


def run_recorded_cycle(rig: CycleRig) -> list[LoggedEvent]:
    """Run one cycle and return its events once its CycleFinished is durable."""
    rig.run_cycle()
    [latest] = rig.io.call(rig.runtime.event_log.cycles(rig.user_id, limit=1))

    def finished() -> bool:
        rig.io.call(rig.runtime.event_log.flush())
        events = rig.io.call(rig.runtime.event_log.read_cycle(rig.user_id, latest.cycle_id))
        return any(isinstance(e.event, CycleFinished) for e in events)

    wait_for(finished)
    return rig.io.call(rig.runtime.event_log.read_cycle(rig.user_id, latest.cycle_id))


def run_py(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**os.environ, "MONITOR_NO_BOOTSTRAP": "1"})


def raw_sql(database_url: str, statement: str, params: tuple[Any, ...] = ()) -> int:
    """Run one statement behind the service's back (as someone tampering with the log would); rows hit."""
    url = parse_database_url(database_url)
    if url.dialect == "sqlite":
        with sqlite3.connect(url.database) as connection:
            return connection.execute(statement, params).rowcount
    connection = pymysql.connect(host=url.host, port=url.port, user=url.user, password=url.password,
                                 database=url.database, autocommit=True)
    try:
        with connection.cursor() as cursor:
            return cursor.execute(statement.replace("?", "%s"), params)
    finally:
        connection.close()
