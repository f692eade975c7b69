"""The log recorded by version 1 of the events (tests/replay/fixtures/cycle_log_v1.jsonl, made by
record_fixture_log.py from the real service and never regenerated) must decode and replay clean forever:
an incompatible change to an event must add a new tag and keep the old class, or this test fails."""

from __future__ import annotations

import json
from datetime import datetime
from itertools import groupby
from pathlib import Path

from adapters.store.event_log import decode_stored_event
from adapters.store.port import LoggedEvent
from replay.audit import UserAudit
from replay.fold import check_cycle
from replay.render import timeline_text
from replay.timeline import build_timeline
from tests.rerun import rerun_cycle

FIXTURE = Path(__file__).parent / "fixtures" / "cycle_log_v1.jsonl"


def stored_rows() -> list[dict[str, object]]:
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    return [{**row, "at": datetime.fromisoformat(row["at"])} for row in rows]


def v1_log() -> list[LoggedEvent]:
    decoded = [decode_stored_event(row) for row in stored_rows()]
    undecodable = [item for item in decoded if not isinstance(item, LoggedEvent)]
    assert undecodable == [], "events written by version 1 must still decode"
    return decoded  # type: ignore[return-value]


def cycles(log: list[LoggedEvent]) -> dict[str, list[LoggedEvent]]:
    in_cycles = sorted((e for e in log if e.event.cycle_id), key=lambda e: (e.event.cycle_id, e.seq))
    return {cycle_id: list(events) for cycle_id, events in groupby(in_cycles, key=lambda e: e.event.cycle_id)}


def test_the_v1_log_decodes_and_every_cycle_replays_clean():
    log = v1_log()
    now = log[-1].event.at

    checks = [check_cycle(1, cycle_id, events, now) for cycle_id, events in cycles(log).items()]

    assert len(checks) == 2
    assert all(check.clean and check.status == "finished" for check in checks), checks
    assert [check.error_count for check in checks] == [2, 0]


def test_the_v1_log_keeps_its_story_a_timeout_a_late_reply_a_skipped_tick_and_an_expired_session():
    first, _ = cycles(v1_log()).values()
    check = check_cycle(1, first[0].event.cycle_id, first, first[-1].event.at)

    text = timeline_text(build_timeline(first, check))

    assert [type(first[i].event).__name__ for i in check.ignored] == ["ProtectiveOrdersPlaced"]
    for shown in ("step_timed_out", "late reply, ignored", "tick skipped: cycle_running", "session_expired",
                  "status: ENTRY_OPEN → RUNNING", "archived order 2 (account 1): RMS:Blocked"):
        assert shown in text


def test_the_v1_log_audits_clean_as_a_whole():
    log = v1_log()
    audit = UserAudit(1, now=log[-1].event.at, from_start=True)

    checks = [check for item in log for check in audit.feed(item)] + audit.finish()

    assert audit.problems == [] and len(checks) == 2 and all(c.clean for c in checks)


def test_each_v1_cycle_reruns_in_the_harness_with_the_same_events():
    for events in cycles(v1_log()).values():
        stored = [e.event for e in events]
        assert rerun_cycle(stored).events == stored
