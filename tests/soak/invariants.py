"""The invariants a soak or crash run must keep, each checked by code after the run against the real MySQL
database and the paper broker's journal. Every check returns the violations it found, in words; a run is
good when all lists are empty. Reads only: it never changes the database or the broker.

- the event log: every cycle has its start and finish and replays clean (the audit's own fold), per-user
  sequences have no gap and hash chains no break, and no two cycles of a user overlapped in time; a cycle cut
  short by a SIGKILL of the process is the one exception, and only when a kill happened after its last event,
  with, on a cluster, the cycle in flight of a replica cut off from the database (`overlaps`);
- the broker: no tag was sent again once the broker had taken an order under it; no order has two live
  stop-losses or two live take-profits;
- the database: every internal order id handed out is still in `orders` or `orders_archive`; every
  RUNNING order has its stop-loss and take-profit live at the broker.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import pymysql

from adapters.store.event_log import SqlEventLog
from adapters.store.factory import connect_store
from adapters.store.url import parse_database_url
from domain.status import OPEN_STATUSES
from domain.tags import parse_tag
from replay.audit import UserAudit
from replay.fold import CycleCheck
from service.cli.audit import span_pages


def mysql_rows(database_url: str, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
    url = parse_database_url(database_url)
    connection = pymysql.connect(host=url.host, port=url.port, user=url.user, password=url.password,
                                 database=url.database, cursorclass=pymysql.cursors.DictCursor)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())
    finally:
        connection.close()


# --- the event log -------------------------------------------------------------------------------------


def _cut_by_kill(last_at: datetime, next_at: datetime | None, kills: Sequence[datetime]) -> bool:
    return any(last_at <= kill and (next_at is None or kill <= next_at) for kill in kills)


async def _audit_checks(database_url: str) -> tuple[list[CycleCheck], list[str]]:
    store = await connect_store(database_url)
    try:
        log = SqlEventLog(store.database)
        checks: list[CycleCheck] = []
        problems: list[str] = []
        for span in await log.spans():
            audit = UserAudit(span.user_id, now=datetime.now(UTC), from_start=True)
            async for page in span_pages(log, span):
                for item in page:
                    checks.extend(audit.feed(item))
            checks.extend(audit.finish())
            problems.extend(problem.message for problem in audit.problems)
        return checks, problems
    finally:
        await store.close()


def event_log_violations(database_url: str, kills: Sequence[datetime] = (),
                         cut_offs: Sequence[tuple[datetime, datetime]] = ()) -> list[str]:
    """The audit (start, finish, replay, sequence gaps, hash chains) and the no-overlap rule (`overlaps`, which
    `cut_offs` are for), over every user's log.

    A cycle without its finish is accepted only when a process kill lies between its last event and the
    user's next cycle start (or the end of the log): the process died inside it, nothing else could finish it.
    """
    checks, violations = asyncio.run(_audit_checks(database_url))
    events = mysql_rows(database_url, "SELECT user_id, seq, cycle_id, type, at FROM monitor_events "
                                      "ORDER BY user_id, seq")
    for row in events:
        row["at"] = row["at"].replace(tzinfo=UTC)
    starts: dict[tuple[int, str], datetime] = {(r["user_id"], r["cycle_id"]): r["at"] for r in events
                                              if r["type"] == "cycle_started"}
    last_at: dict[tuple[int, str], datetime] = {}
    for row in events:
        if row["cycle_id"]:
            last_at[(row["user_id"], row["cycle_id"])] = row["at"]

    def next_start(user_id: int, after: datetime) -> datetime | None:
        later = [at for (user, _), at in starts.items() if user == user_id and at > after]
        return min(later) if later else None

    for check in checks:
        if check.clean and check.status == "finished":
            continue
        key = (check.user_id, check.cycle_id)
        killed = (check.status in ("running", "unfinished") and not check.divergences
                  and all(p.kind == "no_finish" for p in check.problems) and key in last_at
                  and _cut_by_kill(last_at[key], next_start(check.user_id, last_at[key]), kills))
        if not killed:
            violations.append(f"user {check.user_id} cycle {check.cycle_id}: {check.status}, "
                              f"{len(check.divergences)} divergences, "
                              f"{[p.message for p in check.problems]}")
    violations.extend(overlaps(events, kills, cut_offs))
    return violations


def overlaps(events: Iterable[dict[str, Any]], kills: Sequence[datetime],
             cut_offs: Sequence[tuple[datetime, datetime]] = ()) -> list[str]:
    """A CycleStarted of a user while another of the user's cycles had started and not finished, by the events'
    times: seq is the order events were written in, and a replica that could not write for a while (its
    database node down) writes its events after those another replica wrote meanwhile.

    Two are let through. A cycle a kill cut short: a kill lies between its last event and the other's start (its
    process died inside it). And a cycle of a replica cut off from the database, begun before its leases ran
    out, met by one begun after the cut (`cut_offs`: when a holding replica's node was killed, and when its
    leases had run out at the latest): that replica cannot learn that another took its users over and runs the
    cycles it began meanwhile to their step deadlines; its writes are fenced, and its order requests are judged
    on the broker's journal like everyone's. A cycle it began after its leases ran out is an overlap."""
    found: list[str] = []
    running: dict[int, dict[str, tuple[datetime, datetime]]] = defaultdict(dict)
    """Per user, each cycle started and not finished: when it started and its latest event."""
    for row in sorted(events, key=lambda row: (row["user_id"], row["at"], row["seq"])):
        user_id, cycle_id, at = row["user_id"], row["cycle_id"], row["at"]
        cycles = running[user_id]
        if row["type"] == "cycle_started":
            for other, (began, latest) in list(cycles.items()):
                if _cut_by_kill(latest, at, kills):
                    del cycles[other]
                elif not any(cut <= at and began <= leases_out for cut, leases_out in cut_offs):
                    found.append(f"user {user_id}: cycle {cycle_id} started (seq {row['seq']}) while "
                                 f"cycle {other} was running")
                    del cycles[other]
            cycles[cycle_id] = (at, at)
        elif row["type"] == "cycle_finished":
            cycles.pop(cycle_id, None)
        elif cycle_id in cycles:
            cycles[cycle_id] = (cycles[cycle_id][0], at)
    return found


def finished_cycles_since(database_url: str, since: datetime) -> dict[int, int]:
    """Per user, the cycles that both started and finished at or after `since`."""
    rows = mysql_rows(database_url, "SELECT f.user_id, COUNT(*) AS n FROM monitor_events f JOIN monitor_events s "
                                    "ON s.user_id = f.user_id AND s.cycle_id = f.cycle_id AND s.type = 'cycle_started' "
                                    "WHERE f.type = 'cycle_finished' AND s.at >= %s GROUP BY f.user_id",
                      (since.replace(tzinfo=None),))
    return {row["user_id"]: row["n"] for row in rows}


def two_cycles_each(database_url: str, user_ids: Iterable[int], timeout_s: float) -> dict[int, int]:
    """Wait until every user has finished two cycles started from now on, or `timeout_s` passes; the cycles
    each user finished by then."""
    mark = datetime.now(UTC)
    deadline = time.monotonic() + timeout_s
    while True:
        done = finished_cycles_since(database_url, mark)
        if all(done.get(u, 0) >= 2 for u in user_ids) or time.monotonic() > deadline:
            return done
        time.sleep(0.2)


# --- the broker -----------------------------------------------------------------------------------------


def duplicate_sends(journal: Sequence[dict[str, Any]]) -> list[str]:
    """A place request carrying a tag the broker had already taken an order under.

    The only same-tag re-send the design allows follows an ambiguous failure that the next order book proved
    absent: the first request never reached the book (faulted before the handler, refused, or the session was
    gone), so the journal shows no `accepted` entry for the tag before the re-send. Any request after an
    accepted one is a duplicate order in the making.
    """
    taken: dict[str, int] = {}
    found: list[str] = []
    for entry in sorted(journal, key=lambda e: e["seq"]):
        if entry["route"] != "place" or not entry["tag"]:
            continue
        tag = entry["tag"]
        if tag in taken:
            found.append(f"tag {tag} sent again (seq {entry['seq']}, {entry['outcome']}) after the broker took "
                         f"it at seq {taken[tag]}")
        elif entry["outcome"] == "accepted":
            taken[tag] = entry["seq"]
    return found


def live_exit_duplicates(journal: Sequence[dict[str, Any]]) -> list[str]:
    """Any order of ours with more than one live stop-loss, or more than one live take-profit, at the broker."""
    live: dict[tuple[str, int, str], list[str]] = defaultdict(list)
    for entry in journal:
        parsed = parse_tag(entry["tag"])
        if entry["route"] == "place" and entry["outcome"] == "accepted" and parsed and parsed[1] in ("sl", "tp") \
                and entry["status"] in OPEN_STATUSES:
            live[(entry["account"], parsed[0], parsed[1])].append(entry["tag"])
    return [f"order {order_id} ({account}) has {len(tags)} live {leg} orders: {tags}"
            for (account, order_id, leg), tags in live.items() if len(tags) > 1]


# --- the database -------------------------------------------------------------------------------------


def lost_orders(database_url: str, order_ids: Iterable[int]) -> list[str]:
    wanted = set(order_ids)
    if not wanted:
        return []
    present = {row["id"] for table in ("orders", "orders_archive")
               for row in mysql_rows(database_url, f"SELECT id FROM {table}")}
    return [f"order {order_id} is in neither orders nor orders_archive" for order_id in sorted(wanted - present)]


def order_violations(database_url: str, journal: Sequence[dict[str, Any]],
                     orders_placed: Iterable[int]) -> dict[str, list[str]]:
    """What no run may do to orders, each check by name: send a tag again, keep two live exits, lose an order."""
    return {
        "tags sent after the broker took them": duplicate_sends(journal),
        "two live SLs or TPs": live_exit_duplicates(journal),
        "lost orders": lost_orders(database_url, orders_placed),
    }


def unprotected_running_orders(database_url: str, journal: Sequence[dict[str, Any]]) -> list[str]:
    """RUNNING orders whose stop-loss or take-profit is not a live order at the broker."""
    status_of = {(e["account"], e["app_order_id"]): e["status"] for e in journal
                 if e["route"] == "place" and e["outcome"] == "accepted"}
    rows = mysql_rows(database_url, "SELECT o.id, a.client_id, o.sl_order_id, o.tp_order_id FROM orders o "
                                    "JOIN accounts a ON a.id = o.account_id WHERE o.status = 'RUNNING'")
    found = []
    for row in rows:
        for leg in ("sl", "tp"):
            status = status_of.get((row["client_id"], row[f"{leg}_order_id"]))
            if status not in OPEN_STATUSES:
                found.append(f"RUNNING order {row['id']} ({row['client_id']}): {leg} "
                             f"{row[f'{leg}_order_id']} is {status or 'absent'} at the broker")
    return found

