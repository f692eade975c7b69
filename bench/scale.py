"""Benchmark of the service at scale: U users x 2 accounts on a 60 s interval, for several intervals.

The service is the real runtime (`service.runtime.Runtime`, production defaults but for the broker
connector: XTS pacing on, aiomysql pool of 10, APScheduler with one jittered job per user, the users'
monitors on 4 MonitorHost threads; the connector allows `--connections-per-host` connections to the one
broker host), run as `--processes` service processes (default 2, one per core of this machine), each
monitoring every other user as the design's replicas do (`bench/_scale_share.py`), on a MariaDB database of
their own (`bench_scale_<users>_<pid>`, dropped at the end), against the paper broker in a separate process
(`bench/_paper.py`) adding 50-200 ms to every call. `--processes 1` measures one interpreter alone.

Each account has two internal orders, seeded as rows already tagged and as broker orders carrying those
tags (the first cycle adopts them, as after a restart): a filled BUY with a live SL and a live TP, and an
open LIMIT BUY below the market. So each account's book has 4 rows and 1 position, and a steady cycle makes
2 broker reads per account and writes nothing but its events (the market does not move: snapshot, FIFO
rows and orders stay as they are). Users, accounts and orders are bulk-inserted; the broker's orders are
placed on its simulator before it serves.

The warm-up is every user's first cycle (log in, adopt the seeded orders: the heaviest cycle a user has);
it ends when the last of them finished, in every process. Interval k is then every user's k-th tick from
that moment on, counted per user (so a tick dispatched a few ms late is still its user's k-th). The first
`--settle-intervals` (1) are the start-up's tail, while the backlog the first cycles left drains: printed,
kept out of the measured figures and of the goals. Then come the `--intervals` (3) measured ones. Per
interval, ticks due (one per user) against cycles started, finished, finished clean (no step failed or
timed out: CycleFinished.error_count is 0) and finished within the interval, ticks skipped because the
user's previous cycle was still running, and ticks that started nothing (missed). Over the measured
intervals: cycle wall p50/p99 (CycleStarted to CycleFinished), each service process's CPU % (of one core),
RSS and threads, the paper broker's and MariaDB's CPU %, broker calls/s (the adapter's own call hook), DB
statements/s (the service's own count, `Runtime.db_statements`: BEGIN and COMMIT included, the benchmark's
own statements not), how many reads the shared reads took, event-log batches/s and lag, and the steps that
failed; full garbage collections and how long they took. `--ticks-json` writes every tick and every
process's per-second samples, for a timeline of the start-up. Goals are reported as met or not met, never
asserted; the exit status is 1 only on a real error (a
cycle that failed a step, or setup that did not complete).

Usage (inside the project venv, from the repository root):
    python bench/scale.py [--quick] [--users 1000 5000 10000] [--intervals 3] [--settle-intervals 1]
                          [--interval-s 60] [--processes 2] [--ticks-json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from adapters.store.factory import migrate_url
from adapters.store.secrets import Keyring, decode_key, new_key_text
from bench._common import BenchDatabase, ProcessStat, add_database_arguments, machine, mysqld_pid, percentile
from bench._paper import ChildProcess, PaperProcess
from bench._scale_share import Tick
from domain.tags import order_tag

SYMBOLS = (("RELIANCE", 2885, Decimal("2900.00")), ("SBIN", 3045, Decimal("800.00")),
           ("TCS", 11536, Decimal("4000.00")), ("INFY", 1594, Decimal("1500.00")),
           ("HDFCBANK", 1333, Decimal("1600.00")))
GOAL_P99_S = 2.0
GOAL_RSS = 2 * 2**30


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


def seed_database(database: BenchDatabase, users: int, broker_url: str, keyring: Keyring) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    database.insert_many("INSERT INTO users (id, name, token_hash, created_at) VALUES (%s, %s, %s, %s)",
                         [(u, f"user{u}", f"{u:064x}", now) for u in range(1, users + 1)])
    database.insert_many(
        "INSERT INTO accounts (id, user_id, broker, base_url, client_id, app_key_sealed, secret_key_sealed,"
        " created_at, updated_at) VALUES (%s, %s, 'paper', %s, %s, %s, %s, %s, %s)",
        [(a, (a + 1) // 2, broker_url, f"S{a}", keyring.seal(f"S{a}", a, "app_key"),
          keyring.seal("s3cret", a, "secret_key"), now, now) for a in range(1, 2 * users + 1)])
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


def refresh_fair_prices(database: BenchDatabase, shift: Decimal = Decimal(0)) -> None:
    """Every symbol's fair prices a tick either side of its last price, moved by `shift`, dated now."""
    now = datetime.now(UTC).replace(tzinfo=None)
    database.insert_many(
        "REPLACE INTO mainapp_fairprice (symbol, buy_fair_price, sell_fair_price, updated_at)"
        " VALUES (%s, %s, %s, %s)",
        [(symbol, ltp + Decimal("0.05") + shift, ltp - Decimal("0.05") + shift, now) for symbol, _, ltp in SYMBOLS])


