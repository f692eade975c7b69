"""Replay's check of one cycle: given a cycle's log (from the scripted harness), when it is re-folded
through the decider, then it is clean — or the first disagreement is named with both commands."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from adapters.store.port import LoggedEvent
from domain.errors import ErrorKind
from messages.commands import ComputePnl, ReportErrors, SyncOrders
from messages.events import (
    CommandIssued,
    CycleFinished,
    FetchFailed,
    MonitorRestarted,
    OrdersSynced,
    PnlComputed,
    SnapshotFetched,
)
from replay.fold import RUNNING_SLACK, check_cycle, sequence_gaps
from tests.replay.stories import (
    cycle_with_failures,
    cycle_with_late_replies,
    cycle_with_timeout,
    logged,
    normal_cycle,
)


def index_of(events: list[LoggedEvent], event_type: type, start: int = 0) -> int:
    return next(i for i, e in enumerate(events) if i >= start and isinstance(e.event, event_type))


@pytest.mark.parametrize("story", [normal_cycle, cycle_with_failures, cycle_with_timeout, cycle_with_late_replies])
def test_a_cycle_the_monitor_ran_replays_clean(story):
    scripted = story()
    events = logged(scripted)

    check = check_cycle(7, "cycle-1", events, now=scripted.clock.now())

    assert check.clean, check
    assert check.status == "finished"
    assert check.error_count == len(scripted.state.errors)
    assert check.events == len(events)


def test_late_replies_are_ignored_like_evolve_ignores_them():
    scripted = cycle_with_late_replies()
    events = logged(scripted)

    check = check_cycle(7, "cycle-1", events, now=scripted.clock.now())

    late = [events[i].event for i in check.ignored]
    assert [type(e).__name__ for e in late] == ["SnapshotFetched", "ProtectiveOrdersPlaced"]
    assert late[1].at > next(e.event.at for e in events if isinstance(e.event, CycleFinished))


def test_a_tampered_outcome_diverges_at_the_next_command_with_both_commands():
    scripted = normal_cycle()
    events = logged(scripted)
    fetched = index_of(events, SnapshotFetched)
    original = events[fetched].event
    tampered = FetchFailed(user_id=original.user_id, cycle_id=original.cycle_id, at=original.at,
                           account_ids=original.account_ids, kind=ErrorKind.UNAVAILABLE, message="tampered")
    events[fetched] = msgspec.structs.replace(events[fetched], event=tampered)

    check = check_cycle(7, "cycle-1", events, now=scripted.clock.now())

    first = check.divergences[0]
    assert first.index == fetched + 1 and first.seq == events[fetched + 1].seq
    assert isinstance(first.issued, ComputePnl) and first.issued.account_ids == (1, 2)
    assert isinstance(first.expected, ReportErrors)
    assert [e.message for e in first.expected.errors] == ["tampered", "tampered"]
    assert not check.clean


def test_a_deleted_command_is_a_command_decide_gave_that_was_never_issued():
    scripted = normal_cycle()
    events = logged(scripted)
    computed = index_of(events, PnlComputed)
    del events[computed - 1]  # the CommandIssued(ComputePnl)

    check = check_cycle(7, "cycle-1", events, now=scripted.clock.now())

    first = check.divergences[0]
    assert first.index == computed - 1
    assert isinstance(first.expected, ComputePnl) and first.issued is None


def test_a_command_issued_while_another_is_in_flight_diverges_with_nothing_expected():
    scripted = normal_cycle()
    events = logged(scripted)
    sync = index_of(events, CommandIssued, start=index_of(events, PnlComputed))
    computed = index_of(events, PnlComputed)
    events.insert(computed, events[sync])  # SyncOrders logged before the PnL came back

    check = check_cycle(7, "cycle-1", events, now=scripted.clock.now())

    first = check.divergences[0]
    assert first.index == computed and first.expected is None and isinstance(first.issued, SyncOrders)


def test_a_finish_that_miscounts_the_errors_is_a_problem():
    scripted = cycle_with_failures()
    events = logged(scripted)
    last = events[-1]
    events[-1] = msgspec.structs.replace(last, event=msgspec.structs.replace(last.event, error_count=0))

    check = check_cycle(7, "cycle-1", events, now=scripted.clock.now())

    assert [p.kind for p in check.problems] == ["error_count"]


def test_a_cycle_without_its_start_is_reported():
    scripted = normal_cycle()
    events = logged(scripted)[1:]

    check = check_cycle(7, "cycle-1", events, now=scripted.clock.now())

    assert [p.kind for p in check.problems] == ["no_start"] and not check.clean


def test_an_unfinished_cycle_is_running_while_young_and_an_error_once_silent_too_long():
    scripted = normal_cycle()
    events = logged(scripted)[: index_of(logged(scripted), PnlComputed)]  # ComputePnl in flight
    last = events[-1].event.at
    deadline = timedelta(seconds=events[-1].event.deadline_s)

    young = check_cycle(7, "cycle-1", events, now=last + deadline + RUNNING_SLACK)
    old = check_cycle(7, "cycle-1", events, now=last + deadline + RUNNING_SLACK + timedelta(seconds=1))

    assert young.status == "running" and young.clean
    assert old.status == "unfinished" and [p.kind for p in old.problems] == ["no_finish"]


def test_an_event_other_than_a_late_reply_after_the_finish_is_a_problem():
    scripted = normal_cycle()
    events = logged(scripted)
    events.append(LoggedEvent(seq=events[-1].seq + 1, event=events[1].event))  # a CommandIssued

    check = check_cycle(7, "cycle-1", events, now=scripted.clock.now())

    assert [p.kind for p in check.problems] == ["after_finish"]


def test_a_cycle_cut_by_a_monitor_restart_is_interrupted_and_its_late_replies_ignored():
    scripted = normal_cycle()
    events = logged(scripted)
    synced = index_of(events, OrdersSynced)
    cut, reply = events[:synced], events[synced]
    restart = MonitorRestarted(user_id=7, cycle_id="cycle-1", at=reply.event.at, reason="RuntimeError")
    events = [*cut, LoggedEvent(seq=reply.seq, event=restart), LoggedEvent(seq=reply.seq + 1, event=reply.event)]

    check = check_cycle(7, "cycle-1", events, now=scripted.clock.now())

    assert check.status == "interrupted" and check.divergences == ()
    assert [p.kind for p in check.problems] == ["interrupted"] and "RuntimeError" in check.problems[0].message
    assert check.ignored == (len(events) - 1,)


def test_gaps_in_a_users_sequence_are_deleted_events():
    gaps = sequence_gaps(7, [1, 2, 4, 5, 8], first_expected=1)
    assert [(g.seq, g.message) for g in gaps] == [
        (3, "user 7: seq 3 missing (1 event deleted)"),
        (6, "user 7: seq 6..7 missing (2 events deleted)"),
    ]
    assert sequence_gaps(7, [2, 3], first_expected=1)[0].seq == 1
    assert sequence_gaps(7, [5, 6, 7]) == []
