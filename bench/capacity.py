"""Capacity counts: what a user's monitoring cycle costs the database, as MariaDB itself counts it, per user per cycle.

Counts, not times, so a busy machine changes none of the figures: statements by kind (`Com_*`, `Questions`), bytes
the server received and sent, rows written, updated and deleted (`Handler_*`) and read and sent (`Rows_*`), the
redo log's bytes, the binary log's bytes (ROW format, without the statements' text: the row events a Galera write
set or a replica carries), and the event log's rows and bytes. docs/SCALING.md turns them into a capacity model.

The service is the real runtime (`service.runtime.Runtime`, as `bench/cycle.py` runs it), monitoring `--users`
users of `bench/scale.py`'s kind (2 accounts; each account's book: a filled entry with its live SL and TP, and a
resting entry; seeded by `bench/scale.py`'s own functions and adopted by the warm-up's first cycle), against the
paper broker in a process of its own (`bench/_paper.py`), on a MariaDB server of the benchmark's own
(`bench/_own_server.py`: a temporary datadir on a free port, binary log on), so that the server's global counters
(SHOW GLOBAL STATUS) count this benchmark alone. `--shared-server` counts on the server of `--host`/`--port`
instead, whose counters then count every other client's statements too.

At each churn level of `--churn` (default 0, 10 and 100 %), `--rounds` rounds. A round: P % of every account's
book rows change at the broker (`bench/_churn.py`) and the fair prices move a tick (at 0 % they are only
re-dated), then the counters are read, every user runs one cycle (`run_cycle_now`, all at once), the round ends
once all finished and the event log is flushed, and the counters are read again. So the counts are the cycles'
alone: the churn, the price writes and the benchmark's reads of `monitor_events` fall outside them, and what a
counter read adds itself (measured at the start, two reads with nothing between) is taken off. Then the same for
lease renewals: 3 per user a round (a `serve` replica renews each lease three times an interval; the cycles here
run without the replicas' lease keeper). Last, an idle spell of 2 s, in which the service writes nothing: what
moves there is InnoDB's own background work (its redo), which also lands in the rounds.

Per user per cycle, a count is its total over the level's rounds divided by users x rounds. Writes are the same
at any number of users; reads are not: the shared reads (`adapters/store/batched_read.py`) answer the users whose
cycles run at once in one statement, and a round starts every cycle together, the best case (`--users 1`: none
shared, the worst). The event log's figures come from `monitor_events` itself: events per cycle, their JSON
payloads' bytes, each row's column bytes (payload, cycle id, type, hash, and 26 bytes of fixed-size columns), per
user per cycle and per trading day (a cycle every `--interval-s`, 60, through the default trading window,
09:26-15:30 IST: 364 cycles), and the table's data and index bytes per event as InnoDB's pages hold them after the
run (ANALYZE TABLE). The exit status is 1 when a cycle failed a step or a round did not run one cycle a user.

Usage (inside the project venv, from the repository root):
    python bench/capacity.py [--quick] [--users 20] [--rounds 20] [--churn 0,10,100]
                             [--shared-server [--host H] [--port P] [--user U] [--password P]]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from adapters.store.factory import migrate_url
from adapters.store.secrets import Keyring, decode_key, new_key_text
from bench._common import BenchDatabase, add_database_arguments, machine
from bench._own_server import ROW_BINARY_LOG, OwnServer
from bench._paper import PaperProcess
from bench.scale import paper_spec, refresh_fair_prices, seed_database
from messages.events import CycleFinished, CycleStarted, Event
from service.config import BrokerConfig
from service.runtime import Runtime

COUNTED = ("Questions", "Bytes_received", "Bytes_sent", "Handler_write", "Handler_update", "Handler_delete",
           "Rows_read", "Rows_sent", "Innodb_os_log_written", "Binlog_bytes_written")
"""The server's counters reported besides every statement kind (`Com_*`) that moved."""
LEASE_RENEWALS_PER_INTERVAL = 3
FIXED_EVENT_COLUMNS = 26
"""Bytes of monitor_events' fixed-size columns: user_id and seq (BIGINT, 8 each), at (DATETIME(6), 8), version
(SMALLINT, 2)."""
EVENT_ROWS = ("SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0), COALESCE(SUM(LENGTH(payload) + LENGTH(cycle_id) "
              "+ LENGTH(type) + COALESCE(LENGTH(hash), 0) + %s), 0) FROM monitor_events")


