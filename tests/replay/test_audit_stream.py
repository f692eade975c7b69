"""The audit of one user's whole log, streamed: given several cycles logged in a row, when their events
are fed in order, then each cycle is judged once, late replies after a finish are accepted, and gaps,
stray events and undecodable rows are findings."""

from __future__ import annotations

from datetime import timedelta

from adapters.store.port import LoggedEvent, UndecodableEvent
from replay.audit import UserAudit
from tests.harness import ScriptedMonitor
from tests.replay.stories import finish


def three_cycles_with_a_late_reply() -> tuple[ScriptedMonitor, list[LoggedEvent]]:
    scripted = ScriptedMonitor()
    scripted.run_cycle(accounts=(1,))
    scripted.clock.advance(60)
    scripted.tick()
    scripted.ok(accounts=(1,))
    fetch = scripted.pending
    scripted.advance(scripted.config.timeout_for(fetch.step))
    finish(scripted)
    scripted.clock.advance(60)
    scripted.tick()
    scripted.ok(accounts=(1,), command=fetch)  # cycle-2's fetch answers during cycle-3
    finish(scripted)
    return scripted, list(scripted.log.logged)


def audit(events, scripted, from_start=True):
    user = UserAudit(7, now=scripted.clock.now(), from_start=from_start)
    checks = [check for item in events for check in user.feed(item)]
    return user, checks + user.finish()


def test_every_cycle_is_judged_once_and_a_late_reply_after_its_finish_is_fine():
    scripted, events = three_cycles_with_a_late_reply()

    user, checks = audit(events, scripted)

    assert [(c.cycle_id, c.status, c.clean) for c in checks] == [
        ("cycle-1", "finished", True), ("cycle-2", "finished", True), ("cycle-3", "finished", True)]
    assert user.problems == []


def test_a_deleted_event_is_a_gap_and_its_cycle_diverges():
    scripted, events = three_cycles_with_a_late_reply()
    deleted = events.pop(5)

    user, checks = audit(events, scripted)

    assert [p.seq for p in user.problems if p.kind == "seq_gap"] == [deleted.seq]
    assert [c.cycle_id for c in checks if not c.clean] == ["cycle-1"]


def test_the_first_event_deleted_is_a_gap_when_auditing_from_the_start():
    scripted, events = three_cycles_with_a_late_reply()

    user, checks = audit(events[1:], scripted)

    assert [p.seq for p in user.problems] == [1]
    assert [p.kind for p in checks[0].problems] == ["no_start"]


def test_from_a_start_time_the_cycle_already_under_way_is_counted_not_judged():
    scripted, events = three_cycles_with_a_late_reply()
    second_start = next(i for i, e in enumerate(events) if e.event.cycle_id == "cycle-2")

    user, checks = audit(events[3:], scripted, from_start=False)
    assert user.begun_before_range == {"cycle-1"}
    assert [c.cycle_id for c in checks] == ["cycle-2", "cycle-3"] and all(c.clean for c in checks)

    user, checks = audit(events[second_start + 2:], scripted, from_start=False)
    assert user.begun_before_range == {"cycle-2"}, "its late reply during cycle-3 is not a finding"
    assert user.problems == [] and [c.cycle_id for c in checks] == ["cycle-3"]


def test_the_cycle_still_running_at_the_end_is_not_a_finding():
    scripted = ScriptedMonitor()
    scripted.run_cycle(accounts=(1,))
    scripted.tick()
    scripted.ok(accounts=(1,))

    _, checks = audit(list(scripted.log.logged), scripted)

    assert [(c.cycle_id, c.status, c.clean) for c in checks] == [("cycle-1", "finished", True),
                                                                ("cycle-2", "running", True)]
    stale = UserAudit(7, now=scripted.clock.now() + timedelta(hours=1), from_start=True)
    for item in scripted.log.logged:
        stale.feed(item)
    assert [(c.status, c.clean) for c in stale.finish()] == [("unfinished", False)]


def test_an_undecodable_row_is_a_finding_of_its_cycle():
    scripted, events = three_cycles_with_a_late_reply()
    broken = events[4]
    events[4] = UndecodableEvent(seq=broken.seq, cycle_id=broken.event.cycle_id, at=broken.event.at,
                                 type="snapshot_fetched", error="Expected `int`, got `str`")

    _, checks = audit(events, scripted)

    bad = [c for c in checks if not c.clean]
    assert [(c.cycle_id, [p.kind for p in c.problems]) for c in bad] == [("cycle-1", ["undecodable"])]
