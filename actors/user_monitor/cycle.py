"""The monitoring cycle as a pure decider: `evolve(state, event) -> state`, `decide(state) -> command`.

This module owns the whole conditional execution matrix of DESIGN.md and nothing else: no I/O, no clock
reads, no pykka. `decide` reads the matrix top to bottom and returns the next command, or None while a
command is in flight or once the cycle is finished. Failures are scoped per account; with
`isolate_account_failures = False` one account's failure in a gating step stops every account. It also
gathers what the summary tells besides outcomes: notices, and the orders left alone for a stale fair price.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.errors import ErrorKind
from messages.commands import (
    ArchiveRejected,
    Command,
    ComputePnl,
    FetchSnapshots,
    FinishCycle,
    LoadCycleContext,
    ModifyEntries,
    ModifyStopLosses,
    PlaceProtectiveOrders,
    PlaceRegenerated,
    RegenerateEntries,
    ReportErrors,
    SendSummary,
    SyncOrders,
)
from messages.common import CycleError, CycleSummary, Outcome, Step, StepReport
from messages.events import (
    CommandIssued,
    CycleContextLoaded,
    CycleFinished,
    CyclePolicy,
    CycleStarted,
    EntriesRegenerated,
    Event,
    OrderAction,
    ProtectiveOrdersFailed,
    ProtectiveOrdersPlaced,
    RegeneratedEntry,
    RegeneratedPlaced,
    RegeneratedPlacementFailed,
    RejectedArchived,
    StepTimedOut,
)

ACCOUNT_STEPS: tuple[Step, ...] = (
    Step.FETCH,
    Step.PNL,
    Step.SYNC,
    Step.PROTECT,
    Step.MODIFY_ENTRIES,
    Step.MODIFY_STOP_LOSSES,
    Step.ARCHIVE_REJECTED,
    Step.REGENERATE,
    Step.PLACE_REGENERATED,
)
"""Steps that run per account; the others (context, report, summary, finish) run once per cycle."""


class AccountResult(msgspec.Struct, frozen=True, kw_only=True):
    account_id: int | None
    outcome: Outcome
    at: datetime


class StepRun(msgspec.Struct, frozen=True, kw_only=True):
    """A command that was issued in this cycle and what has come back for it so far."""

    step: Step
    account_ids: tuple[int, ...]
    issued_at: datetime
    results: tuple[AccountResult, ...] = ()

    def pending(self) -> tuple[int, ...]:
        answered = {r.account_id for r in self.results}
        return tuple(a for a in self.account_ids if a not in answered)

    def complete(self) -> bool:
        if self.account_ids:
            return not self.pending()
        return bool(self.results)


class CycleState(msgspec.Struct, frozen=True, kw_only=True):
    """Everything `decide` needs about the user's current (or last) cycle."""

    user_id: int
    cycle_id: str | None = None
    started_at: datetime | None = None
    policy: CyclePolicy = CyclePolicy()
    context: CycleContextLoaded | None = None
    runs: tuple[StepRun, ...] = ()
    errors: tuple[CycleError, ...] = ()
    finished: bool = False
    step_notices: tuple[str, ...] = ()
    """What the steps' replies told of orders (archived, regenerated, unprotected, never seen), in fold order."""
    stale_fair_prices: int = 0
    """Orders the modify-entries and modify-stop-losses steps left alone for want of a fresh fair price, summed
    over their replies."""

    @property
    def running(self) -> bool:
        return self.cycle_id is not None and not self.finished

    @property
    def account_ids(self) -> tuple[int, ...]:
        return self.context.account_ids if self.context else ()

    def run_of(self, step: Step) -> StepRun | None:
        for run in self.runs:
            if run.step is step:
                return run
        return None

    def in_flight(self) -> StepRun | None:
        for run in self.runs:
            if not run.complete():
                return run
        return None


def initial_state(user_id: int) -> CycleState:
    return CycleState(user_id=user_id)


# --- evolve ---------------------------------------------------------------------------------------


def evolve(state: CycleState, event: Event) -> CycleState:
    """Fold one event into the state. Events of another cycle, or replies nobody waits for, change nothing."""
    if isinstance(event, CycleStarted):
        if state.running:
            return state
        return CycleState(
            user_id=state.user_id, cycle_id=event.cycle_id, started_at=event.at, policy=event.policy
        )
    if not state.running or event.cycle_id != state.cycle_id:
        return state
    match event:
        case CommandIssued(command=command):
            if state.run_of(command.step) is not None:
                return state
            run = StepRun(step=command.step, account_ids=command.account_ids, issued_at=event.at)
            return msgspec.structs.replace(state, runs=(*state.runs, run))
        case StepTimedOut(step=step):
            return _record(state, step, event.account_ids, Outcome.TIMED_OUT, event.at,
                           (ErrorKind.TIMEOUT, f"no reply within {event.deadline_s:g} s"))
        case CycleFinished():
            return msgspec.structs.replace(state, finished=True)
        case _ if hasattr(event, "succeeded"):
            return _fold_step_outcome(state, event)
    return state


