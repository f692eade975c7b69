"""Properties of the pure decider over any mix of step outcomes (hypothesis).

For any accounts, mode, permissions, pause state and per-(step, account) outcome, with replies arriving
in any order, duplicated or stray: the cycle terminates, issues each step at most once per account,
never runs Step 4 for an account whose Step 3 failed, reports iff there were errors, and always ends
with exactly one summary then CycleFinished.
"""

from datetime import UTC, datetime, timedelta
from typing import get_args

from hypothesis import given, settings
from hypothesis import strategies as st

from actors.user_monitor.cycle import decide, evolve, initial_state
from actors.worker import FAILURE_EVENT
from domain.errors import ErrorKind
from messages.commands import FinishCycle
from messages.common import Step
from messages.events import (
    CommandIssued,
    CycleContextLoaded,
    CycleFinished,
    CyclePolicy,
    CycleStarted,
    StepSucceeded,
    StepTimedOut,
)

SUCCESS_EVENT = {cls.step: cls for cls in get_args(StepSucceeded)}
T0 = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)
OUTCOMES = st.sampled_from(["ok", "ok", "ok", "fail", "timeout"])


@st.composite
def scenarios(draw):
    accounts = tuple(range(1, draw(st.integers(0, 4)) + 1))
    steps = [s for s in Step if s is not Step.FINISH]
    targets = [(s, a) for s in steps for a in (accounts if s.value not in ("context", "report", "summary")
                                                 else (None,))]
    plan = {key: draw(OUTCOMES) for key in targets}
    return {
        "accounts": accounts,
        "isolate": draw(st.booleans()),
        "paused": draw(st.booleans()),
        "strategies": draw(st.sampled_from([(), ("momentum",), ("a", "b")])),
        "plan": plan,
        "reverse_replies": draw(st.booleans()),
        "duplicate_replies": draw(st.booleans()),
    }


def play(sc):
    """Fold a whole cycle through evolve/decide, answering as the plan says; return commands and state."""
    state = initial_state(1)
    at = T0
    state = evolve(state, CycleStarted(user_id=1, cycle_id="c", at=at,
                                       policy=CyclePolicy(isolate_account_failures=sc["isolate"])))
    issued = []
    for _ in range(100):
        command = decide(state)
        if command is None:
            break
        at += timedelta(milliseconds=10)
        issued.append(command)
        state = evolve(state, CommandIssued(user_id=1, cycle_id="c", at=at, account_ids=command.account_ids,
                                            command=command))
        if isinstance(command, FinishCycle):
            state = evolve(state, CycleFinished(user_id=1, cycle_id="c", at=at))
            continue
        if command.step is Step.CONTEXT and sc["plan"][(Step.CONTEXT, None)] == "ok":
            replies = [CycleContextLoaded(user_id=1, cycle_id="c", at=at, account_ids=sc["accounts"],
                                          paused=sc["paused"], regeneration_strategies=sc["strategies"])]
        else:
            replies = replies_for(command, sc["plan"], at)
        if sc["reverse_replies"]:
            replies.reverse()
        if sc["duplicate_replies"]:
            replies = replies + replies
        for reply in replies:
            state = evolve(state, reply)
        stray = SUCCESS_EVENT[Step.FETCH](user_id=1, cycle_id="older-cycle", at=at, account_ids=sc["accounts"])
        state = evolve(state, stray)
    return issued, state


USER_LEVEL = (Step.CONTEXT, Step.REPORT, Step.SUMMARY)


def replies_for(command, plan, at):
    """Per account (or once, for the user-level steps, echoing the command's accounts) as planned."""
    groups = [(None, command.account_ids)] if command.step in USER_LEVEL else [(a, (a,)) for a in command.account_ids]
    replies, silent = [], []
    for key, ids in groups:
        outcome = plan[(command.step, key)]
        if outcome == "ok":
            replies.append(SUCCESS_EVENT[command.step](user_id=1, cycle_id="c", at=at, account_ids=ids))
        elif outcome == "fail":
            replies.append(FAILURE_EVENT[command.step](user_id=1, cycle_id="c", at=at, account_ids=ids,
                                                       kind=ErrorKind.UNAVAILABLE, message="down"))
        else:
            silent.extend(ids)
    if silent or (command.step in USER_LEVEL and plan[(command.step, None)] == "timeout"):
        replies.append(StepTimedOut(user_id=1, cycle_id="c", at=at, step=command.step, deadline_s=1.0,
                                    account_ids=tuple(silent)))
    return replies


def failed_accounts(state, step):
    run = state.run_of(step)
    return {r.account_id for r in run.results if r.outcome != "ok"} if run else set()


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_any_cycle_terminates_with_exactly_one_summary_then_finish(sc):
    issued, state = play(sc)
    assert state.finished
    steps = [c.step for c in issued]
    assert steps[-2:] == [Step.SUMMARY, Step.FINISH]
    assert steps.count(Step.SUMMARY) == 1


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_each_step_is_issued_at_most_once_per_account(sc):
    issued, _ = play(sc)
    seen = set()
    for command in issued:
        for account in command.account_ids or (None,):
            key = (command.step, account)
            assert key not in seen, f"{key} issued twice"
            seen.add(key)


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_step4_never_runs_for_an_account_whose_sync_failed(sc):
    issued, state = play(sc)
    sync_failed = failed_accounts(state, Step.SYNC)
    for command in issued:
        if command.step is Step.PROTECT:
            assert not sync_failed & set(command.account_ids)
            if not sc["isolate"]:
                assert not sync_failed


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_an_account_that_failed_fetch_or_pnl_leaves_the_rest_of_the_cycle(sc):
    issued, state = play(sc)
    fetch_failed = failed_accounts(state, Step.FETCH)
    stopped = fetch_failed | failed_accounts(state, Step.PNL)
    for command in issued:
        if command.step is Step.PNL:
            assert not fetch_failed & set(command.account_ids)
        elif command.step in (Step.SYNC, Step.PROTECT, Step.MODIFY_ENTRIES, Step.MODIFY_STOP_LOSSES,
                              Step.ARCHIVE_REJECTED, Step.REGENERATE, Step.PLACE_REGENERATED):
            assert not stopped & set(command.account_ids)


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_errors_are_reported_iff_there_were_any_and_paused_cycles_send_nothing_new(sc):
    issued, state = play(sc)
    steps = [c.step for c in issued]
    report_errors = [e for e in state.errors if e.step not in (Step.REPORT, Step.SUMMARY)]
    assert (Step.REPORT in steps) == bool(report_errors)
    if sc["paused"]:
        assert not {Step.MODIFY_ENTRIES, Step.MODIFY_STOP_LOSSES, Step.REGENERATE, Step.PLACE_REGENERATED} & set(steps)
        assert all(c.oco_cancels_only for c in issued if c.step is Step.PROTECT)