class Share(ChildProcess):
    """One service process (`bench/_scale_share.py`) monitoring every `shares`-th user, and its messages."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__("bench._scale_share", spec, output="result", stdin=subprocess.PIPE)

    def expect(self, key: str) -> Any:
        """The next message of the share, which must carry `key` (a result with an error ends the run)."""
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            raise RuntimeError(f"service process {self.pid} ended (exit {self.process.wait()}) before '{key}'")
        message = json.loads(line)
        if "result" in message:  # too large for a line of the pipe: the share wrote it to a file
            with open(message["result"]) as result_file:
                message["result"] = json.load(result_file)
            if "error" in message["result"]:
                raise RuntimeError(f"service process {self.pid}: {message['result']['error']}")
        return message[key]

    def tell(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.remove_files()


def run_scale(users: int, args: argparse.Namespace) -> dict[str, Any]:
    interval, shares = args.interval_s, args.processes
    print(f"\n== {users} users x 2 accounts, interval {interval:g} s, broker latency {args.latency[0]}-"
          f"{args.latency[1]} ms, {shares} service process{'es' if shares > 1 else ''}, {args.intervals} measured "
          f"intervals after the warm-up and {args.settle_intervals} settling", flush=True)
    setup_started = time.perf_counter()
    with BenchDatabase(f"bench_scale_{users}", args.host, args.port, args.user, args.password) as database, \
            PaperProcess(paper_spec(users)) as paper:
        paper.latency(*args.latency)
        asyncio.run(migrate_url(database.url))
        secret_key = new_key_text()
        seed_database(database, users, paper.url, Keyring(current=decode_key(secret_key)))
        seeded = time.perf_counter() - setup_started
        spec = {"users": users, "shares": shares, "interval_s": interval, "database_url": database.url,
                "connections_per_host": args.connections_per_host, "secret_key": secret_key}
        processes = [Share({**spec, "share": k}) for k in range(shares)]
        try:
            connected = max(share.expect("connected") for share in processes)
            t0 = time.time()
            print(f"seeded in {seeded:.1f} s; {users} monitors started in {connected:.1f} s", flush=True)
            warm = max(share.expect("warm") for share in processes)
            print(f"warm-up: every user's first cycle finished {warm - t0:.1f} s after they connected", flush=True)
            start = warm + interval * args.settle_intervals
            window = (start, start + interval * args.intervals)
            for share in processes:
                share.tell({"measure": window})
            others = {"broker": ProcessStat(paper.pid)}
            if (db_pid := mysqld_pid()) is not None:
                others["db"] = ProcessStat(db_pid)
            cpu_at_start: dict[str, float] = {}
            next_refresh, next_churn = window[0] + 30, warm
            while time.time() < window[1]:
                time.sleep(0.05)
                if not cpu_at_start and time.time() >= window[0]:
                    cpu_at_start = {name: stat.cpu() for name, stat in others.items()}
                if args.churn and time.time() >= next_churn:
                    changes = paper.churn(args.churn)
                    refresh_fair_prices(database, Decimal("0.05") * (round((next_churn - warm) / interval) % 2))
                    print(f"churn {args.churn:g} %: {sum(changes.values())} rows changed at the broker, fair prices "
                          f"moved", flush=True)
                    next_churn += interval
                elif not args.churn and time.time() >= next_refresh:
                    refresh_fair_prices(database)
                    next_refresh += 30
            seconds = time.time() - window[0]
            other_cpu = {name: 100 * (stat.cpu() - cpu_at_start[name]) / seconds for name, stat in others.items()}
            results = [share.expect("result") for share in processes]
        finally:
            for share in processes:
                share.close()
    if args.ticks_json:
        with open(args.ticks_json, "w") as out:
            json.dump({"ticks": {user: [[tick[0] - warm, *tick[1:]] for tick in user_ticks]
                                 for r in results for user, user_ticks in r["ticks"].items()},
                       "samples": [[{**sample, "t": sample["t"] - warm} for sample in r["samples"]]
                                   for r in results]}, out)
    return report(users, warm, interval, args.settle_intervals, args.intervals, results, other_cpu)


def report(users: int, warm: float, interval: float, settling: int, measured: int, results: list[dict[str, Any]],
           other_cpu: dict[str, float]) -> dict[str, Any]:
    ticks = {user: [Tick(*t) for t in user_ticks] for r in results for user, user_ticks in r["ticks"].items()}
    print(f"{'interval':>8} {'due':>6} {'started':>7} {'finished':>8} {'clean':>7} {'in time':>7} {'skipped':>7} "
          f"{'missed':>6} {'p50 s':>6} {'p99 s':>6}")
    walls: list[float] = []
    all_in_time = True
    settle_walls: list[float] = []
    for k in range(1, 1 + settling + measured):
        found = kth_ticks(ticks, k, warm)
        started = [t for t in found if not t.skipped]
        finished = [t.wall for t in started if t.wall is not None]
        clean = sum(1 for t in started if t.wall is not None and t.clean)
        in_time = [w for w in finished if w < interval]
        skipped = len(found) - len(started)
        missed = users - len(found)
        label = f"settle {k}" if k <= settling else str(k - settling)
        print(f"{label:>8} {users:>6} {len(started):>7} {len(finished):>8} {clean:>7} {len(in_time):>7} {skipped:>7} "
              f"{missed:>6} {percentile(finished, 0.5):>6.2f} {percentile(finished, 0.99):>6.2f}", flush=True)
        if k <= settling:
            settle_walls += finished
            continue
        walls += finished
        all_in_time &= len(in_time) == users and clean == users and not skipped
    windows = [r["window"] for r in results]
    seconds = max(w["seconds"] for w in windows)
    failed: dict[str, int] = {}
    settle_failed: dict[str, int] = {}
    messages: dict[str, int] = {}
    for r in results:
        for kind, count in r["failed_steps"].items():
            failed[kind] = failed.get(kind, 0) + count
        for kind, count in r["settle_failed_steps"].items():
            settle_failed[kind] = settle_failed.get(kind, 0) + count
        for message, count in r["failure_messages"].items():
            messages[message] = messages.get(message, 0) + count
    shared = {name: [sum(w["shared_reads"][name][i] for w in windows) for i in (0, 1)]
              for name in windows[0]["shared_reads"]}
    result = {
        "users": users, "processes": len(results),
        "p50": percentile(walls, 0.5), "p99": percentile(walls, 0.99), "max": max(walls, default=float("nan")),
        "cpu_pct": [100 * w["cpu_s"] / w["seconds"] for w in windows],
        "rss": [w["rss"] for w in windows], "threads": [w["threads"] for w in windows],
        "broker_cpu_pct": other_cpu["broker"], "db_cpu_pct": other_cpu.get("db", float("nan")),
        "broker_calls_s": sum(w["broker_calls"] for w in windows) / seconds,
        "statements_s": sum(w["statements"] for w in windows) / seconds,
        "event_batches_s": sum(w["event_batches"] for w in windows) / seconds,
        "lag_max": max(w["lag_max"] for w in windows), "lag_s_max": max(w["lag_s_max"] for w in windows),
        "shared_reads": shared, "all_in_time": all_in_time, "failed_steps": failed,
        "failure_messages": sorted(messages.items(), key=lambda item: -item[1])[:5],
        "unfinished": sum(r["unfinished"] for r in results), "shutdown": [r["shutdown"] for r in results],
        "gc_full": [w["gc_full"] for w in windows], "gc_s": [w["gc_s"] for w in windows],
        "gc_longest_s": max(r["gc_longest_s"] for r in results),
        "settle_p50": percentile(settle_walls, 0.5), "settle_p99": percentile(settle_walls, 0.99),
        "settle_max": max(settle_walls, default=float("nan")), "settle_failed_steps": settle_failed,
    }
    if settling:
        print(f"settling (not in the figures below): cycle wall p50 {result['settle_p50']:.3f} s, p99 "
              f"{result['settle_p99']:.3f} s, max {result['settle_max']:.3f} s; failed steps {settle_failed}")
    each = " + ".join(f"{c:.0f}%" for c in result["cpu_pct"])
    rss = " + ".join(f"{r / 2**20:.0f}" for r in result["rss"])
    print(f"cycle wall p50 {result['p50']:.3f} s, p99 {result['p99']:.3f} s, max {result['max']:.3f} s; service CPU "
          f"{each} of a core, RSS {rss} MiB, threads {' + '.join(map(str, result['threads']))}; broker process CPU "
          f"{result['broker_cpu_pct']:.0f}%, MariaDB CPU {result['db_cpu_pct']:.0f}%")
    print(f"broker calls {result['broker_calls_s']:.0f}/s, DB statements {result['statements_s']:.0f}/s, "
          f"event log lag max {result['lag_max']} events / {result['lag_s_max']:.2f} s; failed steps "
          f"{result['failed_steps']}; cycles still running after the drain {result['unfinished']}")
    print("shared reads: " + ", ".join(f"{name} {asked:,} in {sent:,} statements"
                                       for name, (asked, sent) in result["shared_reads"].items())
          + f"; event log: {result['event_batches_s']:.0f} batches/s; shutdown: {', '.join(result['shutdown'])}")
    print(f"full garbage collections {' + '.join(map(str, result['gc_full']))} taking "
          f"{' + '.join(f'{s:.2f}' for s in result['gc_s'])} s; longest in the whole run "
          f"{result['gc_longest_s']:.2f} s")
    for message, count in result["failure_messages"]:
        print(f"  {count:>7} x {message}")
    total_rss = sum(result["rss"])
    print(f"goals: every cycle inside its interval: {'met' if all_in_time else 'NOT met'}; p99 <= {GOAL_P99_S:g} s: "
          f"{'met' if result['p99'] <= GOAL_P99_S else 'NOT met'}; RSS <= 2 GiB: "
          f"{'met' if total_rss <= GOAL_RSS else 'NOT met'} ({total_rss / 2**20:.0f} MiB in all)", flush=True)
    return result


def kth_ticks(ticks: dict[str, list[Tick]], k: int, warm: float) -> list[Tick]:
    """Every user's k-th tick (k >= 1) from `warm` on: ticks are counted per user, so a tick dispatched a few
    ms late is still its user's k-th, never a neighbouring interval's."""
    found = []
    for user_ticks in ticks.values():
        first = next((i for i, tick in enumerate(user_ticks) if tick.at >= warm), len(user_ticks))
        if first + k - 1 < len(user_ticks):
            found.append(user_ticks[first + k - 1])
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="200 users, 5 s interval, 2 measured intervals (CI, under a minute)")
    parser.add_argument("--users", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--intervals", type=int, default=3, help="measured intervals after the warm-up")
    parser.add_argument("--settle-intervals", type=int, default=1,
                        help="intervals after the first cycles that are reported but not measured: the tail of "
                             "the start-up, while the backlog the first cycles left drains (default 1)")
    parser.add_argument("--interval-s", type=float, default=60.0)
    parser.add_argument("--churn", type=float, default=0.0, metavar="P",
                        help="once an interval from the warm-up on, P %% of the broker's order-book rows change "
                             "(bench/_churn.py) and the fair prices move a tick (default 0: nothing moves)")
    parser.add_argument("--latency", type=int, nargs=2, default=[50, 200], metavar=("MIN_MS", "MAX_MS"))
    parser.add_argument("--connections-per-host", type=int, default=400,
                        help="[broker] connections_per_host (default 400: 10,000 users need ~670 calls/s of "
                             "50-200 ms, ~85 in flight on average; the production default of 20 caps a broker "
                             "host at ~160 calls/s, about 2,000 users)")
    parser.add_argument("--processes", type=int, default=2,
                        help="service processes sharing the users, as replicas do (default 2: one per core here)")
    parser.add_argument("--ticks-json", metavar="PATH",
                        help="also write every user's ticks (start, skipped, wall, clean) and each service process's "
                             "samples of its counters, once a second, to PATH as JSON (times in seconds after "
                             "the warm-up), for a timeline of a run (one --users size)")
    add_database_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.intervals, args.interval_s = [200], 2, 5.0
    if len(args.users) > 1:  # each size in a fresh process: an overloaded run may leave threads behind
        common = ["--intervals", str(args.intervals), "--settle-intervals", str(args.settle_intervals),
                  "--interval-s", str(args.interval_s), "--latency",
                  *map(str, args.latency), "--processes", str(args.processes),
                  "--connections-per-host", str(args.connections_per_host), "--churn", str(args.churn),
                  "--host", args.host,
                  "--port", str(args.port), "--user", args.user, "--password", args.password]
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
    return code


if __name__ == "__main__":
    sys.exit(main())
