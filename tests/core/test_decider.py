"""The pure decider, folded by hand: given events, when `decide` is asked, then this command (or none).

Every gating step of DESIGN.md's matrix in both modes (`isolate_account_failures` on and off), every step a
paused user skips, regeneration with and without strategies, replies that arrive late, twice, for another
cycle or for nobody, deadlines, and what the cycle summary says per step and account, and of the orders the
steps' replies tell of (notices, orders left alone for a stale fair price).
"""

from datetime import UTC, datetime, timedelta
from typing import NamedTuple, get_args

import pytest

from actors.user_monitor.cycle import CycleState, decide, evolve, initial_state, summarize
from domain.errors import ErrorKind
from messages.commands import (
    FetchSnapshots,
    FinishCycle,
    LoadCycleContext,
    PlaceProtectiveOrders,
    RegenerateEntries,
    ReportErrors,
)
from messages.common import CycleError, Outcome, StepReport
from messages.common import Step as S
from messages.events import (
    ArchivedOrder,
    CommandIssued,
    CycleContextLoaded,
    CycleFinished,
    CyclePolicy,
    CycleStarted,
    OrderAction,
    OrderAttention,
    RegeneratedEntry,
    StepFailed,
    StepSucceeded,
    StepTimedOut,
    TickSkipped,
)

USER, CYCLE = 7, "cycle-1"
T0 = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)
SUCCEEDED = {cls.step: cls for cls in get_args(StepSucceeded)}
FAILED = {cls.step: cls for cls in get_args(StepFailed)}
SILENT = "silent"
"""In a failure plan: no reply comes, the step's deadline passes."""
USER_LEVEL = (S.CONTEXT, S.REPORT, S.SUMMARY)
STRATEGIES = ("momentum", "breakout")
BOTH = (1, 2)


def ms(milliseconds: int) -> datetime:
    return T0 + timedelta(milliseconds=milliseconds)


# --- given: events, built and folded ----------------------------------------------------------------


def started(isolate: bool = True, state: CycleState | None = None, cycle_id: str = CYCLE,
            at: datetime = T0, policy: CyclePolicy | None = None) -> CycleState:
    return evolve(state or initial_state(USER), CycleStarted(
        user_id=USER, cycle_id=cycle_id, at=at, policy=policy or CyclePolicy(isolate_account_failures=isolate)))


def issued(state: CycleState, command, at: datetime = T0) -> CycleState:
    return evolve(state, CommandIssued(user_id=USER, cycle_id=command.cycle_id, at=at,
                                       account_ids=command.account_ids, command=command))


def succeeded(step: S, accounts: tuple[int, ...], at: datetime = T0, cycle_id: str = CYCLE, **fields):
    return SUCCEEDED[step](user_id=USER, cycle_id=cycle_id, at=at, account_ids=accounts, **fields)


def failed(step: S, accounts: tuple[int, ...], at: datetime = T0, kind: ErrorKind = ErrorKind.UNAVAILABLE,
           message: str = "broker unavailable", **fields):
    return FAILED[step](user_id=USER, cycle_id=CYCLE, at=at, account_ids=accounts, kind=kind, message=message,
                        **fields)


class Told(NamedTuple):
    """In a cycle's plan: a reply that tells `fields` (a success, or with `kind` a failure of that kind)."""

    fields: dict
    kind: ErrorKind | None = None


def timed_out(step: S, accounts: tuple[int, ...], at: datetime = T0, deadline_s: float = 30.0) -> StepTimedOut:
    return StepTimedOut(user_id=USER, cycle_id=CYCLE, at=at, step=step, deadline_s=deadline_s,
                        account_ids=accounts)


def fold(state: CycleState, *events) -> CycleState:
    for event in events:
        state = evolve(state, event)
    return state


def with_context(accounts: tuple[int, ...] = BOTH, **context) -> CycleState:
    """A started cycle whose context has loaded: the next command is the fetch."""
    state = started()
    state = issued(state, decide(state))
    return evolve(state, CycleContextLoaded(user_id=USER, cycle_id=CYCLE, at=T0, account_ids=accounts, **context))


def step_issued(state: CycleState, step: S) -> CycleState:
    """Answer every command ok until `step` is the one in flight."""
    for _ in S:
        command = decide(state)
        assert command is not None, f"{step} was never issued"
        state = issued(state, command)
        if command.step is step:
            return state
        state = evolve(state, succeeded(command.step, command.account_ids))
    raise AssertionError(f"{step} was never issued")


# --- when: a whole cycle, every command answered as planned -------------------------------------------


def run_cycle(accounts: tuple[int, ...] = BOTH, failures=None, isolate: bool = True, step_ms: int = 250,
              policy: CyclePolicy | None = None, **context):
    """Start a cycle and answer what `decide` asks until it finishes: ok, unless `failures[step][account]`
    names an ErrorKind (a failure), SILENT (the deadline passes) or is a `Told` reply. User-level steps use
    the key None. Without a `policy`, the cycle's is that of logs older than protection while paused (OCO
    cancels only) and than the summary telling what the steps' replies carry."""
    failures = failures or {}
    context = {"regeneration_strategies": STRATEGIES, **context}
    state, commands, at = started(isolate, policy=policy), [], T0
    for _ in range(len(S) + 1):
        command = decide(state)
        if command is None:
            return commands, state
        commands.append(command)
        state = issued(state, command, at)
        at += timedelta(milliseconds=step_ms)
        state = answered(state, command, at, failures.get(command.step, {}), accounts, context)
    raise AssertionError("the cycle asked for more commands than it has steps")