class NullNotifier:
    async def send(self, user_id: int, frame: Any) -> int:
        return 1


class CycleCount:
    """Event observer (it runs in the monitors' threads): cycles started and finished, and the finished ones that
    had a failed step."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.started = self.finished = self.failed = 0

    def __call__(self, event: Event) -> None:
        if isinstance(event, CycleStarted | CycleFinished):
            with self._lock:
                if isinstance(event, CycleStarted):
                    self.started += 1
                else:
                    self.finished += 1
                    self.failed += bool(event.error_count)
                self._lock.notify_all()

    def wait_finished(self, count: int, timeout_s: float = 120.0) -> None:
        with self._lock:
            if not self._lock.wait_for(lambda: self.finished >= count, timeout_s):
                raise RuntimeError(f"{count - self.finished} cycles did not finish within {timeout_s:g} s")


class ServerCounters:
    """The server's global counters: `read()` them, and `cost`, what one read adds to them (taken off a window)."""

    def __init__(self, database: BenchDatabase) -> None:
        self.database = database
        self.cost = Counter[str]()
        readings = [self.read() for _ in range(4)]
        gaps = [self._difference(later, earlier) for earlier, later in itertools.pairwise(readings)]
        self.cost = Counter({name: min(gap[name] for gap in gaps) for name in gaps[0]})

    def read(self) -> Counter[str]:
        return Counter({str(name): int(value) for name, value in self.database.query("SHOW GLOBAL STATUS")
                        if str(value).isdigit() and (str(name).startswith("Com_") or name in COUNTED)})

    def window(self, before: Counter[str], after: Counter[str]) -> Counter[str]:
        """What moved between two readings, the second reading's own cost taken off."""
        moved = self._difference(after, before)
        moved.subtract(self.cost)
        return Counter({name: count for name, count in moved.items() if count > 0})

    @staticmethod
    def _difference(after: Counter[str], before: Counter[str]) -> Counter[str]:
        return Counter({name: after[name] - before[name] for name in after})


