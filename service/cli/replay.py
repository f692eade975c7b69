"""`run.py replay --user NAME [--cycle ID | --last N | --since T [--until T]] [--json]`: a user's cycles as
checked timelines.

Each cycle is read from the event log, re-folded through the decider (replay.fold) and printed as a
timeline (replay.render), or as one JSON object per line with `--json`. Exit status 1 if any cycle
printed diverges or is incomplete, so a script can tell.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import msgspec

from adapters.store.event_log import SqlEventLog
from adapters.store.repository import SqlStore
from replay.render import json_line, timeline_text
from replay.timeline import Timeline, cycle_timeline
from service.cli.database_option import add_database_argument, fail, guarded, run_with_store
from service.cli.time_option import parse_time

RANGE_LIMIT = 100_000
"""At most this many cycles for one `--since/--until` range."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="print a user's cycles as timelines and check each against the decider",
        description="Print cycles as timelines (times in Asia/Kolkata) and check that the decider, "
        "re-run on the logged events, issues exactly the logged commands. Default: the last cycle.",
    )
    add_database_argument(parser)
    parser.add_argument("--user", required=True, metavar="NAME", help="the user's name")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--cycle", metavar="ID", help="one cycle by its id")
    which.add_argument("--last", type=int, metavar="N", help="the user's last N cycles")
    which.add_argument("--since", type=parse_time, metavar="T",
                       help="cycles with an event at or after T (ISO 8601; no offset means Asia/Kolkata)")
    parser.add_argument("--until", type=parse_time, metavar="T", help="with --since: events before T")
    parser.add_argument("--json", action="store_true", help="one JSON object per cycle per line (times UTC)")
    parser.set_defaults(handler=guarded(run_replay))


def run_replay(args: argparse.Namespace) -> int:
    if args.until is not None and args.since is None:
        return fail("--until needs --since")
    if args.last is not None and args.last < 1:
        return fail("--last must be at least 1")
    try:
        found = run_with_store(args.database, lambda store: _timelines(store, args))
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return fail(f"an event of this user does not decode ({exc}); `run.py audit` names its seq")
    if isinstance(found, str):
        return fail(found)
    for number, timeline in enumerate(found):
        if args.json:
            print(json_line(timeline))
        else:
            print(("\n" if number else "") + timeline_text(timeline, user_name=args.user))
    if not found and not args.json:
        print("no cycles logged for this user in that range", file=sys.stderr)
    return 0 if all(t.check.clean for t in found) else 1


async def _timelines(store: SqlStore, args: argparse.Namespace) -> list[Timeline] | str:
    user_id = await store.user_id(args.user)
    if user_id is None:
        return f"no user named {args.user!r}"
    event_log = SqlEventLog(store.database)
    now = datetime.now(UTC)
    if args.cycle is not None:
        timeline = await cycle_timeline(event_log, user_id, args.cycle, now)
        return [timeline] if timeline is not None else f"user {args.user!r} has no cycle {args.cycle!r}"
    if args.since is not None:
        records = await event_log.cycles(user_id, limit=RANGE_LIMIT, since=args.since, until=args.until)
        if len(records) == RANGE_LIMIT:
            print(f"warning: more than {RANGE_LIMIT} cycles in that range; showing the newest {RANGE_LIMIT}",
                  file=sys.stderr)
    else:
        records = await event_log.cycles(user_id, limit=args.last or 1)
    timelines = [await cycle_timeline(event_log, user_id, r.cycle_id, now) for r in reversed(records)]
    return [t for t in timelines if t is not None]