def answered(state: CycleState, command, at: datetime, plan, accounts: tuple[int, ...], context) -> CycleState:
    """`state` once `command` is answered as `plan` says (a finish ends the cycle)."""
    if isinstance(command, FinishCycle):
        return evolve(state, CycleFinished(user_id=USER, cycle_id=CYCLE, at=at))
    if command.step is S.CONTEXT and None not in plan:
        return evolve(state, CycleContextLoaded(user_id=USER, cycle_id=CYCLE, at=at, account_ids=accounts,
                                                **context))
    groups = [(None, command.account_ids)] if command.step in USER_LEVEL else [(a, (a,)) for a in command.account_ids]
    silent: list[int] = []
    for key, ids in groups:
        answer = plan.get(key)
        if answer is None:
            state = evolve(state, succeeded(command.step, ids, at))
        elif answer == SILENT:
            silent.extend(ids)
        elif isinstance(answer, Told) and answer.kind is None:
            state = evolve(state, succeeded(command.step, ids, at, **answer.fields))
        elif isinstance(answer, Told):
            state = evolve(state, failed(command.step, ids, at, kind=answer.kind, **answer.fields))
        else:
            state = evolve(state, failed(command.step, ids, at, kind=answer))
    if silent or plan.get(None) == SILENT:
        state = evolve(state, timed_out(command.step, tuple(silent), at))
    return state


def steps_of(commands) -> list[tuple[S, tuple[int, ...]]]:
    return [(c.step, c.account_ids) for c in commands]


def step_names(commands) -> list[S]:
    return [c.step for c in commands]


def cycle(*rows: tuple[S, tuple[int, ...]], report: bool, accounts: tuple[int, ...] = BOTH):
    """The expected commands: the context, `rows`, the report if `report`, the summary and the finish."""
    closing = [(S.REPORT, accounts)] if report else []
    return [(S.CONTEXT, ()), *rows, *closing, (S.SUMMARY, accounts), (S.FINISH, accounts)]


def per_account(*steps: S, accounts: tuple[int, ...] = BOTH) -> list[tuple[S, tuple[int, ...]]]:
    return [(step, accounts) for step in steps]


AFTER_SYNC = (S.MODIFY_ENTRIES, S.MODIFY_STOP_LOSSES, S.ARCHIVE_REJECTED, S.REGENERATE, S.PLACE_REGENERATED)
AFTER_PNL = (S.SYNC, S.PROTECT, *AFTER_SYNC)
EVERY_ACCOUNT_STEP = (S.FETCH, S.PNL, *AFTER_PNL)


# --- the matrix: every gating step, isolated and strict ---------------------------------------------


@pytest.mark.parametrize("isolate", [True, False], ids=["isolated", "strict"])
def test_given_every_step_succeeds_when_the_cycle_runs_then_every_step_runs_for_every_account_without_a_report(
        isolate):
    commands, state = run_cycle(isolate=isolate)
    assert steps_of(commands) == cycle(*per_account(*EVERY_ACCOUNT_STEP), report=False)
    assert state.finished and state.errors == ()


ISOLATED_GATES = [
    pytest.param(S.FETCH, [(S.FETCH, BOTH), *per_account(S.PNL, *AFTER_PNL, accounts=(2,))], id="fetch"),
    pytest.param(S.PNL, [*per_account(S.FETCH, S.PNL), *per_account(*AFTER_PNL, accounts=(2,))], id="pnl"),
    pytest.param(S.SYNC, [*per_account(S.FETCH, S.PNL, S.SYNC), (S.PROTECT, (2,)), *per_account(*AFTER_SYNC)],
                 id="sync"),
    pytest.param(S.REGENERATE, [*per_account(*EVERY_ACCOUNT_STEP[:-1]), (S.PLACE_REGENERATED, (2,))],
                 id="regenerate"),
]


@pytest.mark.parametrize(("step", "rows"), ISOLATED_GATES)
def test_given_isolated_accounts_when_one_fails_a_gating_step_then_only_that_account_skips_what_it_gates(
        step, rows):
    commands, _ = run_cycle(failures={step: {1: ErrorKind.DB}}, isolate=True)
    assert steps_of(commands) == cycle(*rows, report=True)


STRICT_GATES = [
    pytest.param(S.FETCH, per_account(S.FETCH), id="fetch"),
    pytest.param(S.PNL, per_account(S.FETCH, S.PNL), id="pnl"),
    pytest.param(S.SYNC, per_account(S.FETCH, S.PNL, S.SYNC, *AFTER_SYNC), id="sync"),
    pytest.param(S.REGENERATE, per_account(*EVERY_ACCOUNT_STEP[:-1]), id="regenerate"),
]


@pytest.mark.parametrize(("step", "rows"), STRICT_GATES)
def test_given_strict_mode_when_one_account_fails_a_gating_step_then_every_account_skips_what_it_gates(step, rows):
    commands, _ = run_cycle(failures={step: {1: ErrorKind.DB}}, isolate=False)
    assert steps_of(commands) == cycle(*rows, report=True)


