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
