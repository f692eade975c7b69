"""The audit of one user's log, streamed: events go in page by page, verdicts come out as cycles close.

Holds only the open cycles: each is judged by `fold.check_cycle` at its `CycleFinished` (late replies after it are
accepted), the rest when the stream ends; every seq is checked for gaps and every row against the hash chain.
Started mid-log (`since`), the cycle begun before the range is counted, not judged. Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import datetime

from adapters.store.port import LoggedEvent, UndecodableEvent
from messages.events import CycleFinished, CycleStarted
from replay.chain import ChainTracker
from replay.fold import CycleCheck, Problem, SequenceTracker, after_finish_problem, check_cycle


class UserAudit:
    def __init__(self, user_id: int, *, now: datetime, from_start: bool) -> None:
        """`from_start`: the stream begins at the user's first event ever (seq 1), not mid-log."""
        self.user_id = user_id
        self.problems: list[Problem] = []
        self.begun_before_range: set[str] = set()
        self._now = now
        self._sequence = SequenceTracker(user_id, 1 if from_start else None)
        self.chain = ChainTracker(user_id, from_start=from_start)
        self._in_head = not from_start
        self._open: dict[str, list[LoggedEvent | UndecodableEvent]] = {}
        self._finished: set[str] = set()

    def feed(self, item: LoggedEvent | UndecodableEvent) -> list[CycleCheck]:
        """Take the next event (in seq order); the verdicts on the cycles it closes."""
        gap = self._sequence.see(item.seq)
        if gap is not None:
            self.problems.append(gap)
        if item.link is not None and (broken := self.chain.see(item.seq, item.link)) is not None:
            self.problems.append(broken)
        cycle_id = item.cycle_id if isinstance(item, UndecodableEvent) else item.event.cycle_id
        starts = isinstance(item, LoggedEvent) and isinstance(item.event, CycleStarted)
        if not cycle_id:
            if isinstance(item, UndecodableEvent):
                self.problems.append(Problem(kind="undecodable", seq=item.seq, message=f"user {self.user_id}: "
                                             f"event seq {item.seq} ({item.type}) does not decode: {item.error}"))
            return []
        if starts:
            self._in_head = False
        if cycle_id in self.begun_before_range:
            return []
        if cycle_id in self._finished:
            self._after_finish(item)
            return []
        if self._in_head and cycle_id not in self._open:
            self.begun_before_range.add(cycle_id)
            return []
        self._open.setdefault(cycle_id, []).append(item)
        if isinstance(item, LoggedEvent) and isinstance(item.event, CycleFinished):
            self._finished.add(cycle_id)
            return [check_cycle(self.user_id, cycle_id, self._open.pop(cycle_id), self._now)]
        return []

    def finish(self) -> list[CycleCheck]:
        """The verdicts on the cycles still open at the end of the stream (running, or incomplete)."""
        checks = [check_cycle(self.user_id, cycle_id, items, self._now) for cycle_id, items in self._open.items()]
        self._open.clear()
        return checks

    def _after_finish(self, item: LoggedEvent | UndecodableEvent) -> None:
        if isinstance(item, UndecodableEvent):
            problem: Problem | None = Problem(kind="undecodable", seq=item.seq, message=f"user {self.user_id} "
                                              f"cycle {item.cycle_id}: event seq {item.seq} ({item.type}) does "
                                              f"not decode: {item.error}")
        else:
            problem = after_finish_problem(item)
            if problem is not None:
                problem = Problem(kind=problem.kind, seq=problem.seq,
                                  message=f"user {self.user_id} cycle {item.event.cycle_id}: {problem.message}")
        if problem is not None:
            self.problems.append(problem)