@pytest.mark.parametrize(("isolate", "rows"), [
    (True, [(S.FETCH, BOTH), *per_account(S.PNL, *AFTER_PNL, accounts=(2,))]),
    (False, [(S.FETCH, BOTH)]),
], ids=["isolated", "strict"])
def test_given_an_account_whose_fetch_times_out_when_deciding_then_it_counts_as_failed_in_either_mode(isolate, rows):
    commands, state = run_cycle(failures={S.FETCH: {1: SILENT}}, isolate=isolate)
    assert steps_of(commands) == cycle(*rows, report=True)
    assert [(e.step, e.account_id, e.kind) for e in state.errors] == [(S.FETCH, 1, ErrorKind.TIMEOUT)]


@pytest.mark.parametrize("isolate", [True, False], ids=["isolated", "strict"])
@pytest.mark.parametrize("step", [S.PROTECT, S.MODIFY_ENTRIES, S.MODIFY_STOP_LOSSES, S.ARCHIVE_REJECTED,
                                  S.PLACE_REGENERATED])
def test_given_a_step_that_gates_nothing_when_it_fails_then_the_cycle_goes_on_for_every_account_and_reports(
        step, isolate):
    commands, state = run_cycle(failures={step: {1: ErrorKind.REJECTED}}, isolate=isolate)
    assert steps_of(commands) == cycle(*per_account(*EVERY_ACCOUNT_STEP), report=True)
    assert [(e.step, e.account_id) for e in state.errors] == [(step, 1)]


def test_given_three_accounts_when_one_fails_fetch_and_another_pnl_then_the_third_runs_every_step():
    commands, _ = run_cycle(accounts=(1, 2, 3), failures={S.FETCH: {1: ErrorKind.SESSION_EXPIRED},
                                                          S.PNL: {2: ErrorKind.DB}})
    assert steps_of(commands) == cycle((S.FETCH, (1, 2, 3)), (S.PNL, (2, 3)), *per_account(*AFTER_PNL, accounts=(3,)),
                                       report=True, accounts=(1, 2, 3))


def test_given_a_user_without_active_accounts_when_the_cycle_runs_then_only_the_summary_and_finish_follow():
    commands, _ = run_cycle(accounts=())
    assert steps_of(commands) == [(S.CONTEXT, ()), (S.SUMMARY, ()), (S.FINISH, ())]


def test_given_the_context_fails_when_deciding_then_no_account_step_runs_and_the_failure_is_reported():
    commands, state = run_cycle(failures={S.CONTEXT: {None: ErrorKind.DB}})
    assert steps_of(commands) == [(S.CONTEXT, ()), (S.REPORT, ()), (S.SUMMARY, ()), (S.FINISH, ())]
    assert [(e.step, e.account_id, e.kind) for e in state.errors] == [(S.CONTEXT, None, ErrorKind.DB)]


def test_given_the_context_loaded_when_deciding_then_the_fetch_covers_exactly_the_active_accounts():
    assert decide(with_context(accounts=(4, 9))) == FetchSnapshots(user_id=USER, cycle_id=CYCLE, account_ids=(4, 9))


def test_given_a_started_cycle_when_deciding_then_the_context_is_loaded_first():
    assert decide(started()) == LoadCycleContext(user_id=USER, cycle_id=CYCLE)


# --- paused ------------------------------------------------------------------------------------------

PAUSED_SKIPS = (S.MODIFY_ENTRIES, S.MODIFY_STOP_LOSSES, S.REGENERATE, S.PLACE_REGENERATED)


def test_given_a_paused_user_when_the_cycle_runs_then_it_fetches_computes_syncs_protects_and_archives_only():
    commands, _ = run_cycle(paused=True)
    assert steps_of(commands) == cycle(*per_account(S.FETCH, S.PNL, S.SYNC, S.PROTECT, S.ARCHIVE_REJECTED),
                                       report=False)


@pytest.mark.parametrize("step", PAUSED_SKIPS)
@pytest.mark.parametrize("paused", [True, False], ids=["paused", "active"])
def test_given_the_pause_state_when_the_cycle_runs_then_steps_that_send_orders_run_only_when_active(step, paused):
    commands, _ = run_cycle(paused=paused)
    assert (step in step_names(commands)) is not paused


@pytest.mark.parametrize("paused", [True, False], ids=["paused", "active"])
def test_given_the_pause_state_when_protecting_then_only_oco_cancels_are_asked_iff_paused(paused):
    commands, _ = run_cycle(paused=paused)
    assert [c for c in commands if c.step is S.PROTECT] == [
        PlaceProtectiveOrders(user_id=USER, cycle_id=CYCLE, account_ids=BOTH, oco_cancels_only=paused)]


# --- paused, with the orders that reduce risk --------------------------------------------------------

PROTECTING = CyclePolicy(protect_while_paused=True, cancel_entries_when_paused=True)
PROTECTING_KEEPING_ENTRIES = CyclePolicy(protect_while_paused=True, cancel_entries_when_paused=False)


def test_given_a_paused_user_protected_while_paused_when_the_cycle_runs_then_it_also_rescues_gapped_stop_losses():
    commands, _ = run_cycle(paused=True, policy=PROTECTING)
    assert steps_of(commands) == cycle(*per_account(S.FETCH, S.PNL, S.SYNC, S.PROTECT, S.MODIFY_STOP_LOSSES,
                                                    S.ARCHIVE_REJECTED), report=False)


