"""A stored cycle re-run in the scripted harness: given a cycle's log, when a fresh monitor is driven with
the same tick, replies, deadlines and skipped ticks, then it issues the same commands and logs the very
same events — so any logged incident can be turned into a test."""

from __future__ import annotations

import pytest

from domain.errors import ErrorKind
from messages.events import FetchFailed, SnapshotFetched
from tests.replay.stories import (
    cycle_with_failures,
    cycle_with_late_replies,
    cycle_with_timeout,
    logged,
    normal_cycle,
)
from tests.rerun import rerun_cycle


@pytest.mark.parametrize("story", [normal_cycle, cycle_with_failures, cycle_with_timeout, cycle_with_late_replies])
def test_a_rerun_logs_the_same_events_and_issues_the_same_commands(story):
    original = story()
    stored = [e.event for e in logged(original)]

    rerun = rerun_cycle(stored)

    assert rerun.events == stored
    assert [r.command for r in rerun.workers.requests] == [r.command for r in original.workers.requests]


def test_a_rerun_of_a_tampered_log_does_not_reproduce_it():
    stored = [e.event for e in logged(normal_cycle())]
    at = next(i for i, e in enumerate(stored) if isinstance(e, SnapshotFetched))
    fetched = stored[at]
    stored[at] = FetchFailed(user_id=fetched.user_id, cycle_id=fetched.cycle_id, at=fetched.at,
                             account_ids=fetched.account_ids, kind=ErrorKind.UNAVAILABLE, message="tampered")

    rerun = rerun_cycle(stored)

    assert rerun.events[: at + 1] == stored[: at + 1]
    assert rerun.events[at + 1] != stored[at + 1]
    assert rerun.events[at + 1].command.step == "report"