class Level:
    """The counts of one churn level (or of the lease renewals) over its rounds."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.rounds = 0
        self.users = 0
        self.server = Counter[str]()
        self.service_statements = 0
        self.events = Counter[str]()
        self.changes = Counter[str]()

    def per_user(self, count: float) -> float:
        return count / (self.users * self.rounds)


class CapacityBench:
    def __init__(self, database: BenchDatabase, paper: PaperProcess, users: int, secret_key: str) -> None:
        self.database, self.paper, self.users = database, paper, list(range(1, users + 1))
        self.cycles = CycleCount()
        self.runtime = Runtime(database_url=database.url, notifier=NullNotifier(),
                               cycle=CycleConfig(interval_s=86_400, window=TradingWindow(enabled=False)),
                               broker=BrokerConfig(pacing=False), event_observers=(self.cycles,), migrate=False,
                               keyring=Keyring(current=decode_key(secret_key)))
        self.counters = ServerCounters(database)

    def connect_and_warm_up(self, cycles: int) -> None:
        for user_id in self.users:
            self.runtime.system.client_connected(user_id, "bench")
        deadline = time.monotonic() + 30
        while len(self.runtime.system.registry.user_ids()) < len(self.users):
            if time.monotonic() > deadline:
                raise RuntimeError("the users' monitors did not start")
            time.sleep(0.01)
        for _ in range(cycles):
            self.run_every_cycle()

    def run_every_cycle(self) -> None:
        expected = self.cycles.finished + len(self.users)
        for user_id in self.users:
            self.runtime.system.run_cycle_now(user_id)
        self.cycles.wait_finished(expected)
        self.runtime.io.call(self.runtime.event_log.flush(30))

    def event_rows(self) -> Counter[str]:
        [(rows, payload, row_bytes)] = self.database.query(EVENT_ROWS, (FIXED_EVENT_COLUMNS,))
        return Counter({"rows": int(rows), "payload bytes": int(payload), "row bytes": int(row_bytes)})

    def measure(self, level: Level, rounds: int, percent: float | None) -> list[str]:
        """`rounds` rounds of the level: churn (`percent`) or lease renewals (None). Problems found, if any."""
        problems = []
        level.users = len(self.users)
        for number in range(rounds):
            if percent:
                level.changes.update(self.paper.churn(percent))
                refresh_fair_prices(self.database, Decimal("0.05") * (number % 2 + 1))
            elif percent is not None:
                refresh_fair_prices(self.database)
            events_before = self.event_rows()
            started_before = self.cycles.started
            statements_before = self.runtime.db_statements()
            before = self.counters.read()
            if percent is None:
                self.runtime.io.call(self.renew_leases())
            else:
                self.run_every_cycle()
            after = self.counters.read()
            level.service_statements += self.runtime.db_statements() - statements_before
            level.server.update(self.counters.window(before, after))
            level.events.update(self._moved(events_before, self.event_rows()))
            started = self.cycles.started - started_before
            if started != (0 if percent is None else len(self.users)):
                problems.append(f"{level.label}, round {number + 1}: {started} cycles started, not one a user")
            level.rounds += 1
        return problems

    async def renew_leases(self) -> None:
        store = self.runtime.store
        for _ in range(LEASE_RENEWALS_PER_INTERVAL):
            await asyncio.gather(*(store.acquire_lease(user_id, 60.0) for user_id in self.users))

    def event_table_on_disk(self) -> tuple[int, int, int]:
        """monitor_events' rows, and its data and index bytes as InnoDB counts its pages (after ANALYZE TABLE)."""
        self.database.query("ANALYZE TABLE monitor_events")
        [(data, index)] = self.database.query(
            "SELECT data_length, index_length FROM information_schema.tables WHERE table_schema = DATABASE() "
            "AND table_name = 'monitor_events'")
        return self.event_rows()["rows"], int(data), int(index)

    def idle(self, seconds: float) -> Counter[str]:
        before = self.counters.read()
        time.sleep(seconds)
        return self.counters.window(before, self.counters.read())

    @staticmethod
    def _moved(before: Counter[str], after: Counter[str]) -> Counter[str]:
        return Counter({name: after[name] - before[name] for name in after})

    def close(self) -> None:
        self.runtime.close()


def trading_day_cycles(interval_s: float) -> int:
    """Cycles of one user in a trading day of the default window (its start to its end, a cycle every interval)."""
    window = TradingWindow()
    day = date(2026, 1, 5)
    return int((datetime.combine(day, window.end) - datetime.combine(day, window.start))
               / timedelta(seconds=interval_s))