@pytest.mark.parametrize("step", (S.MODIFY_ENTRIES, S.REGENERATE, S.PLACE_REGENERATED))
@pytest.mark.parametrize("policy", [PROTECTING, PROTECTING_KEEPING_ENTRIES], ids=["cancelling", "keeping"])
def test_given_a_paused_user_protected_while_paused_when_the_cycle_runs_then_no_entry_is_sent_or_changed(
        step, policy):
    commands, _ = run_cycle(paused=True, policy=policy)
    assert step not in step_names(commands)


@pytest.mark.parametrize(("policy", "paused", "cancel"), [
    pytest.param(PROTECTING, True, True, id="paused-cancelling"),
    pytest.param(PROTECTING_KEEPING_ENTRIES, True, False, id="paused-keeping-entries"),
    pytest.param(PROTECTING, False, False, id="active-cancels-no-entry"),
])
def test_given_protection_while_paused_when_protecting_then_every_leg_is_protected_and_entries_cancelled_iff_paused(
        policy, paused, cancel):
    commands, _ = run_cycle(paused=paused, policy=policy)
    assert [c for c in commands if c.step is S.PROTECT] == [PlaceProtectiveOrders(
        user_id=USER, cycle_id=CYCLE, account_ids=BOTH, oco_cancels_only=False, cancel_open_entries=cancel)]


def test_given_an_older_policy_that_cancelled_entries_when_paused_without_protecting_then_both_are_asked():
    commands, _ = run_cycle(paused=True, policy=CyclePolicy(cancel_entries_when_paused=True))
    assert [c for c in commands if c.step is S.PROTECT] == [PlaceProtectiveOrders(
        user_id=USER, cycle_id=CYCLE, account_ids=BOTH, oco_cancels_only=True, cancel_open_entries=True)]
    assert S.MODIFY_STOP_LOSSES not in step_names(commands)


@pytest.mark.parametrize(("policy", "context", "notice"), [
    pytest.param(PROTECTING, {"pause_reason": "lunch"},
                 "automation paused: lunch; no entries are placed, modified or regenerated (open entries are "
                 "cancelled); running trades keep getting their stop-loss and take-profit", id="cancelling"),
    pytest.param(PROTECTING_KEEPING_ENTRIES, {},
                 "automation paused; no entries are placed, modified or regenerated (open entries are left as "
                 "they are); running trades keep getting their stop-loss and take-profit", id="keeping-entries"),
    pytest.param(CyclePolicy(cancel_entries_when_paused=True), {"pause_reason": "lunch"},
                 "automation paused: lunch; only OCO cancels are sent", id="oco-only"),
])
def test_given_a_paused_cycle_when_summarized_then_the_notice_says_what_it_sends(policy, context, notice):
    commands, _ = run_cycle(paused=True, policy=policy, regeneration_strategies=(), **context)
    assert summary_of(commands).notices == (notice,)


# --- regeneration ------------------------------------------------------------------------------------


def test_given_regeneration_strategies_when_regenerating_then_the_command_carries_exactly_those_strategies():
    commands, _ = run_cycle(regeneration_strategies=STRATEGIES)
    assert [c for c in commands if c.step is S.REGENERATE] == [
        RegenerateEntries(user_id=USER, cycle_id=CYCLE, account_ids=BOTH, strategies=STRATEGIES)]


def test_given_no_regeneration_strategies_when_the_cycle_runs_then_neither_regeneration_step_runs_and_no_error():
    commands, state = run_cycle(regeneration_strategies=())
    assert steps_of(commands) == cycle(*per_account(S.FETCH, S.PNL, S.SYNC, S.PROTECT, S.MODIFY_ENTRIES,
                                                    S.MODIFY_STOP_LOSSES, S.ARCHIVE_REJECTED), report=False)
    assert state.errors == ()


# --- the report ----------------------------------------------------------------------------------------


def test_given_errors_when_the_account_steps_are_done_then_the_report_carries_every_error_to_every_account():
    commands, state = run_cycle(failures={S.FETCH: {1: ErrorKind.SESSION_EXPIRED}, S.PROTECT: {2: ErrorKind.REJECTED}})
    reports = [c for c in commands if c.step is S.REPORT]
    assert reports == [ReportErrors(user_id=USER, cycle_id=CYCLE, account_ids=BOTH, errors=state.errors)]
    assert [(e.step, e.account_id, e.kind) for e in state.errors] == [
        (S.FETCH, 1, ErrorKind.SESSION_EXPIRED), (S.PROTECT, 2, ErrorKind.REJECTED)]


def test_given_a_report_that_fails_when_deciding_then_the_summary_and_finish_still_follow():
    commands, state = run_cycle(failures={S.FETCH: {1: ErrorKind.DB}, S.REPORT: {None: ErrorKind.UNAVAILABLE}})
    assert step_names(commands)[-3:] == [S.REPORT, S.SUMMARY, S.FINISH]
    assert state.finished


def test_given_an_error_that_comes_only_after_the_summary_was_asked_when_deciding_then_no_report_follows():
    commands, state = run_cycle(failures={S.SUMMARY: {None: ErrorKind.UNAVAILABLE}})
    assert steps_of(commands) == cycle(*per_account(*EVERY_ACCOUNT_STEP), report=False)
    assert {e.step for e in state.errors} == {S.SUMMARY}



# --- deciding while waiting ----------------------------------------------------------------------------


def test_given_no_cycle_when_deciding_then_the_idle_user_is_asked_nothing():
    state = initial_state(USER)
    assert (state.user_id, state.running, decide(state)) == (USER, False, None)


