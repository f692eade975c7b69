"""The invariant checks themselves have teeth: each flags the violation it exists for and lets through the
one exception the design allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.soak.invariants import duplicate_sends, live_exit_duplicates, overlaps

T = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)


def sent(seq: int, tag: str, outcome: str, status: str | None = "New", account: str = "A1") -> dict:
    return {"seq": seq, "route": "place", "tag": tag, "outcome": outcome, "status": status, "account": account,
            "app_order_id": seq}


def test_a_tag_sent_again_after_the_broker_took_it_is_a_duplicate():
    assert duplicate_sends([sent(1, "M1S1", "accepted"), sent(2, "M1S1", "accepted")]) != []


def test_a_tag_re_sent_after_a_request_that_never_reached_the_book_is_allowed():
    assert duplicate_sends([sent(1, "M1S1", "faulted"), sent(2, "M1S1", "accepted")]) == []


def test_two_live_stop_losses_of_one_order_are_flagged_and_a_cancelled_one_is_not():
    assert live_exit_duplicates([sent(1, "M1S1", "accepted"), sent(2, "M1S2", "accepted")]) != []
    assert live_exit_duplicates([sent(1, "M1S1", "accepted", "Cancelled"), sent(2, "M1S2", "accepted")]) == []


def event(seq: int, kind: str, cycle: str, at: datetime) -> dict:
    return {"user_id": 1, "seq": seq, "type": kind, "cycle_id": cycle, "at": at}


def test_a_cycle_starting_inside_another_is_an_overlap_unless_a_kill_cut_the_first():
    log = [event(1, "cycle_started", "a", T), event(2, "command_issued", "a", T + timedelta(seconds=1)),
           event(3, "cycle_started", "b", T + timedelta(seconds=3))]
    assert overlaps(log, kills=()) != []
    assert overlaps(log, kills=(T + timedelta(seconds=2),)) == []
    assert overlaps(log, kills=(T + timedelta(seconds=0.5),)) != []


def test_overlaps_are_judged_by_time_not_by_the_order_the_events_were_written_in():
    # a replica's cycle "a" ran before "b" of another replica, but was written while "b" ran (its database was away)
    late = [event(1, "cycle_started", "b", T + timedelta(seconds=5)),
            event(2, "cycle_started", "a", T), event(3, "cycle_finished", "a", T + timedelta(seconds=1)),
            event(4, "cycle_finished", "b", T + timedelta(seconds=6))]
    assert overlaps(late, kills=()) == []
    # while one still running when "b" started overlaps it, however it was written
    during = [*late[:2], event(3, "cycle_finished", "a", T + timedelta(seconds=5.5)), late[3]]
    assert overlaps(during, kills=()) == ["user 1: cycle b started (seq 1) while cycle a was running"]


def test_the_cycle_in_flight_of_a_replica_cut_off_from_the_database_is_let_through_and_only_that():
    cut, leases_out = T + timedelta(seconds=1), T + timedelta(seconds=4)
    # a replica's cycle "a", begun before its leases ran out, still running when the new holder began "b"
    log = [event(1, "cycle_started", "a", T + timedelta(seconds=2)),
           event(2, "command_issued", "a", T + timedelta(seconds=3)),
           event(3, "cycle_started", "b", T + timedelta(seconds=5)),
           event(4, "cycle_finished", "a", T + timedelta(seconds=9))]
    assert overlaps(log, kills=(), cut_offs=[(cut, leases_out)]) == []
    assert overlaps(log, kills=(), cut_offs=[]) != []
    # not a cycle it began after its leases ran out, nor one met before the cut
    assert overlaps(log, kills=(), cut_offs=[(cut, T + timedelta(seconds=1.5))]) != []
    assert overlaps(log, kills=(), cut_offs=[(T + timedelta(seconds=6), T + timedelta(seconds=9))]) != []