def _fold_step_outcome(state: CycleState, event: Event) -> CycleState:
    """Record the reply's outcome and, once it is recorded, what it tells (a late reply tells nothing)."""
    step: Step = event.step  # type: ignore[union-attr]
    if event.succeeded:  # type: ignore[union-attr]
        folded = _record(state, step, event.account_ids, Outcome.OK, event.at)
    else:
        folded = _record(state, step, event.account_ids, Outcome.FAILED, event.at,
                         (event.kind, event.message))  # type: ignore[union-attr]
    if folded is state:
        return state
    if isinstance(event, CycleContextLoaded):
        return msgspec.structs.replace(folded, context=event)
    return msgspec.structs.replace(folded, step_notices=folded.step_notices + _step_notices(event),
                                   stale_fair_prices=folded.stale_fair_prices + getattr(event, "stale_fair_prices", 0))


def _record(
    state: CycleState,
    step: Step,
    account_ids: tuple[int, ...],
    outcome: Outcome,
    at: datetime,
    error: tuple[ErrorKind, str] | None = None,
) -> CycleState:
    """Record `outcome` for the accounts of `step` still waiting, and `error` (kind, message) for each of them;
    late or unknown replies are ignored."""
    run = state.run_of(step)
    if run is None or run.complete():
        return state
    if run.account_ids:
        targets: tuple[int | None, ...] = tuple(a for a in run.pending() if a in account_ids)
    else:
        targets = (None,)
    if not targets:
        return state
    results = run.results + tuple(AccountResult(account_id=a, outcome=outcome, at=at) for a in targets)
    runs = tuple(msgspec.structs.replace(r, results=results) if r is run else r for r in state.runs)
    errors = state.errors
    if error is not None:
        kind, message = error
        errors += tuple(
            CycleError(step=step, account_id=a, kind=ErrorKind(kind), message=message, at=at) for a in targets
        )
    return msgspec.structs.replace(state, runs=runs, errors=errors)


# --- decide ---------------------------------------------------------------------------------------


def passed(state: CycleState, step: Step) -> tuple[int, ...]:
    """Accounts for which `step` succeeded; in strict mode all of them, or none if any one failed."""
    run = state.run_of(step)
    if run is None:
        return ()
    ok = tuple(r.account_id for r in run.results if r.outcome is Outcome.OK and r.account_id is not None)
    if not state.policy.isolate_account_failures and len(ok) != len(run.account_ids):
        return ()
    return ok


PIPELINE: tuple[Step, ...] = (Step.CONTEXT, *ACCOUNT_STEPS, Step.REPORT, Step.SUMMARY, Step.FINISH)


def decide(state: CycleState) -> Command | None:
    """The next command of the running cycle, or None while one is in flight or after it finished.

    The pipeline only moves forward: a step passed over (not eligible then) is never issued later.
    """
    if not state.running or state.in_flight() is not None:
        return None
    after_last_issued = PIPELINE.index(state.runs[-1].step) + 1 if state.runs else 0
    for step in PIPELINE[after_last_issued:]:
        command = _command_for(step, state)
        if command is not None:
            return command
    return None


def _command_for(step: Step, state: CycleState) -> Command | None:
    """The matrix, one row per case: the command for `step`, or None when the step does not run."""
    ids = {"user_id": state.user_id, "cycle_id": state.cycle_id}
    context = state.context
    paused = bool(context and context.paused)
    protects = not paused or state.policy.protect_while_paused
    match step:
        case Step.CONTEXT:
            return LoadCycleContext(**ids)
        case Step.FETCH:
            return _for_accounts(FetchSnapshots, ids, state.account_ids)
        case Step.PNL:
            return _for_accounts(ComputePnl, ids, passed(state, Step.FETCH))
        case Step.SYNC:
            return _for_accounts(SyncOrders, ids, passed(state, Step.PNL))
        case Step.PROTECT:
            return _for_accounts(
                PlaceProtectiveOrders, ids, passed(state, Step.SYNC), oco_cancels_only=not protects,
                cancel_open_entries=paused and state.policy.cancel_entries_when_paused,
            )
        case Step.MODIFY_ENTRIES if not paused:
            return _for_accounts(ModifyEntries, ids, passed(state, Step.PNL))
        case Step.MODIFY_STOP_LOSSES if protects:
            return _for_accounts(ModifyStopLosses, ids, passed(state, Step.PNL))
        case Step.ARCHIVE_REJECTED:
            return _for_accounts(ArchiveRejected, ids, passed(state, Step.PNL))
        case Step.REGENERATE if not paused and context and context.regeneration_strategies:
            return _for_accounts(RegenerateEntries, ids, passed(state, Step.PNL),
                                 strategies=context.regeneration_strategies)
        case Step.PLACE_REGENERATED if not paused:
            return _for_accounts(PlaceRegenerated, ids, passed(state, Step.REGENERATE))
        case Step.REPORT if state.errors:
            return ReportErrors(**ids, account_ids=state.account_ids, errors=state.errors)
        case Step.SUMMARY:
            return SendSummary(**ids, account_ids=state.account_ids, summary=summarize(state))
        case Step.FINISH:
            return FinishCycle(**ids, account_ids=state.account_ids)
    return None