def test_given_a_user_level_step_in_flight_when_deciding_then_nothing_new_is_asked():
    state = started()
    assert decide(issued(state, decide(state))) is None


def test_given_a_step_in_flight_when_an_account_is_still_waiting_then_nothing_new_is_asked_until_it_answers():
    state = fold(step_issued(with_context(), S.FETCH), succeeded(S.FETCH, (1,)))
    assert decide(state) is None
    assert decide(evolve(state, succeeded(S.FETCH, (2,)))).step is S.PNL


def test_given_finish_was_asked_when_the_cycle_finished_event_arrives_then_the_cycle_stops_running():
    state = step_issued(with_context(), S.FINISH)
    assert state.running and decide(state) is None
    state = evolve(state, CycleFinished(user_id=USER, cycle_id=CYCLE, at=ms(10)))
    assert (state.finished, state.running, decide(state)) == (True, False, None)


# --- evolve: what a reply changes, and the replies that change nothing ---------------------------------


def test_given_no_cycle_when_a_reply_arrives_then_nothing_changes():
    state = initial_state(USER)
    assert evolve(state, succeeded(S.FETCH, (1,))) == state


def test_given_a_running_cycle_when_another_cycle_starts_then_the_start_is_ignored():
    state = step_issued(with_context(), S.FETCH)
    assert started(state=state, cycle_id="cycle-2", at=ms(5)) == state


def test_given_a_finished_cycle_when_the_next_one_starts_then_it_starts_from_scratch_with_its_own_policy():
    _, done = run_cycle(failures={S.FETCH: {1: ErrorKind.DB}})
    state = started(isolate=False, state=done, cycle_id="cycle-2", at=ms(60_000))
    assert state == CycleState(user_id=USER, cycle_id="cycle-2", started_at=ms(60_000),
                               policy=CyclePolicy(isolate_account_failures=False))


def test_given_a_finished_cycle_when_a_late_reply_arrives_then_nothing_changes():
    _, done = run_cycle()
    assert evolve(done, failed(S.FETCH, (1,))) == done


def test_given_a_reply_of_another_cycle_when_folded_then_nothing_changes():
    state = step_issued(with_context(), S.FETCH)
    assert evolve(state, succeeded(S.FETCH, BOTH, cycle_id="cycle-0")) == state


def test_given_a_reply_for_a_step_never_asked_when_folded_then_nothing_changes():
    state = step_issued(with_context(), S.FETCH)
    assert evolve(state, failed(S.SYNC, (1,))) == state


def test_given_a_reply_for_an_account_the_command_did_not_name_when_folded_then_nothing_changes():
    state = step_issued(with_context(), S.FETCH)
    assert evolve(state, failed(S.FETCH, (3,))) == state


def test_given_an_account_already_answered_when_its_reply_comes_again_then_it_is_ignored():
    state = fold(step_issued(with_context(), S.FETCH), failed(S.FETCH, (1,)))
    assert evolve(state, failed(S.FETCH, (1,), at=ms(5), message="again")) == state
    assert state.run_of(S.FETCH).pending() == (2,)


def test_given_a_step_complete_when_a_late_failure_arrives_then_the_outcome_stands_and_no_error_is_added():
    state = fold(step_issued(with_context(), S.FETCH), succeeded(S.FETCH, BOTH))
    assert evolve(state, failed(S.FETCH, (1,), at=ms(5))) == state


def test_given_a_reply_naming_answered_and_waiting_accounts_when_folded_then_only_the_waiting_ones_are_recorded():
    state = fold(step_issued(with_context(accounts=(1, 2, 3)), S.FETCH), succeeded(S.FETCH, (1,)),
                 failed(S.FETCH, (1, 2)))
    run = state.run_of(S.FETCH)
    assert [(r.account_id, r.outcome) for r in run.results] == [(1, Outcome.OK), (2, Outcome.FAILED)]
    assert run.pending() == (3,)
    assert [e.account_id for e in state.errors] == [2]


def test_given_a_step_asked_when_the_same_step_is_asked_again_then_the_first_command_stands():
    state = step_issued(with_context(), S.FETCH)
    again = FetchSnapshots(user_id=USER, cycle_id=CYCLE, account_ids=(1,))
    assert issued(state, again, at=ms(5)) == state


def test_given_the_context_loaded_when_a_second_context_reply_arrives_then_the_first_context_stands():
    state = with_context(accounts=BOTH)
    second = CycleContextLoaded(user_id=USER, cycle_id=CYCLE, at=ms(5), account_ids=(9,), paused=True)
    assert evolve(state, second) == state


def test_given_the_context_loaded_when_another_step_succeeds_then_the_context_is_kept():
    state = with_context(accounts=BOTH, paused=True)
    state = fold(step_issued(state, S.FETCH), succeeded(S.FETCH, (1,)))
    assert state.context == CycleContextLoaded(user_id=USER, cycle_id=CYCLE, at=T0, account_ids=BOTH, paused=True)


def test_given_an_event_that_is_no_step_reply_when_folded_then_nothing_changes():
    state = step_issued(with_context(), S.FETCH)
    assert evolve(state, TickSkipped(user_id=USER, cycle_id=CYCLE, at=ms(5), reason="cycle_running")) == state


