"""`run.py audit [--since T]`: check every cycle of every user in the event log; exit 1 on any finding.

Reads each user's events page by page in sequence order (EventLogScan), judges every cycle with
replay.audit, and prints each cycle that diverges from the decider or is incomplete, each undecodable
event, each gap in a user's sequence (a deleted event) and each event that breaks its user's hash chain
(edited, moved, deleted or stripped of its hash), then a note on events written before the chain existed
and a tally. A progress bar is drawn only
when stdout is a terminal. Exit status: 0 clean (running cycles are fine), 1 with any finding.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TextIO

from adapters.store.event_log import SqlEventLog
from adapters.store.port import EventLogScan, LoggedEvent, UndecodableEvent, UserEventSpan
from replay.audit import UserAudit
from replay.fold import CycleCheck, Problem
from replay.render import check_lines, local_time, verdict
from replay.timeline import counted
from service.cli.database_option import add_database_argument, guarded, run_with_store
from service.cli.time_option import parse_time

PAGE = 2000
"""Events read per query."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="check every cycle of every user against the decider; exit 1 on any divergence or gap",
        description="Re-fold every logged cycle through the decider and check it issued exactly the logged "
        "commands, that each cycle has its start and finish, that no user's sequence has a gap, and that "
        "every event matches its user's hash chain.",
    )
    add_database_argument(parser)
    parser.add_argument("--since", type=parse_time, metavar="T",
                        help="only events at or after T (ISO 8601; no offset means Asia/Kolkata); "
                        "a cycle already under way at T is counted, not checked")
    parser.set_defaults(handler=guarded(run_audit))


class Progress:
    """A one-line bar on a terminal; nothing at all otherwise."""

    def __init__(self, out: TextIO, total: int) -> None:
        self._out = out
        self._total = max(total, 1)
        self._shown = -1
        self.enabled = out.isatty()

    def update(self, done: int) -> None:
        percent = min(100, done * 100 // self._total)
        if not self.enabled or percent == self._shown:
            return
        self._shown = percent
        filled = percent * 30 // 100
        self._out.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {percent:3d}% {done:,}/{self._total:,} events")
        self._out.flush()

    def clear(self) -> None:
        if self.enabled and self._shown >= 0:
            self._out.write("\r\033[K")
            self._out.flush()
            self._shown = -1


class Tally:
    def __init__(self) -> None:
        self.users = self.events = self.clean = self.running = self.begun_before = self.bad_cycles = 0
        self.log_problems = self.unchained = 0

    @property
    def failed(self) -> bool:
        return bool(self.bad_cycles or self.log_problems)

    def line(self) -> str:
        cycles = self.clean + self.running + self.bad_cycles
        parts = [f"{self.clean} clean", f"{self.running} running"]
        if self.begun_before:
            parts.append(f"{self.begun_before} begun before the range, not checked")
        result = "FAILED" if self.failed else "OK"
        unchained = f" ({self.unchained} written before the hash chain)" if self.unchained else ""
        return (f"audit {result}: {counted(self.users, 'user')}, {counted(self.events, 'event')}{unchained}, "
                f"{counted(cycles, 'cycle')} ({', '.join(parts)}); {counted(self.bad_cycles, 'cycle')} with "
                f"findings, {counted(self.log_problems, 'other finding')}")


def run_audit(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    tally = run_with_store(args.database,
                           lambda store: audit_log(SqlEventLog(store.database), args.since, now, sys.stdout))
    print(tally.line())
    return 1 if tally.failed else 0


async def span_pages(event_log: EventLogScan, span: UserEventSpan
                     ) -> AsyncIterator[list[LoggedEvent | UndecodableEvent]]:
    """The user's events of `span` in sequence order, up to PAGE at a time."""
    seq = span.first_seq
    while seq <= span.last_seq:
        page = await event_log.scan(span.user_id, seq, span.last_seq, PAGE)
        if not page:
            return
        yield page
        seq = page[-1].seq + 1


async def audit_log(event_log: EventLogScan, since: datetime | None, now: datetime, out: TextIO) -> Tally:
    """Audit every user's events from `since` (or from the start), printing findings to `out` as they come."""
    spans = await event_log.spans(since)
    tally = Tally()
    tally.users = len(spans)
    progress = Progress(out, sum(s.last_seq - s.first_seq + 1 for s in spans))
    covered = 0

    def report(lines: list[str]) -> None:
        progress.clear()
        for line in lines:
            print(line, file=out)

    def judge(checks: list[CycleCheck]) -> None:
        for check in checks:
            if check.clean:
                tally.clean += check.status != "running"
                tally.running += check.status == "running"
            else:
                tally.bad_cycles += 1
                report([f"user {check.user_id} cycle {check.cycle_id}: {verdict(check)}",
                        *("  " + line for line in check_lines(check, every_divergence=False))])

    def note(problems: list[Problem]) -> None:
        tally.log_problems += len(problems)
        report([problem.message for problem in problems])

    for span in spans:
        audit = UserAudit(span.user_id, now=now, from_start=since is None or span.first_seq == 1)
        read_to = span.first_seq - 1
        async for page in span_pages(event_log, span):
            for item in page:
                judge(audit.feed(item))
            tally.events += len(page)
            covered += page[-1].seq - read_to
            read_to = page[-1].seq
            note(audit.problems)
            audit.problems.clear()
            progress.update(covered)
        judge(audit.finish())
        note(audit.problems)
        if (unchained := audit.chain.unchained_note()) is not None:
            tally.unchained += len(audit.chain.unchained)
            report([unchained])
        tally.begun_before += len(audit.begun_before_range)
    progress.clear()
    if since is not None:
        print(f"audited events from {local_time(since)}", file=out)
    return tally
