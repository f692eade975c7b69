"""Benchmark of the service at scale: U users x 2 accounts on a 60 s interval, for several intervals.

The service is the real runtime (`service.runtime.Runtime`, production defaults: XTS pacing on, aiohttp
connector limit 200 / 20 per host, aiomysql pool of 10, APScheduler with one jittered job per user, one
pykka UserMonitor thread per user) on a MariaDB database of its own (`bench_scale_<pid>`, dropped at the
end), against the paper broker in a separate process (`bench/_paper.py`) adding 50-200 ms to every call.

Each account has two internal orders, seeded as rows already tagged and as broker orders carrying those
tags (the first cycle adopts them, as after a restart): a filled BUY with a live SL and a live TP, and an
open LIMIT BUY below the market. So each account's book has 4 rows and 1 position, and a steady cycle makes
2 broker reads per account, writes the snapshot and FIFO rows and changes nothing else. Users, accounts and
orders are bulk-inserted; the broker's orders are placed on its simulator before it serves.

Interval k is every user's k-th tick (ticks are jittered across the interval, so this is exact where a clock
window would miscount ticks dispatched a few ms late across its edge). Interval 0 is the warm-up (log in,
adopt the seeded orders). Intervals 1..N are measured: per interval, ticks due (one per user) against cycles
started, finished, finished clean (no step failed or timed out: CycleFinished.error_count is 0) and finished
within the interval, ticks skipped because the user's previous cycle was still
running, and ticks that started nothing (missed). Over the measured intervals: cycle wall p50/p99
(CycleStarted to CycleFinished), the service process's CPU % (of one core), RSS and threads, the paper
broker's and MariaDB's CPU %, broker calls/s (the adapter's own call hook), DB statements/s (the service's
own count, `Runtime.db_statements`: BEGIN and COMMIT included, the benchmark's own statements not), and the
event log's lag.
Goals are reported as met or not met, never asserted; the exit status is 1 only on a real error (a cycle
that failed a step, or setup that did not complete).

Usage (inside the project venv, from the repository root):
    python bench/scale.py [--quick] [--users 1000 5000 10000] [--intervals 3] [--interval-s 60]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from actors.order_placer.tags import order_tag
from actors.user_monitor.window import TradingWindow
from bench._common import BenchDatabase, ProcessStat, machine, mysqld_pid, percentile
from bench._paper import PaperProcess
from messages.events import CycleFinished, CycleStarted, Event, StepTimedOut, TickSkipped
from service.config import BrokerConfig, CycleConfig
from service.metrics import Metrics
from service.runtime import Runtime

SYMBOLS = (("RELIANCE", 2885, Decimal("2900.00")), ("SBIN", 3045, Decimal("800.00")),
           ("TCS", 11536, Decimal("4000.00")), ("INFY", 1594, Decimal("1500.00")),
           ("HDFCBANK", 1333, Decimal("1600.00")))
GOAL_P99_S = 2.0
GOAL_RSS = 2 * 2**30


class NullNotifier:
    async def send(self, user_id: int, frame: Any) -> int:
        return 1


class CountingMetrics(Metrics):
    """The service's metrics, plus a plain count of broker calls and of failed steps."""

    def __init__(self) -> None:
        super().__init__()
        self.broker_call_count = 0
        self.failed_steps: dict[str, int] = {}
        self.failure_messages: dict[str, int] = {}

    def broker_call(self, endpoint: str, status: str, seconds: float) -> None:
        self.broker_call_count += 1
        super().broker_call(endpoint, status, seconds)

    def observe(self, event: Event) -> None:
        if isinstance(event, StepTimedOut) or getattr(event, "succeeded", True) is False:
            kind = "timeout" if isinstance(event, StepTimedOut) else str(event.kind)  # type: ignore[union-attr]
            self.failed_steps[kind] = self.failed_steps.get(kind, 0) + 1
            message = f"{event.step}: " + ("timed out" if isinstance(event, StepTimedOut)
                                            else str(event.message))  # type: ignore[union-attr]
            self.failure_messages[message] = self.failure_messages.get(message, 0) + 1
        super().observe(event)