def test_given_a_failure_when_folded_then_the_error_names_its_step_account_kind_message_and_time():
    state = step_issued(with_context(), S.SYNC)
    state = evolve(state, failed(S.SYNC, (2,), at=ms(40), kind=ErrorKind.DB, message="lock wait timeout"))
    assert state.errors == (
        CycleError(step=S.SYNC, account_id=2, kind=ErrorKind.DB, message="lock wait timeout", at=ms(40)),)


def test_given_a_success_when_folded_then_the_account_is_recorded_ok_without_an_error():
    state = fold(step_issued(with_context(), S.SYNC), succeeded(S.SYNC, (2,), at=ms(40)))
    assert [(r.account_id, r.outcome, r.at) for r in state.run_of(S.SYNC).results] == [(2, Outcome.OK, ms(40))]
    assert state.errors == ()


# --- deadlines -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("deadline_s", "message"), [(30.0, "no reply within 30 s"), (2.5, "no reply within 2.5 s")])
def test_given_a_step_in_flight_when_its_deadline_passes_then_the_waiting_accounts_time_out_with_the_deadline_said(
        deadline_s, message):
    state = fold(step_issued(with_context(), S.PNL), succeeded(S.PNL, (1,)),
                 timed_out(S.PNL, (1, 2), at=ms(30_000), deadline_s=deadline_s))
    assert [(r.account_id, r.outcome) for r in state.run_of(S.PNL).results] == [
        (1, Outcome.OK), (2, Outcome.TIMED_OUT)]
    assert state.errors == (
        CycleError(step=S.PNL, account_id=2, kind=ErrorKind.TIMEOUT, message=message, at=ms(30_000)),)


def test_given_a_user_level_step_in_flight_when_its_deadline_passes_then_one_timeout_error_is_reported_for_the_user():
    state = started()
    state = fold(issued(state, decide(state)), timed_out(S.CONTEXT, ()))
    assert [(e.step, e.account_id, e.kind) for e in state.errors] == [(S.CONTEXT, None, ErrorKind.TIMEOUT)]
    assert isinstance(decide(state), ReportErrors)


def test_given_a_step_already_answered_when_a_stale_deadline_passes_then_nothing_changes():
    state = fold(step_issued(with_context(), S.PNL), succeeded(S.PNL, BOTH))
    assert evolve(state, timed_out(S.PNL, BOTH, at=ms(30_000))) == state


# --- the summary -----------------------------------------------------------------------------------------


def summary_of(commands):
    return next(c.summary for c in commands if c.step is S.SUMMARY)


def reports(*rows):
    return tuple(StepReport(step=step, account_id=account, outcome=outcome, duration_ms=duration)
                 for step, account, outcome, duration in rows)


def test_given_a_cycle_when_summarized_then_every_account_step_reports_each_accounts_outcome_and_duration():
    commands, _ = run_cycle(failures={S.FETCH: {2: ErrorKind.UNAVAILABLE}, S.PNL: {1: SILENT}}, step_ms=1300)
    skipped = [(step, account, Outcome.SKIPPED, None) for step in AFTER_PNL for account in BOTH]
    assert summary_of(commands).steps == reports(
        (S.FETCH, 1, Outcome.OK, 1300), (S.FETCH, 2, Outcome.FAILED, 1300),
        (S.PNL, 1, Outcome.TIMED_OUT, 1300), (S.PNL, 2, Outcome.SKIPPED, None),
        *skipped,
        (S.REPORT, None, Outcome.OK, 1300))


def test_given_accounts_answering_at_different_times_when_summarized_then_each_duration_runs_from_the_command():
    state = step_issued(with_context(), S.FETCH)
    state = fold(state, succeeded(S.FETCH, (1,), at=ms(1300)), failed(S.FETCH, (2,), at=ms(2700)))
    assert [r for r in summarize(state).steps if r.step is S.FETCH] == list(reports(
        (S.FETCH, 1, Outcome.OK, 1300), (S.FETCH, 2, Outcome.FAILED, 2700)))


@pytest.mark.parametrize(("after", "duration_ms"), [
    (timedelta(microseconds=1_300_600), 1300), (timedelta(microseconds=999), 0)])
def test_given_a_reply_after_its_command_when_summarized_then_the_duration_is_truncated_to_whole_milliseconds(
        after, duration_ms):
    state = fold(step_issued(with_context(), S.FETCH), succeeded(S.FETCH, BOTH, at=T0 + after))
    assert [r.duration_ms for r in summarize(state).steps if r.step is S.FETCH] == [duration_ms, duration_ms]


@pytest.mark.parametrize(("answered_at", "duration_ms"), [(ms(-5), 0), (ms(0), 0), (ms(1), 1)])
def test_given_a_reply_stamped_at_or_before_its_command_when_summarized_then_the_duration_is_zero_never_negative(
        answered_at, duration_ms):
    state = fold(step_issued(with_context(), S.FETCH), succeeded(S.FETCH, BOTH, at=answered_at))
    assert [r.duration_ms for r in summarize(state).steps if r.step is S.FETCH] == [duration_ms, duration_ms]


@pytest.mark.parametrize(("answer", "outcome"), [(None, Outcome.OK), (ErrorKind.UNAVAILABLE, Outcome.FAILED)])
def test_given_errors_were_reported_when_summarized_then_the_report_is_one_row_for_the_user_with_its_outcome(
        answer, outcome):
    plan = {S.FETCH: {1: ErrorKind.DB}, **({S.REPORT: {None: answer}} if answer else {})}
    commands, _ = run_cycle(failures=plan, step_ms=1300)
    assert summary_of(commands).steps[-1] == StepReport(step=S.REPORT, account_id=None, outcome=outcome,
                                                        duration_ms=1300)


