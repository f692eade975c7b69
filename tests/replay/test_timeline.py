"""The timeline a person reads: given a cycle's log, then each event shows its step, accounts, outcome,
duration from its command, error and order changes, in Asia/Kolkata time; JSON keeps UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec

from messages.commands import ComputePnl, SendSummary, SyncOrders
from messages.events import OrderAction, OrderChange
from replay.fold import check_cycle
from replay.render import command_differences, json_line, timeline_text
from replay.timeline import Timeline, build_timeline
from tests.harness import ScriptedMonitor
from tests.replay.stories import cycle_with_failures, cycle_with_late_replies, finish, logged

T0 = datetime(2026, 11, 25, 6, 12, tzinfo=UTC)  # 11:42 IST


def timeline_of(scripted: ScriptedMonitor) -> Timeline:
    events = logged(scripted)
    return build_timeline(events, check_cycle(scripted.user_id, events[0].event.cycle_id, events, scripted.clock.now()))


def a_cycle_that_moved_a_stop_loss() -> ScriptedMonitor:
    scripted = ScriptedMonitor(start=T0)
    scripted.tick()
    scripted.clock.advance(0.02)
    scripted.ok(accounts=(3,))
    scripted.clock.advance(0.3)
    scripted.ok()  # fetch
    scripted.clock.advance(0.01)
    scripted.ok()  # pnl
    assert isinstance(scripted.pending, SyncOrders)
    scripted.clock.advance(0.04)
    scripted.ok(changes=(OrderChange(order_id=12, account_id=3, field="status", before="ENTRY_OPEN", after="RUNNING"),
                         OrderChange(order_id=12, account_id=3, field="filled_qty", before=0, after=10)))
    scripted.clock.advance(0.2)
    scripted.ok(actions=(OrderAction(order_id=12, account_id=3, leg="sl", action="place", tag="T12S0",
                                     broker_order_id=9001, quantity=10, price=None),))
    scripted.clock.advance(0.1)
    scripted.ok()  # entries
    scripted.clock.advance(0.1)
    scripted.ok(actions=(OrderAction(order_id=12, account_id=3, leg="sl", action="modify", tag="T12S0",
                                     broker_order_id=9001, quantity=10, price=Decimal("90.00"),
                                     detail="sell fair price 90.02 <= stop 95"),))
    finish(scripted)
    return scripted


def test_each_outcome_has_its_duration_from_the_command_and_its_changes():
    timeline = timeline_of(a_cycle_that_moved_a_stop_loss())

    synced = next(e for e in timeline.entries if e.event == "orders_synced")
    modified = next(e for e in timeline.entries if e.event == "stop_losses_modified")
    assert (synced.step, synced.account_ids, synced.outcome, synced.duration_ms) == ("sync", (3,), "ok", 40)
    assert [(c.field, c.before, c.after) for c in synced.changes] == [("status", "ENTRY_OPEN", "RUNNING"),
                                                                      ("filled_qty", 0, 10)]
    assert modified.duration_ms == 100 and modified.actions[0].action == "modify"
    assert timeline.started_at == T0 and timeline.account_ids == (3,)
    assert timeline.duration_ms == int((timeline.finished_at - T0) / timedelta(milliseconds=1))


def test_failures_and_timeouts_carry_their_errors():
    timeline = timeline_of(cycle_with_failures())

    failed = [(e.event, e.account_ids, e.outcome, e.error.kind) for e in timeline.entries if e.error]
    assert failed == [("fetch_failed", (2,), "failed", "session_expired"),
                      ("protective_orders_failed", (1,), "failed", "rejected")]


def test_late_replies_show_as_ignored():
    timeline = timeline_of(cycle_with_late_replies())

    late = [(e.event, e.outcome) for e in timeline.entries if e.outcome == "ignored"]
    assert late == [("snapshot_fetched", "ignored"), ("protective_orders_placed", "ignored")]
    assert [e.event for e in timeline.entries if e.outcome == "timed_out"] == ["step_timed_out"] * 2


def test_the_text_shows_india_time_with_its_offset_and_field_changes_before_and_after():
    text = timeline_text(timeline_of(a_cycle_that_moved_a_stop_loss()))

    assert "started 2026-11-25 11:42:00.000 +05:30" in text
    assert "replay: clean" in text
    assert "order 12 (account 3) status: ENTRY_OPEN → RUNNING" in text
    assert "modify sl of order 12 (account 3) qty 10 @ 90.00 tag T12S0 → broker order 9001" in text
    assert "11:42:00.330 sync" in text and "-> sync_orders" in text


def test_a_json_line_decodes_back_to_the_same_timeline_in_utc():
    timeline = timeline_of(a_cycle_that_moved_a_stop_loss())
    line = json_line(timeline)

    assert "\n" not in line and '"started_at":"2026-11-25T06:12:00Z"' in line
    assert '"price":"90.00"' in line, "money stays a decimal string"
    assert msgspec.json.decode(line, type=Timeline) == timeline


def test_two_commands_of_one_type_are_compared_field_by_field():
    summary = next(c for c in cycle_with_failures().issued() if isinstance(c, SendSummary))
    steps = list(summary.summary.steps)
    steps[2] = msgspec.structs.replace(steps[2], outcome="skipped", duration_ms=None)
    altered = msgspec.structs.replace(summary, summary=msgspec.structs.replace(summary.summary, steps=tuple(steps)))

    assert command_differences(altered, summary) == [
        'differs at summary.steps[2].outcome: decide "skipped", log "ok"',
        "differs at summary.steps[2].duration_ms: decide null, log 50",
    ]
    assert command_differences(ComputePnl(user_id=7, cycle_id="c", account_ids=(1,)), summary) == []