def report(levels: Sequence[Level], idle: Counter[str], on_disk: tuple[int, int, int], interval_s: float) -> None:
    def row(name: str, values: Sequence[str]) -> None:
        print(f"{name:<34}" + "".join(f"{value:>13}" for value in values))

    print("\nper user per cycle (lease renewals: per user per interval, 3 renewals)")
    row("", [level.label for level in levels])
    row("rounds x users", [f"{level.rounds} x {level.users}" for level in levels])
    names = sorted({name for level in levels for name in level.server if name.startswith("Com_")})
    row("statements (Questions)", [f"{level.per_user(level.server['Questions']):.2f}" for level in levels])
    row("  as the service counts them", [f"{level.per_user(level.service_statements):.2f}" for level in levels])
    for name in names:
        row(f"  {name}", [f"{level.per_user(level.server[name]):.2f}" for level in levels])
    for name in COUNTED[1:]:
        row(name, [f"{level.per_user(level.server[name]):,.1f}" for level in levels])
    cycles_a_day = trading_day_cycles(interval_s)
    print("\nthe event log (monitor_events)")
    for level in levels:
        rows = level.events["rows"]
        if not rows:
            continue
        payload, row_bytes = level.events["payload bytes"], level.events["row bytes"]
        print(f"{level.label}: {level.per_user(rows):.1f} events per user per cycle, {payload / rows:.0f} payload "
              f"bytes ({row_bytes / rows:.0f} row bytes) per event; per user per cycle {level.per_user(payload):,.0f} "
              f"payload bytes ({level.per_user(row_bytes):,.0f} row bytes); per user per trading day of "
              f"{cycles_a_day} cycles {level.per_user(payload) * cycles_a_day / 2**20:.2f} MiB of payloads "
              f"({level.per_user(row_bytes) * cycles_a_day / 2**20:.2f} MiB of rows, "
              f"{level.per_user(rows) * cycles_a_day:,.0f} events)")
    rows, data, index = on_disk
    print(f"on disk after the run: {rows:,} events in {data / 2**20:.1f} MiB of data and {index / 2**20:.1f} MiB of "
          f"indexes, {data / rows:.0f} + {index / rows:.0f} bytes an event (InnoDB's pages, filled as this run's "
          f"{levels[0].users} users' inserts left them)")
    for level in levels:
        if level.changes:
            kinds = ", ".join(f"{kind} {count / level.rounds:.1f}" for kind, count in sorted(level.changes.items()))
            print(f"broker rows changed per round at {level.label}: {kinds}")
    moved = ", ".join(f"{name} {count}" for name, count in sorted(idle.items())) or "nothing"
    print(f"idle for 2 s between cycles: {moved}")


def run(args: argparse.Namespace, host: str, port: int, user: str, password: str) -> int:
    levels = [float(level) for level in args.churn.split(",")]
    secret_key = new_key_text()
    with BenchDatabase("bench_capacity", host, port, user, password) as database, \
            PaperProcess(paper_spec(args.users)) as paper:
        whose = "shared: its counters count every client" if args.shared_server else "the benchmark's own"
        print(f"machine: {machine()}; MariaDB {database.version()} at {host}:{port} ({whose})")
        asyncio.run(migrate_url(database.url))
        seed_database(database, args.users, paper.url, Keyring(current=decode_key(secret_key)))
        # the optimizer's statistics of the tables as seeded (InnoDB recomputes them in the background, later):
        # on the empty tables' statistics a user's accounts and orders are read by scanning the whole table
        database.query("ANALYZE TABLE users, accounts, orders, entry_regenerate_permission")
        bench = CapacityBench(database, paper, args.users, secret_key)
        try:
            bench.connect_and_warm_up(args.warmup)
            measured = [Level(f"{level:g} %") for level in levels]
            problems = []
            for level, percent in zip(measured, levels, strict=True):
                problems += bench.measure(level, args.rounds, percent)
            bench.runtime.io.call(bench.renew_leases())  # taken first, uncounted: the lease rows now exist
            leases = Level("leases")
            problems += bench.measure(leases, args.rounds, None)
            idle = bench.idle(2.0)
            on_disk = bench.event_table_on_disk()
            failed = bench.cycles.failed
        finally:
            bench.close()
    report([*measured, leases], idle, on_disk, args.interval_s)
    if failed:
        problems.append(f"{failed} cycles failed a step")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 users, 5 rounds a level (CI)")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20, help="measured rounds (one cycle of every user) a level")
    parser.add_argument("--warmup", type=int, default=3, help="rounds before measuring (the first adopts the orders)")
    parser.add_argument("--churn", default="0,10,100", help="churn levels, %% of each book's rows changed before "
                                                            "each round (default 0,10,100)")
    parser.add_argument("--interval-s", type=float, default=60.0,
                        help="the cycle interval a trading day is counted in (default 60)")
    parser.add_argument("--shared-server", action="store_true",
                        help="count on the server of --host/--port instead of one of the benchmark's own")
    add_database_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.rounds = 5, 5
    if args.shared_server:
        return run(args, args.host, args.port, args.user, args.password)
    with OwnServer(settings=("innodb_buffer_pool_size=64M", *ROW_BINARY_LOG)) as server:
        return run(args, server.host, server.port, server.user, "")


if __name__ == "__main__":
    sys.exit(main())