def _for_accounts(command_type: type, ids: dict, account_ids: tuple[int, ...], **fields) -> Command | None:
    return command_type(**ids, account_ids=account_ids, **fields) if account_ids else None


# --- summary --------------------------------------------------------------------------------------


def summarize(state: CycleState) -> CycleSummary:
    """Per step and account: outcome and duration; plus notices the user should see that are not errors."""
    reports: list[StepReport] = []
    for step in ACCOUNT_STEPS:
        run = state.run_of(step)
        by_account = {r.account_id: r for r in run.results} if run else {}
        for account_id in state.account_ids:
            result = by_account.get(account_id)
            if result is None:
                reports.append(StepReport(step=step, account_id=account_id, outcome=Outcome.SKIPPED))
            else:
                reports.append(StepReport(step=step, account_id=account_id, outcome=result.outcome,
                                          duration_ms=max(_duration_ms(run, result), 0)))
    report_run = state.run_of(Step.REPORT)
    if report_run and report_run.results:
        result = report_run.results[0]
        reports.append(StepReport(step=Step.REPORT, account_id=None, outcome=result.outcome,
                                  duration_ms=_duration_ms(report_run, result)))
    told = state.policy.summary_from_step_events
    return CycleSummary(
        user_id=state.user_id,
        cycle_id=state.cycle_id or "",
        started_at=state.started_at,
        account_ids=state.account_ids,
        steps=tuple(reports),
        error_count=len(state.errors),
        notices=_notices(state) + (state.step_notices if told else ()),
        paused=bool(state.context and state.context.paused),
        stale_fair_prices=state.stale_fair_prices if told else 0,
    )


def _paused_notice(policy: CyclePolicy, pause_reason: str) -> str:
    """What a paused cycle sends, as the summary tells it."""
    reason = f": {pause_reason}" if pause_reason else ""
    if not policy.protect_while_paused:
        return f"automation paused{reason}; only OCO cancels are sent"
    entries = "open entries are cancelled" if policy.cancel_entries_when_paused else "open entries are left as they are"
    return (f"automation paused{reason}; no entries are placed, modified or regenerated ({entries}); "
            "running trades keep getting their stop-loss and take-profit")


def _duration_ms(run: StepRun, result: AccountResult) -> int:
    """Milliseconds from the command to the reply, truncated."""
    return int((result.at - run.issued_at).total_seconds() * 1000)


def _notices(state: CycleState) -> tuple[str, ...]:
    context = state.context
    if context is None:
        return ()
    notices: list[str] = []
    if not context.account_ids:
        notices.append("no active accounts: nothing to monitor")
    for account_id in context.awaiting_session:
        notices.append(f"account {account_id} is waiting for a new broker session")
    if context.paused:
        notices.append(_paused_notice(state.policy, context.pause_reason))
    elif not context.regeneration_strategies:
        notices.append("entry regeneration not enabled")
    return tuple(notices)


def _step_notices(event: Event) -> tuple[str, ...]:
    """One notice for each order a step's reply tells of: archived, regenerated and placed again,
    running without a stop-loss, or an entry never seen at the broker."""
    match event:
        case RejectedArchived(archived=archived):
            return tuple(f"order {a.order_id} {a.row.get('symbol')} archived: rejected ({a.reason})" for a in archived)
        case EntriesRegenerated(regenerated=regenerated):
            return tuple(f"order {e.archived_order_id} {e.symbol}: rejected entry regenerated (attempt {e.attempt})"
                         for e in regenerated)
        case RegeneratedPlaced(actions=actions, regenerated=regenerated) | \
                RegeneratedPlacementFailed(actions=actions, regenerated=regenerated):
            made = {e.order_id: e for e in regenerated}
            return tuple(_placed_notice(made[a.order_id], a) for a in actions if a.order_id in made)
        case ProtectiveOrdersPlaced(unprotected=unprotected, entries_not_seen=not_seen) | \
                ProtectiveOrdersFailed(unprotected=unprotected, entries_not_seen=not_seen):
            return (*(f"order {o.order_id} {o.symbol} is running without a stop-loss: {o.reason}" for o in unprotected),
                    *(f"order {o.order_id} {o.symbol}: entry never seen at the broker: {o.reason}" for o in not_seen))
    return ()


def _placed_notice(entry: RegeneratedEntry, action: OrderAction) -> str:
    if action.action == "place":
        what = f"placed as order {action.order_id}"
    elif action.action == "in_flight":
        what = f"sent as order {action.order_id}, not yet confirmed by the broker"
    else:
        what = f"not placed (order {action.order_id}): {action.detail}"
    return f"order {entry.archived_order_id} {entry.symbol}: regenerated entry {what}"