def test_given_no_errors_when_summarized_then_no_report_row_is_listed():
    commands, _ = run_cycle()
    assert S.REPORT not in {r.step for r in summary_of(commands).steps}


@pytest.mark.parametrize("paused", [True, False], ids=["paused", "active"])
def test_given_a_cycle_when_summarized_then_it_names_user_cycle_start_accounts_error_count_and_pause(paused):
    failures = {S.FETCH: {3: ErrorKind.DB}, S.ARCHIVE_REJECTED: {5: ErrorKind.DB}}
    commands, _ = run_cycle(accounts=(3, 5), failures=failures, paused=paused)
    summary = summary_of(commands)
    assert (summary.user_id, summary.cycle_id, summary.started_at, summary.account_ids, summary.error_count,
            summary.paused) == (USER, CYCLE, T0, (3, 5), 2, paused)


def test_given_the_context_failed_when_summarized_then_no_account_and_no_notice_is_listed():
    commands, _ = run_cycle(failures={S.CONTEXT: {None: ErrorKind.DB}})
    summary = summary_of(commands)
    assert (summary.account_ids, summary.steps[:-1], summary.notices, summary.paused) == ((), (), (), False)


# --- notices -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("context", "notices"), [
    pytest.param({}, (), id="nothing-to-say"),
    pytest.param({"regeneration_strategies": ()}, ("entry regeneration not enabled",), id="no-regeneration"),
    pytest.param({"paused": True, "pause_reason": "daily loss limit reached"},
                 ("automation paused: daily loss limit reached; only OCO cancels are sent",), id="paused-with-reason"),
    pytest.param({"paused": True}, ("automation paused; only OCO cancels are sent",), id="paused-without-reason"),
    pytest.param({"paused": True, "regeneration_strategies": ()}, ("automation paused; only OCO cancels are sent",),
                 id="paused-says-nothing-of-regeneration"),
    pytest.param({"awaiting_session": (4, 6)}, ("account 4 is waiting for a new broker session",
                                                "account 6 is waiting for a new broker session"), id="sessions"),
])
def test_given_the_cycle_context_when_summarized_then_the_notices_say_exactly_what_the_user_should_know(
        context, notices):
    commands, _ = run_cycle(**context)
    assert summary_of(commands).notices == notices


def test_given_no_active_accounts_when_summarized_then_the_notices_say_so_first():
    commands, _ = run_cycle(accounts=(), awaiting_session=(4,), regeneration_strategies=())
    assert summary_of(commands).notices == ("no active accounts: nothing to monitor",
                                            "account 4 is waiting for a new broker session",
                                            "entry regeneration not enabled")


def test_given_no_cycle_when_summarized_then_the_summary_names_no_cycle_and_lists_nothing():
    summary = summarize(initial_state(USER))
    assert (summary.user_id, summary.cycle_id, summary.account_ids, summary.steps, summary.error_count,
            summary.notices, summary.paused) == (USER, "", (), (), 0, (), False)


# --- what the steps' replies tell: orders left alone for a stale fair price, notices of orders -----------------

TELLING = CyclePolicy(summary_from_step_events=True)


def told_summary(plan, policy: CyclePolicy = TELLING, **context):
    commands, _ = run_cycle(failures=plan, policy=policy, **context)
    return summary_of(commands)


def test_given_stale_fair_prices_in_both_modification_steps_when_summarized_then_every_account_and_failure_counts():
    summary = told_summary({
        S.MODIFY_ENTRIES: {1: Told({"stale_fair_prices": 2}), 2: Told({"stale_fair_prices": 3}, ErrorKind.REJECTED)},
        S.MODIFY_STOP_LOSSES: {1: Told({"stale_fair_prices": 1})},
    })
    assert summary.stale_fair_prices == 6


def test_given_no_order_left_alone_when_summarized_then_the_count_is_zero():
    assert told_summary({}).stale_fair_prices == 0


def test_given_a_cycle_logged_before_the_summary_told_step_findings_when_summarized_then_it_tells_none_of_them():
    plan = {S.MODIFY_ENTRIES: {1: Told({"stale_fair_prices": 2})},
            S.ARCHIVE_REJECTED: {1: Told({"archived": (archived(12, "TCS", "RMS:Blocked"),)})}}
    summary = told_summary(plan, policy=CyclePolicy(), regeneration_strategies=())
    assert (summary.stale_fair_prices, summary.notices) == (0, ("entry regeneration not enabled",))


def test_given_a_reply_repeated_or_late_when_folded_then_what_it_tells_is_not_counted_again():
    state = fold(step_issued(with_context(), S.MODIFY_ENTRIES),
                 succeeded(S.MODIFY_ENTRIES, (1,), stale_fair_prices=2),
                 succeeded(S.MODIFY_ENTRIES, (1,), stale_fair_prices=2),
                 succeeded(S.MODIFY_ENTRIES, (2,), stale_fair_prices=1))
    late = succeeded(S.MODIFY_ENTRIES, (2,), at=ms(5), stale_fair_prices=4)
    assert evolve(state, late) == state
    assert state.stale_fair_prices == 3


