"""Re-folds a cycle's stored events through the decider and judges them: replay's verdict on one cycle.

Folded with `evolve`, the log must show what the UserMonitor would have done: each `CommandIssued` is what `decide`
returned, right after its cause; after `CycleFinished` or `MonitorRestarted` only late replies follow. Also owns
the gapless-seq rule and when an unfinished cycle is still running (README.md, Auditing a cycle). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal, get_args

import msgspec

from actors.user_monitor.cycle import CycleState, decide, evolve, initial_state
from adapters.store.port import LoggedEvent, UndecodableEvent
from messages.commands import Command
from messages.events import (
    CommandIssued,
    CycleFinished,
    CycleStarted,
    Event,
    MonitorRestarted,
    StepFailed,
    StepSucceeded,
)

RUNNING_SLACK = timedelta(seconds=60)
"""How much longer than its pending deadline an unfinished cycle may stay silent and still be running."""

STEP_OUTCOMES: tuple[type, ...] = (*get_args(StepSucceeded), *get_args(StepFailed))

CycleStatus = Literal["finished", "running", "unfinished", "interrupted"]
ProblemKind = Literal[
    "no_start", "start_not_first", "no_finish", "interrupted", "after_finish", "error_count", "undecodable",
    "seq_gap", "hash_chain",
]


class Divergence(msgspec.Struct, frozen=True, kw_only=True):
    """At event `index` of the cycle the log and the decider disagree.

    `issued` None: `decide` returned `expected` but the log went on without issuing it. `expected` None:
    the log has a command where `decide` had nothing to issue.
    """

    index: int
    seq: int | None
    expected: Command | None
    issued: Command | None


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """Something that makes a cycle (or a user's log) incomplete or untrustworthy, other than a divergence."""

    kind: ProblemKind
    message: str
    seq: int | None = None
    index: int | None = None


class CycleCheck(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict on one cycle; `ignored` are the indices of replies `evolve` did not fold (late ones)."""

    user_id: int
    cycle_id: str
    status: CycleStatus
    events: int
    error_count: int
    divergences: tuple[Divergence, ...] = ()
    problems: tuple[Problem, ...] = ()
    ignored: tuple[int, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.divergences and not self.problems


def is_step_outcome(event: Event) -> bool:
    return isinstance(event, STEP_OUTCOMES)


def after_finish_problem(logged: LoggedEvent, index: int | None = None) -> Problem | None:
    """A finished (or interrupted) cycle may still receive late replies (logged, ignored); nothing else."""
    if is_step_outcome(logged.event):
        return None
    return Problem(kind="after_finish", seq=logged.seq, index=index,
                   message=f"{type(logged.event).__name__} logged after the cycle ended")


def check_cycle(
    user_id: int, cycle_id: str, items: Sequence[LoggedEvent | UndecodableEvent], now: datetime
) -> CycleCheck:
    """Fold and judge one cycle of the user (its events in sequence order); `now` tells running from unfinished."""
    events = [item for item in items if isinstance(item, LoggedEvent)]
    problems: list[Problem] = [
        Problem(kind="undecodable", seq=item.seq, index=index,
                message=f"event seq {item.seq} ({item.type}) does not decode: {item.error}")
        for index, item in enumerate(items)
        if isinstance(item, UndecodableEvent)
    ]
    if problems or not events or not isinstance(events[0].event, CycleStarted):
        if events and not isinstance(events[0].event, CycleStarted):
            problems.append(Problem(kind="no_start", seq=events[0].seq, index=0,
                                    message="the cycle's first event is not CycleStarted"))
        status = _status(events, None, now)
        return CycleCheck(user_id=user_id, cycle_id=cycle_id, status=status, events=len(items), error_count=0,
                          problems=(*problems, *_incomplete(status, events)))
    return _fold(user_id, cycle_id, events, now)


def _fold(user_id: int, cycle_id: str, events: Sequence[LoggedEvent], now: datetime) -> CycleCheck:
    state = initial_state(user_id)
    divergences: list[Divergence] = []
    problems: list[Problem] = []
    ignored: list[int] = []
    expected: Command | None = None
    finished = interrupted = False
    for index, logged in enumerate(events):
        event = logged.event
        if finished or interrupted:
            problem = after_finish_problem(logged, index)
            if problem is None:
                ignored.append(index)
            else:
                problems.append(problem)
            continue
        if isinstance(event, MonitorRestarted):
            interrupted, expected = True, None  # the new monitor starts afresh and folds nothing more of it
            continue
        if isinstance(event, CycleStarted) and index > 0:
            problems.append(Problem(kind="start_not_first", seq=logged.seq, index=index,
                                    message="a second CycleStarted inside the cycle"))
        if isinstance(event, CommandIssued):
            if event.command != expected:
                divergences.append(Divergence(index=index, seq=logged.seq, expected=expected, issued=event.command))
        elif expected is not None:
            divergences.append(Divergence(index=index, seq=logged.seq, expected=expected, issued=None))
        before = state
        state = evolve(state, event)
        if state is before and is_step_outcome(event):
            ignored.append(index)
        expected = decide(state)
        if isinstance(event, CycleFinished):
            finished = True
            if expected is not None:
                divergences.append(Divergence(index=index + 1, seq=None, expected=expected, issued=None))
            if event.error_count != len(state.errors):
                problems.append(Problem(kind="error_count", seq=logged.seq, index=index,
                                        message=f"CycleFinished counts {event.error_count} errors, the fold "
                                                f"{len(state.errors)}"))
    status = _status(events, state, now)
    if status != "running" and not finished and expected is not None:
        divergences.append(Divergence(index=len(events), seq=None, expected=expected, issued=None))
    return CycleCheck(user_id=state.user_id, cycle_id=cycle_id, status=status, events=len(events),
                      error_count=len(state.errors), divergences=tuple(divergences),
                      problems=(*problems, *_incomplete(status, events)), ignored=tuple(ignored))


def _status(events: Sequence[LoggedEvent], state: CycleState | None, now: datetime) -> CycleStatus:
    if any(isinstance(e.event, CycleFinished) for e in events):
        return "finished"
    if any(isinstance(e.event, MonitorRestarted) for e in events):
        return "interrupted"
    if not events:
        return "unfinished"
    return "running" if now - events[-1].event.at <= _silence_allowed(events, state) else "unfinished"


def _silence_allowed(events: Sequence[LoggedEvent], state: CycleState | None) -> timedelta:
    in_flight = state.in_flight() if state is not None else None
    if in_flight is None:
        return RUNNING_SLACK
    deadlines = [e.event.deadline_s for e in events
                 if isinstance(e.event, CommandIssued) and e.event.command.step is in_flight.step]
    return RUNNING_SLACK + timedelta(seconds=deadlines[0] or 0.0) if deadlines else RUNNING_SLACK


def _incomplete(status: CycleStatus, events: Sequence[LoggedEvent]) -> tuple[Problem, ...]:
    if status == "unfinished":
        return (Problem(kind="no_finish", message="no CycleFinished, and the cycle has been silent too long "
                                                  "to be running"),)
    if status == "interrupted":
        reasons = [e.event.reason for e in events if isinstance(e.event, MonitorRestarted)]
        return (Problem(kind="interrupted", message=f"no CycleFinished: the monitor was restarted "
                                                    f"({', '.join(reasons)})"),)
    return ()


class SequenceTracker:
    """Follows one user's seq numbers in order; each gap is reported as a `seq_gap` problem."""

    def __init__(self, user_id: int, first_expected: int | None) -> None:
        self.user_id = user_id
        self._next = first_expected

    def see(self, seq: int) -> Problem | None:
        expected, self._next = self._next, seq + 1
        if expected is None or seq == expected:
            return None
        if seq < expected:
            return Problem(kind="seq_gap", seq=seq, message=f"user {self.user_id}: seq {seq} out of order "
                                                            f"(expected {expected})")
        missing = seq - expected
        span = f"{expected}" if missing == 1 else f"{expected}..{seq - 1}"
        deleted = f"{missing} event{'s' if missing > 1 else ''} deleted"
        return Problem(kind="seq_gap", seq=expected, message=f"user {self.user_id}: seq {span} missing ({deleted})")


def sequence_gaps(user_id: int, seqs: Sequence[int], first_expected: int | None = None) -> list[Problem]:
    """Every gap in a user's seq numbers (given in order), from `first_expected` if known."""
    tracker = SequenceTracker(user_id, first_expected)
    return [problem for seq in seqs if (problem := tracker.see(seq)) is not None]
