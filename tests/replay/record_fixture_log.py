"""Records a fixture event log from the real service; run by hand when an event's version changes, never by
the tests (they must keep replaying the logs recorded by older versions, unchanged).

    .venv/bin/python -m tests.replay.record_fixture_log tests/replay/fixtures/cycle_log_vN.jsonl [--keep DB]

The story (SQLite, the paper broker over HTTP, real actors): user `trader` with accounts GOOD and EXPIRED.
Cycle 1: EXPIRED's session has expired; GOOD's long entry has filled, its SL and TP go out but the broker
answers slowly, so the protective step's 1 s deadline passes and its reply arrives late; a rejected TCS
entry is archived; a tick arrives while the cycle runs. Cycle 2: the price reaches the take-profit, the
trade closes and OCO cancels the stop-loss. Each line is one `monitor_events` row as stored.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from actors.user_monitor.config import DEFAULT_STEP_TIMEOUTS_S, CycleConfig
from actors.user_monitor.window import TradingWindow
from messages.common import Step
from tests.cycle.conftest import CycleRig
from tests.replay.recorded import given_a_cycle_with_failures, run_recorded_cycle

PROTECT_DEADLINE_S = 1.0


def record(database: Path) -> list[dict[str, object]]:
    cycle = CycleConfig(interval_s=86_400, window=TradingWindow(enabled=False),
                        step_timeouts_s={**DEFAULT_STEP_TIMEOUTS_S, Step.PROTECT: PROTECT_DEADLINE_S})
    rig = CycleRig(f"sqlite:///{database}", cycle=cycle)
    try:
        given_a_cycle_with_failures(rig)
        rig.sim("faults", route="place", account="GOOD", kind="slow", delay_ms=1500, count=1)
        threading.Timer(0.5, lambda: rig.runtime.system.run_cycle_now(rig.user_id)).start()
        run_recorded_cycle(rig)
        time.sleep(2.0)  # the late protective reply lands after the cycle
        rig.price("110.5")
        run_recorded_cycle(rig)
        rig.io.call(rig.runtime.event_log.flush())
    finally:
        rig.close()
    with sqlite3.connect(database) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute("SELECT user_id, seq, cycle_id, at, type, version, payload "
                                  "FROM monitor_events ORDER BY user_id, seq").fetchall()
    return [{**dict(row), "at": _iso(row["at"])} for row in rows]


def _iso(stored: str) -> str:
    return datetime.strptime(stored, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--keep", type=Path, metavar="DB", help="record into this SQLite file and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        rows = record(args.keep or Path(scratch) / "monitor.db")
    args.out.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    print(f"{len(rows)} events written to {args.out}")


if __name__ == "__main__":
    main()