def test_given_a_reply_of_another_cycle_when_folded_then_its_notices_are_not_taken():
    state = step_issued(with_context(), S.ARCHIVE_REJECTED)
    other = succeeded(S.ARCHIVE_REJECTED, (1,), cycle_id="cycle-0", archived=(archived(12, "TCS", "RMS"),))
    assert evolve(state, other).step_notices == ()


def archived(order_id: int, symbol: str, reason: str, account_id: int = 1) -> ArchivedOrder:
    return ArchivedOrder(order_id=order_id, account_id=account_id, reason=reason,
                         row={"id": order_id, "symbol": symbol, "status": "REJECTED"})


def test_given_orders_archived_when_summarized_then_each_is_a_notice_with_its_symbol_and_reason():
    summary = told_summary({S.ARCHIVE_REJECTED: {
        1: Told({"archived": (archived(12, "TCS", "RMS: margin shortfall"), archived(13, "INFY", "RMS:Blocked"))}),
        2: Told({"archived": (archived(14, "SBIN", "rejected by the broker", account_id=2),)})}})
    assert summary.notices == ("order 12 TCS archived: rejected (RMS: margin shortfall)",
                               "order 13 INFY archived: rejected (RMS:Blocked)",
                               "order 14 SBIN archived: rejected (rejected by the broker)")


def regenerated(archived_order_id: int, symbol: str, attempt: int, order_id: int | None = None) -> RegeneratedEntry:
    return RegeneratedEntry(archived_order_id=archived_order_id, account_id=1, symbol=symbol, attempt=attempt,
                            order_id=order_id)


def test_given_rejected_entries_regenerated_when_summarized_then_each_is_a_notice_with_its_attempt():
    summary = told_summary({S.REGENERATE: {1: Told({"regenerated_order_ids": (12, 13), "regenerated": (
        regenerated(12, "TCS", 1), regenerated(13, "INFY", 3))})}})
    assert summary.notices == ("order 12 TCS: rejected entry regenerated (attempt 1)",
                               "order 13 INFY: rejected entry regenerated (attempt 3)")


def entry_action(order_id: int, action: str, detail: str = "") -> OrderAction:
    return OrderAction(order_id=order_id, account_id=1, leg="entry", action=action, tag=f"M{order_id}E1",
                       detail=detail)


@pytest.mark.parametrize("failure", [None, ErrorKind.REJECTED], ids=["placed", "failed"])
def test_given_regenerated_entries_sent_when_summarized_then_each_says_what_became_of_its_new_order(failure):
    summary = told_summary({S.PLACE_REGENERATED: {1: Told({
        "actions": (entry_action(20, "place"), entry_action(21, "in_flight"),
                    entry_action(22, "rejected", "RMS: margin shortfall")),
        "regenerated": (regenerated(12, "TCS", 1, order_id=20), regenerated(13, "INFY", 2, order_id=21),
                        regenerated(14, "SBIN", 1, order_id=22))}, failure)}})
    assert summary.notices == (
        "order 12 TCS: regenerated entry placed as order 20",
        "order 13 INFY: regenerated entry sent as order 21, not yet confirmed by the broker",
        "order 14 SBIN: regenerated entry not placed (order 22): RMS: margin shortfall")


def test_given_a_placement_logged_before_regenerated_entries_were_recorded_when_summarized_then_no_notice_is_made():
    summary = told_summary({S.PLACE_REGENERATED: {1: Told({"actions": (entry_action(20, "place"),)})}})
    assert summary.notices == ()


def attention(order_id: int, symbol: str, reason: str) -> OrderAttention:
    return OrderAttention(order_id=order_id, account_id=1, symbol=symbol, reason=reason)


@pytest.mark.parametrize("failure", [None, ErrorKind.REJECTED], ids=["placed", "failed"])
def test_given_trades_left_unprotected_and_entries_never_seen_when_summarized_then_each_is_a_notice(failure):
    summary = told_summary({S.PROTECT: {1: Told({
        "unprotected": (attention(7, "SBIN", "it was sent without a stop-loss price"),
                        attention(8, "TCS", "automation is paused and places no stop-loss")),
        "entries_not_seen": (attention(9, "INFY", "the broker never took it"),)}, failure)}})
    assert summary.notices == ("order 7 SBIN is running without a stop-loss: it was sent without a stop-loss price",
                               "order 8 TCS is running without a stop-loss: automation is paused and places no "
                               "stop-loss",
                               "order 9 INFY: entry never seen at the broker: the broker never took it")


def test_given_context_and_step_notices_when_summarized_then_the_contexts_come_first_and_the_steps_in_reply_order():
    summary = told_summary({
        S.PROTECT: {2: Told({"unprotected": (attention(8, "TCS", "no stop-loss price"),)})},
        S.ARCHIVE_REJECTED: {1: Told({"archived": (archived(12, "INFY", "RMS"),)})},
        S.REGENERATE: {1: Told({"regenerated": (regenerated(12, "INFY", 1),)})},
    }, awaiting_session=(4,))
    assert summary.notices == ("account 4 is waiting for a new broker session",
                               "order 8 TCS is running without a stop-loss: no stop-loss price",
                               "order 12 INFY archived: rejected (RMS)",
                               "order 12 INFY: rejected entry regenerated (attempt 1)")


def test_given_the_context_loaded_when_folded_then_it_adds_no_notice_and_no_count():
    state = with_context(accounts=BOTH, paused=True)
    assert (state.step_notices, state.stale_fair_prices) == ((), 0)