class CycleLog:
    """Event observer (runs in the monitors' threads): when each cycle started, how long it took, skips."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started: dict[tuple[int, str], float] = {}
        self.cycles: list[tuple[int, float, float | None]] = []  # (tick ordinal, start, wall or None)
        self.with_errors: set[int] = set()  # positions in `cycles` of cycles that finished with errors
        self.index: dict[tuple[int, str], int] = {}
        self.skipped: list[int] = []  # tick ordinals of ticks skipped because a cycle was running
        self._ticks: dict[int, int] = {}  # user id -> ticks seen so far

    def _ordinal(self, user_id: int) -> int:
        ordinal = self._ticks.get(user_id, 0)
        self._ticks[user_id] = ordinal + 1
        return ordinal

    def running(self) -> int:
        with self._lock:
            return len(self.index)

    def __call__(self, event: Event) -> None:
        if isinstance(event, CycleStarted):
            at = event.at.timestamp()
            with self._lock:
                self.index[(event.user_id, event.cycle_id)] = len(self.cycles)
                self.cycles.append((self._ordinal(event.user_id), at, None))
        elif isinstance(event, CycleFinished):
            with self._lock:
                position = self.index.pop((event.user_id, event.cycle_id), None)
                if position is not None:
                    ordinal, start, _ = self.cycles[position]
                    self.cycles[position] = (ordinal, start, event.at.timestamp() - start)
                    if event.error_count:
                        self.with_errors.add(position)
        elif isinstance(event, TickSkipped):
            with self._lock:
                self.skipped.append(self._ordinal(event.user_id))


def paper_spec(users: int) -> dict[str, Any]:
    orders = []
    for account_id in range(1, 2 * users + 1):
        client_id = f"S{account_id}"
        running, waiting = 2 * account_id - 1, 2 * account_id
        _, instrument_id, ltp = SYMBOLS[account_id % len(SYMBOLS)]
        orders += [
            [client_id, "NSECM", instrument_id, "BUY", "MARKET", 10, "0", "0", order_tag(running, "entry", 1), ""],
            [client_id, "NSECM", instrument_id, "SELL", "STOPLIMIT", 10, str(ltp * Decimal("0.945")),
             str(ltp * Decimal("0.95")), order_tag(running, "sl", 1), ""],
            [client_id, "NSECM", instrument_id, "SELL", "LIMIT", 10, str(ltp * Decimal("1.05")), "0",
             order_tag(running, "tp", 1), ""],
            [client_id, "NSECM", instrument_id, "BUY", "LIMIT", 10, str(ltp * Decimal("0.8")), "0",
             order_tag(waiting, "entry", 1), ""],
        ]
    return {"seed": 7, "orders": orders}


def seed_database(database: BenchDatabase, users: int, broker_url: str) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    database.insert_many("INSERT INTO users (id, name, token_hash, created_at) VALUES (%s, %s, %s, %s)",
                         [(u, f"user{u}", f"{u:064x}", now) for u in range(1, users + 1)])
    database.insert_many(
        "INSERT INTO accounts (id, user_id, broker, base_url, client_id, app_key, secret_key, created_at,"
        " updated_at) VALUES (%s, %s, 'paper', %s, %s, %s, 's3cret', %s, %s)",
        [(a, (a + 1) // 2, broker_url, f"S{a}", f"S{a}", now, now) for a in range(1, 2 * users + 1)])
    rows = []
    for account_id in range(1, 2 * users + 1):
        user_id = (account_id + 1) // 2
        symbol, instrument_id, ltp = SYMBOLS[account_id % len(SYMBOLS)]
        running, waiting = 2 * account_id - 1, 2 * account_id
        rows.append((running, user_id, account_id, symbol, instrument_id, "MARKET", None,
                     order_tag(running, "entry", 1), ltp * Decimal("0.95"), order_tag(running, "sl", 1),
                     ltp * Decimal("1.05"), order_tag(running, "tp", 1), now, now))
        rows.append((waiting, user_id, account_id, symbol, instrument_id, "LIMIT", ltp * Decimal("0.8"),
                     order_tag(waiting, "entry", 1), ltp * Decimal("0.76"), None, ltp * Decimal("0.84"), None,
                     now, now))
    database.insert_many(
        "INSERT INTO orders (id, user_id, account_id, strategy, symbol, exchange_segment, instrument_id, side,"
        " quantity, entry_type, entry_limit_price, entry_tag, entry_orderstatus, sl_stop_price, sl_tag,"
        " sl_orderstatus, tp_price, tp_tag, tp_orderstatus, status, created_at, updated_at)"
        " VALUES (%s, %s, %s, 'bench', %s, 'NSECM', %s, 'BUY', 10, %s, %s, %s, 'PendingSubmit', %s, %s,"
        " IF(%s IS NULL, NULL, 'PendingSubmit'), %s, %s, IF(%s IS NULL, NULL, 'PendingSubmit'), 'PENDING', %s, %s)",
        [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[9], r[10], r[11], r[11], r[12], r[13])
         for r in rows])
    refresh_fair_prices(database)


def refresh_fair_prices(database: BenchDatabase) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    database.insert_many(
        "REPLACE INTO mainapp_fairprice (symbol, buy_fair_price, sell_fair_price, updated_at)"
        " VALUES (%s, %s, %s, %s)",
        [(symbol, ltp + Decimal("0.05"), ltp - Decimal("0.05"), now) for symbol, _, ltp in SYMBOLS])


class Sampler(threading.Thread):
    """Once a second: CPU of the service, the broker and MariaDB, RSS, threads, counters, event-log lag."""

    def __init__(self, runtime: Runtime, metrics: CountingMetrics, database: BenchDatabase, broker_pid: int) -> None:
        super().__init__(name="bench-sampler", daemon=True)
        self.runtime, self.metrics, self.database = runtime, metrics, database
        self.me, self.broker = ProcessStat(), ProcessStat(broker_pid)
        db_pid = mysqld_pid()
        self.mysqld = ProcessStat(db_pid) if db_pid else None
        self.samples: list[dict[str, float]] = []
        self.stopping = threading.Event()

    def sample(self) -> dict[str, float]:
        cpu, rss, threads = self.me.read()
        lag = self.runtime.event_log.lag()
        return {"t": time.time(), "cpu": cpu, "rss": rss, "threads": threads, "broker_cpu": self.broker.cpu(),
                "db_cpu": self.mysqld.cpu() if self.mysqld else float("nan"),
                "statements": self.runtime.db_statements(), "broker_calls": self.metrics.broker_call_count,
                "lag": lag.pending, "lag_s": lag.oldest_pending_s or 0.0}

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            self.samples.append(self.sample())

    def between(self, start: float, end: float) -> list[dict[str, float]]:
        return [s for s in self.samples if start <= s["t"] <= end]


def run_scale(users: int, args: argparse.Namespace) -> dict[str, Any]:
    interval = args.interval_s
    print(f"\n== {users} users x 2 accounts, interval {interval:g} s, broker latency {args.latency[0]}-"
          f"{args.latency[1]} ms, {args.intervals} measured intervals after 1 warm-up", flush=True)
    setup_started = time.perf_counter()
    with BenchDatabase(f"bench_scale_{users}", args.host, args.port, args.user, args.password) as database, \
            PaperProcess(paper_spec(users)) as paper:
        paper.latency(*args.latency)
        metrics, cycles = CountingMetrics(), CycleLog()
        broker = BrokerConfig(connection_limit=max(200, args.connections_per_host),
                              connections_per_host=args.connections_per_host, read_cache_accounts=4 * users)
        runtime = Runtime(database_url=database.url, notifier=NullNotifier(), metrics=metrics,
                          cycle=CycleConfig(interval_s=interval, window=TradingWindow(enabled=False)),
                          broker=broker, event_observers=(cycles,))
        try:
            seed_database(database, users, paper.url)
            seeded = time.perf_counter()
            sampler = Sampler(runtime, metrics, database, paper.pid)
            t0 = time.time()
            for user_id in range(1, users + 1):
                runtime.system.client_connected(user_id, f"bench-{user_id}")
            while len(runtime.system.registry.user_ids()) < users:
                time.sleep(0.05)
            connected = time.perf_counter()
            print(f"seeded in {seeded - setup_started:.1f} s; {users} monitors started in {connected - seeded:.1f} s",
                  flush=True)
            sampler.start()
            # every user's k-th tick falls in [t0 + k * interval, t0 + (k + 1) * interval + connect time)
            end = t0 + interval * (1 + args.intervals) + (connected - seeded) + 2
            next_refresh = t0 + 30
            while time.time() < end:
                time.sleep(0.5)
                if time.time() >= next_refresh:
                    refresh_fair_prices(database)
                    next_refresh += 30
            sampler.stopping.set()
            sampler.join()
            for user_id in range(1, users + 1):  # no new ticks; let the running cycles finish
                runtime.system.ticks.remove_user(user_id)
            drain_deadline = time.monotonic() + max(60.0, interval)
            while cycles.running() and time.monotonic() < drain_deadline:
                time.sleep(0.2)
            result = report(users, t0, interval, args.intervals, cycles, sampler, metrics)
        finally:
            stop_started = time.perf_counter()
            stopped = False
            try:
                runtime.close()
                outcome, stopped = "done", True
            except Exception as error:  # an overloaded service may not stop in time; the figures stand
                outcome = f"did not complete ({type(error).__name__}: {error})"
            print(f"shutdown {outcome} in {time.perf_counter() - stop_started:.1f} s", flush=True)
    return {**result, "stopped": stopped}


def report(users: int, t0: float, interval: float, measured: int, cycles: CycleLog, sampler: Sampler,
           metrics: CountingMetrics) -> dict[str, Any]:
    print(f"{'interval':>8} {'due':>6} {'started':>7} {'finished':>8} {'clean':>7} {'in time':>7} {'skipped':>7} "
          f"{'missed':>6} {'p50 s':>6} {'p99 s':>6}")
    walls: list[float] = []
    all_in_time = True
    for k in range(1 + measured):
        positions = [i for i, (ordinal, _, _) in enumerate(cycles.cycles) if ordinal == k]
        mine = [cycles.cycles[i][1:] for i in positions]
        finished = [w for _, w in mine if w is not None]
        clean = sum(1 for i in positions if cycles.cycles[i][2] is not None and i not in cycles.with_errors)
        in_time = [w for w in finished if w < interval]
        skipped = sum(1 for ordinal in cycles.skipped if ordinal == k)
        missed = max(0, users - len(mine) - skipped)
        label = "warm-up" if k == 0 else str(k)
        print(f"{label:>8} {users:>6} {len(mine):>7} {len(finished):>8} {clean:>7} {len(in_time):>7} {skipped:>7} "
              f"{missed:>6} {percentile(finished, 0.5):>6.2f} {percentile(finished, 0.99):>6.2f}", flush=True)
        if k:
            walls += finished
            all_in_time &= len(in_time) == users and clean == users and not skipped
    window = sampler.between(t0 + interval, t0 + interval * (1 + measured))
    first, last = window[0], window[-1]
    seconds = last["t"] - first["t"]
    result = {
        "users": users,
        "p50": percentile(walls, 0.5), "p99": percentile(walls, 0.99), "max": max(walls, default=float("nan")),
        "cpu_pct": 100 * (last["cpu"] - first["cpu"]) / seconds,
        "broker_cpu_pct": 100 * (last["broker_cpu"] - first["broker_cpu"]) / seconds,
        "db_cpu_pct": 100 * (last["db_cpu"] - first["db_cpu"]) / seconds,
        "rss": max(s["rss"] for s in window), "threads": max(s["threads"] for s in window),
        "broker_calls_s": (last["broker_calls"] - first["broker_calls"]) / seconds,
        "statements_s": (last["statements"] - first["statements"]) / seconds,
        "lag_max": max(s["lag"] for s in window), "lag_s_max": max(s["lag_s"] for s in window),
        "all_in_time": all_in_time, "failed_steps": dict(metrics.failed_steps),
        "failure_messages": sorted(metrics.failure_messages.items(), key=lambda item: -item[1])[:5],
        "unfinished": cycles.running(),
    }
    print(f"cycle wall p50 {result['p50']:.3f} s, p99 {result['p99']:.3f} s, max {result['max']:.3f} s; "
          f"service CPU {result['cpu_pct']:.0f}% of a core, RSS {result['rss'] / 2**20:.0f} MiB, "
          f"{result['threads']} threads; broker process CPU {result['broker_cpu_pct']:.0f}%, MariaDB CPU "
          f"{result['db_cpu_pct']:.0f}%")
    print(f"broker calls {result['broker_calls_s']:.0f}/s, DB statements {result['statements_s']:.0f}/s, "
          f"event log lag max {result['lag_max']} events / {result['lag_s_max']:.2f} s; failed steps "
          f"{result['failed_steps']}; cycles still running after the drain {result['unfinished']}")
    for message, count in result["failure_messages"]:
        print(f"  {count:>7} x {message}")
    print(f"goals: every cycle inside its interval: {'met' if all_in_time else 'NOT met'}; p99 <= {GOAL_P99_S:g} s: "
          f"{'met' if result['p99'] <= GOAL_P99_S else 'NOT met'}; RSS <= 2 GiB: "
          f"{'met' if result['rss'] <= GOAL_RSS else 'NOT met'}", flush=True)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="200 users, 5 s interval, 2 measured intervals (CI, under a minute)")
    parser.add_argument("--users", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--intervals", type=int, default=3, help="measured intervals after the warm-up")
    parser.add_argument("--interval-s", type=float, default=60.0)
    parser.add_argument("--latency", type=int, nargs=2, default=[50, 200], metavar=("MIN_MS", "MAX_MS"))
    parser.add_argument("--connections-per-host", type=int, default=400,
                        help="[broker] connections_per_host (default 400: 10,000 users need ~670 calls/s of "
                             "50-200 ms, ~85 in flight on average; the production default of 20 caps a broker "
                             "host at ~160 calls/s, about 2,000 users)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--user", default="root")
    parser.add_argument("--password", default="")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.intervals, args.interval_s = [200], 2, 5.0
    if len(args.users) > 1:  # each size in a fresh process: an overloaded run may leave threads behind
        common = ["--intervals", str(args.intervals), "--interval-s", str(args.interval_s), "--latency",
                  *map(str, args.latency), "--host", args.host, "--port", str(args.port), "--user", args.user,
                  "--password", args.password]
        codes = [subprocess.call([sys.executable, os.path.abspath(__file__), "--users", str(users), *common])
                 for users in args.users]
        return max(codes)
    print(f"machine: {machine()}", flush=True)
    result = run_scale(args.users[0], args)
    # A service that kept up must fail nothing. In an overloaded run (steps timed out, ticks skipped),
    # timeouts and a starved connection pool are the measured effect of the overload, not an error.
    kinds = set(result["failed_steps"])
    overloaded = "timeout" in kinds or not result["all_in_time"]
    code = 1 if kinds - ({"timeout", "unavailable", "db"} if overloaded else set()) else 0
    if code:
        print(f"FAILED: steps failed: {result['failed_steps']}", file=sys.stderr)
    if not result["stopped"]:
        sys.stdout.flush()
        os._exit(code)  # monitor threads the shutdown could not stop would keep the process alive
    return code


if __name__ == "__main__":
    sys.exit(main())
