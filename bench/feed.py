"""Benchmark of the fair-price feed at scale: U monitored users holding ~N distinct instruments, the market moving
T prices a second, and how late each move reaches `mainapp_fairprice` (issue 23: 10,000 users, ~2,000
instruments, p99 tick-to-table <= 1 s).

The feed is the service's own (`service.fair_price_feed.FairPriceFeed` with the real `XtsMarketData` client:
REST login and subscriptions, python-socketio over loopback, the production defaults of a 0.2 s flush and a 5 s
refresh, the `touch` model), run on a uvloop loop in this process against a MariaDB database of its own
(`bench_feed_<pid>`, dropped at the end), with `users()` answering every seeded user, so each refresh reads the
users' rows and deduplicates their instruments (`watched_instruments`) and the client subscribes every one of
them. Each user has one active `paper` account with 3 open orders (PENDING, ENTRY_OPEN or RUNNING) and 2 non-flat
positions, and a closed order and a flat position that the feed must not watch; instruments are drawn by a
zipf-like popularity (weight 1/rank: a few instruments held by thousands of users, most by a handful), and
every instrument is held by someone (user u's first order is on instrument u mod N). All bulk-inserted.

The paper broker runs in its own process (`bench/_paper.py`) with the N instruments registered and its market
data subscription cap raised from 50 to 2N (`md_subscription_cap`). The market is `bench/_feed_driver.py`, a
third process: every `--batch-s` one `/_sim/prices` request of moves on instruments drawn uniformly, each at a
price never seen before, which the paper publishes on its Socket.IO stream. Once every instrument has a feed
row (the subscription's snapshots), the driver starts; after `--warmup-s` the measured window of
`--measure-s` begins; then the driver stops and the feed runs `--drain-s` more so the window's last moves can
land, and is stopped.

Measured over the window's moves (times on CLOCK_MONOTONIC, shared by the three processes):
- tick-to-table: from the driver sending a move to the commit of the first feed write whose row holds that
  move's price or a later one of the same instrument (a move overtaken before the next write is conflated: the
  feed writes the latest quote of each instrument, the row then holding a later price);
- send-to-arrival: from the driver sending a move to its quote reaching the client's `on_quote` (the request,
  the paper's move, Socket.IO's emit, the client's decoding);
- arrival-to-commit: the feed's own `observe_lag` hook (quote arrival to its row's commit), what the service's
  `fair_price_lag` metric exports;
- CPU % of one core of this process (the feed and the few appends that record the above), the paper's, the
  driver's and MariaDB's; RSS; rows written and write batches per second; each refresh's time (its
  `watched_instruments` over all users, and the whole refresh), the first one (which subscribes everything) apart.
The goal is reported as met or not met, never asserted; the exit status is 1 only on a real error (setup, a
driver or feed failure, or moves that never reached the table).

Usage (inside the project venv, from the repository root):
    python bench/feed.py [--quick] [--users 10000] [--instruments 2000] [--ticks-per-s 2000]
                         [--warmup-s 10] [--measure-s 60] [--profile PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import cProfile
import gc
import json
import os
import random
import signal
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from actors.io_loop import new_event_loop
from adapters.broker.xts_md import XtsMarketData
from adapters.store.factory import connect_store, migrate_url
from bench._common import BenchDatabase, ProcessStat, add_database_arguments, machine, mysqld_pid, percentile
from bench._feed_driver import TICK
from bench._paper import ChildProcess, PaperProcess
from bench._scale_share import GcPauses
from domain.quotes import FairModels, Quote
from domain.records import FairPrice
from service import garbage_collector
from service.fair_price_feed import FairPriceFeed

GOAL_P99_S = 1.0
OPEN_STATUSES = ("PENDING", "ENTRY_OPEN", "RUNNING")
SEGMENT = "NSECM"
FIRST_INSTRUMENT_ID = 100_001


def instruments(count: int, rng: random.Random) -> list[tuple[str, int, Decimal]]:
    """(symbol, instrument id, base price) of each instrument, by popularity rank."""
    return [(f"FEED{index:04d}", FIRST_INSTRUMENT_ID + index, TICK * rng.randint(1_000, 100_000))
            for index in range(count)]


def seed_database(database: BenchDatabase, users: int, listed: Sequence[tuple[str, int, Decimal]], broker_url: str,
                  rng: random.Random) -> dict[str, int]:
    """Users, accounts, orders and positions, bulk-inserted; how many rows of each."""
    now = datetime.now(UTC).replace(tzinfo=None)
    popular = rng.choices(range(len(listed)), weights=[1 / rank for rank in range(1, len(listed) + 1)],
                          k=users * 5)
    database.insert_many("INSERT INTO users (id, name, token_hash, created_at) VALUES (%s, %s, %s, %s)",
                         [(u, f"user{u}", f"{u:064x}", now) for u in range(1, users + 1)])
    database.insert_many(
        "INSERT INTO accounts (id, user_id, broker, base_url, client_id, created_at, updated_at)"
        " VALUES (%s, %s, 'paper', %s, %s, %s, %s)",
        [(u, u, broker_url, f"F{u}", now, now) for u in range(1, users + 1)])
    orders, positions = [], []
    for user in range(1, users + 1):
        drawn = popular[(user - 1) * 5:user * 5]
        held = [user % len(listed), drawn[0], drawn[1]]
        for index, status in zip([*held, drawn[2]], [*rng.sample(OPEN_STATUSES, 3), "CLOSED"], strict=True):
            symbol, instrument_id, _ = listed[index]
            orders.append((user, user, symbol, instrument_id, rng.choice(("BUY", "SELL")), status, now, now))
        for ordinal, (index, net_qty) in enumerate(((drawn[3], 10), (drawn[4], -5), (drawn[2], 0))):
            symbol, instrument_id, base = listed[index]
            positions.append((user, user, ordinal, now, f"F{user}", symbol, instrument_id, net_qty, base, base,
                              max(net_qty, 0), max(-net_qty, 0), -net_qty * base))
    database.insert_many(
        "INSERT INTO orders (user_id, account_id, strategy, symbol, exchange_segment, instrument_id, side,"
        " quantity, entry_type, status, created_at, updated_at)"
        " VALUES (%s, %s, 'bench', %s, 'NSECM', %s, %s, 10, 'LIMIT', %s, %s, %s)", orders)
    database.insert_many(
        "INSERT INTO broker_position (user_id, account_id, ordinal, fetched_at, client_id, symbol, exchange_segment,"
        " instrument_id, product_type, net_qty, buy_avg_price, sell_avg_price, open_buy_qty, open_sell_qty,"
        " net_amount, mtm, realized_mtm, unrealized_mtm, multiplier)"
        " VALUES (%s, %s, %s, %s, %s, %s, 'NSECM', %s, 'NRML', %s, %s, %s, %s, %s, %s, 0, 0, 0, 1)", positions)
    return {"users": users, "accounts": users, "orders": len(orders), "positions": len(positions)}


class StampedStore:
    """The store as the feed uses it (`watched_instruments`, `upsert_feed_prices`), stamping each committed
    write with its moment and rows, and timing each `watched_instruments`."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.commits: list[tuple[float, list[FairPrice]]] = []
        self.watched_reads: list[tuple[float, float]] = []
        """(end, seconds) of each `watched_instruments`."""

    async def watched_instruments(self, user_ids: Sequence[int], brokers: Sequence[str]) -> Any:
        started = time.perf_counter()
        found = await self._store.watched_instruments(user_ids, brokers)
        self.watched_reads.append((time.monotonic(), time.perf_counter() - started))
        return found

    async def upsert_feed_prices(self, prices: Sequence[FairPrice]) -> None:
        await self._store.upsert_feed_prices(prices)
        self.commits.append((time.monotonic(), list(prices)))


class MeasuredFeed(FairPriceFeed):
    """The feed, timing each refresh; (end, seconds) of each in `refreshes`."""

    refreshes: list[tuple[float, float]]

    async def refresh(self) -> None:
        started = time.perf_counter()
        await super().refresh()
        self.refreshes.append((time.monotonic(), time.perf_counter() - started))


class Driver(ChildProcess):
    """`bench/_feed_driver.py` as a child process: started, then stopped to read its log of sent moves."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__("bench._feed_driver", spec, output="log")

    def wait_driving(self) -> None:
        line = self.process.stdout.readline().strip() if self.process.stdout else ""
        if line != "driving":
            raise RuntimeError(f"the market driver did not start (exit {self.process.poll()})")

    def stop(self) -> list[list[Any]]:
        self.process.send_signal(signal.SIGTERM)
        if self.process.wait(30) != 0:
            raise RuntimeError(f"the market driver failed (exit {self.process.returncode})")
        with open(self.output_path) as log:
            return json.load(log)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.remove_files()


async def run_feed(args: argparse.Namespace, database: BenchDatabase, paper: PaperProcess,
                   listed: Sequence[tuple[str, int, Decimal]]) -> dict[str, Any]:
    """Run the feed, the driver and the window; everything the report needs."""
    store = await connect_store(database.url)
    http = aiohttp.ClientSession()
    stamped = StampedStore(store)
    arrivals: list[tuple[float, int, Decimal | None]] = []
    lags: list[tuple[float, float]] = []

    def market_data(on_quote: Callable[[Quote], None]) -> XtsMarketData:
        def arrived(quote: Quote) -> None:
            arrivals.append((time.monotonic(), quote.instrument_id, quote.bid))
            on_quote(quote)

        return XtsMarketData(http, base_url=paper.url, app_key="FEEDBENCH", secret_key="s3cret", on_quote=arrived)

    feed = MeasuredFeed(stamped, market_data, models=FairModels(), users=lambda: range(1, args.users + 1),
                        brokers=("xts", "paper"), now=lambda: datetime.now(UTC),
                        flush_interval_s=args.flush_interval_s, refresh_s=args.refresh_s,
                        observe_lag=lambda seconds: lags.append((time.monotonic(), seconds)))
    feed.refreshes = []
    driver: Driver | None = None
    started = time.monotonic()
    task = asyncio.create_task(feed.run())
    try:
        symbols = {symbol for symbol, _, _ in listed}
        written: set[str] = set()
        while written < symbols:
            if task.done():
                task.result()
            if time.monotonic() - started > 120:
                raise RuntimeError(f"only {len(written)} of {len(symbols)} instruments written after 120 s")
            await asyncio.sleep(0.05)
            written = {price.symbol for _, prices in stamped.commits for price in prices}
        subscribed_s = time.monotonic() - started
        garbage_collector.freeze_startup_objects()
        gc_pauses = GcPauses()
        gc.callbacks.append(gc_pauses)
        driver = Driver({"url": paper.url, "instruments": [[symbol, str(base)] for symbol, _, base in listed],
                         "ticks_per_s": args.ticks_per_s, "batch_s": args.batch_s, "seed": args.seed})
        await asyncio.to_thread(driver.wait_driving)
        await asyncio.sleep(args.warmup_s)
        stats = {"feed": ProcessStat(), "paper": ProcessStat(paper.pid), "driver": ProcessStat(driver.pid)}
        if (db_pid := mysqld_pid()) is not None:
            stats["MariaDB"] = ProcessStat(db_pid)
        cpu_before = {name: stat.cpu() for name, stat in stats.items()}
        written_before = feed.written
        load = [os.getloadavg()[0]]
        gc_before = (gc_pauses.full, gc_pauses.total_s)
        window = (time.monotonic(), time.monotonic() + args.measure_s)
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        await asyncio.sleep(args.measure_s)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        seconds = time.monotonic() - window[0]
        load.append(os.getloadavg()[0])
        gc_window = {"full": gc_pauses.full - gc_before[0], "total_s": gc_pauses.total_s - gc_before[1],
                     "longest_s": gc_pauses.longest_s}
        cpu = {name: 100 * (stat.cpu() - cpu_before[name]) / seconds for name, stat in stats.items()}
        _, rss, threads = stats["feed"].read()
        rows_written = feed.written - written_before
        sent = await asyncio.to_thread(driver.stop)
        await asyncio.sleep(args.drain_s)
        if task.done():
            task.result()
        instruments_watched = feed.instruments
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await feed.market_data.close()
        if driver is not None:
            driver.close()
        await http.close()
        await store.close()
    return {"window": window, "seconds": seconds, "cpu": cpu, "rss": rss, "threads": threads,
            "rows_written": rows_written, "sent": sent, "commits": stamped.commits, "arrivals": arrivals,
            "lags": lags, "refreshes": feed.refreshes, "watched_reads": stamped.watched_reads,
            "subscribed_s": subscribed_s, "instruments_watched": instruments_watched, "load": load,
            "gc": gc_window}


def report(args: argparse.Namespace, listed: Sequence[tuple[str, int, Decimal]], run: dict[str, Any]) -> int:
    start, end = run["window"]
    base_of = {symbol: base for symbol, _, base in listed}
    index_of_symbol = {symbol: index for index, (symbol, _, _) in enumerate(listed)}
    index_of_id = {instrument_id: index for index, (_, instrument_id, _) in enumerate(listed)}

    def move_of(index: int, bid: Decimal) -> int:
        return int((bid - listed[index][2]) / TICK)

    commits: dict[int, tuple[list[float], list[int]]] = {}
    for at, prices in run["commits"]:
        for price in prices:
            index = index_of_symbol[price.symbol]
            times, reached = commits.setdefault(index, ([], []))
            times.append(at)
            reached.append(max(move_of(index, price.sell_fair_price), reached[-1] if reached else 0))
    first_arrival: dict[tuple[int, int], float] = {}
    for at, instrument_id, bid in run["arrivals"]:
        index = index_of_id[instrument_id]
        if bid is not None:
            first_arrival.setdefault((index, move_of(index, bid)), at)
    exact_writes = {(index_of_symbol[p.symbol], move_of(index_of_symbol[p.symbol], p.sell_fair_price))
                    for _, prices in run["commits"] for p in prices if p.symbol in base_of}

    to_table, to_arrival, round_trips = [], [], []
    timeline: list[tuple[float, float | None, float | None]] = []
    moves = unwritten = not_arrived = conflated = 0
    for sent, answered, picked in run["sent"]:
        if not start <= sent < end:
            continue
        round_trips.append(answered - sent)
        for index, move in picked:
            moves += 1
            times, reached = commits.get(index, ([], []))
            at = bisect.bisect_left(reached, move)
            table = None if at == len(reached) else times[at] - sent
            if table is None:
                unwritten += 1
            else:
                to_table.append(table)
                conflated += (index, move) not in exact_writes
            arrival = first_arrival.get((index, move))
            if arrival is None:
                not_arrived += 1
            else:
                to_arrival.append(arrival - sent)
            timeline.append((sent - start, None if arrival is None else arrival - sent, table))
    in_window = [seconds for at, seconds in run["lags"] if start <= at < end]
    batches = [prices for at, prices in run["commits"] if start <= at < end]
    seconds = run["seconds"]
    refreshes = [s for at, s in run["refreshes"][1:] if at >= start]
    reads = [s for at, s in run["watched_reads"][1:] if at >= start]

    def spread(values: Sequence[float], unit: float = 1000) -> str:
        if not values:
            return "none"
        return (f"p50 {percentile(values, 0.5) * unit:.1f} / p99 {percentile(values, 0.99) * unit:.1f} / max "
                f"{max(values) * unit:.1f}")

    print(f"window {seconds:.1f} s: {moves:,} moves sent ({moves / seconds:,.0f}/s, asked {args.ticks_per_s:,}/s) in "
          f"{len(round_trips):,} requests; request round trip ms {spread(round_trips)}")
    print(f"tick-to-table ms (driver sent -> row holding that price or a later one committed): {spread(to_table)}; "
          f"{conflated:,} moves ({100 * conflated / max(moves, 1):.1f} %) conflated into a later one's write, "
          f"{unwritten:,} not written by the end")
    print(f"  send-to-arrival ms (driver sent -> quote at the client's on_quote): {spread(to_arrival)}; "
          f"{not_arrived:,} never arrived")
    print(f"  arrival-to-commit ms (the feed's observe_lag hook): {spread(in_window)} over {len(in_window):,} rows")
    rows = sum(len(b) for b in batches)
    print(f"writes: {run['rows_written'] / seconds:,.0f} rows/s in {len(batches) / seconds:.1f} batches/s "
          f"({rows / max(len(batches), 1):,.0f} rows a batch)")
    print(f"refresh (watched_instruments over {args.users:,} users, {run['instruments_watched']:,} instruments): "
          f"the first {run['refreshes'][0][1] * 1000:.0f} ms (every instrument subscribed and written "
          f"{run['subscribed_s']:.1f} s after the feed started), then in the window {len(refreshes)} refreshes ms "
          f"{spread(refreshes)}, of which the read {spread(reads)}")
    cpu = ", ".join(f"{name} {pct:.0f}%" for name, pct in run["cpu"].items())
    print(f"CPU of one core: {cpu}; feed process RSS {run['rss'] / 2**20:.0f} MiB, {run['threads']} threads; "
          f"full garbage collections {run['gc']['full']} taking {run['gc']['total_s']:.2f} s (longest in the run "
          f"{run['gc']['longest_s']:.2f} s); load average {run['load'][0]:.2f} at the window's start, "
          f"{run['load'][1]:.2f} at its end")
    if args.moves_json:
        with open(args.moves_json, "w") as out:
            json.dump({"moves": timeline, "refreshes": [[at - start, s] for at, s in run["refreshes"]],
                       "commits": [[at - start, len(prices)] for at, prices in run["commits"]]}, out)
    p99 = percentile(to_table, 0.99)
    print(f"goal p99 tick-to-table <= {GOAL_P99_S:g} s: {p99:.3f} s, {'met' if p99 <= GOAL_P99_S else 'NOT met'}",
          flush=True)
    if unwritten or not to_table:
        print(f"FAILED: {unwritten} moves of the window never reached the table", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="500 users, 100 instruments, 500 moves/s, 2 s warm-up, 5 s measured (CI)")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--instruments", type=int, default=2_000)
    parser.add_argument("--ticks-per-s", type=int, default=2_000, help="price moves a second (default 2,000)")
    parser.add_argument("--batch-s", type=float, default=0.01,
                        help="the driver sends its moves every BATCH_S in one /_sim/prices request (default 0.01)")
    parser.add_argument("--warmup-s", type=float, default=10.0)
    parser.add_argument("--measure-s", type=float, default=60.0)
    parser.add_argument("--drain-s", type=float, default=3.0,
                        help="the feed runs this long after the driver stopped, for the window's last moves")
    parser.add_argument("--flush-interval-s", type=float, default=0.2, help="the feed's (default: the service's)")
    parser.add_argument("--refresh-s", type=float, default=5.0, help="the feed's (default: the service's)")
    parser.add_argument("--profile", metavar="PATH", help="cProfile the feed process over the window into PATH")
    parser.add_argument("--moves-json", metavar="PATH",
                        help="also write each measured move's [sent, send-to-arrival, tick-to-table] (seconds, sent "
                             "counted from the window's start), each refresh's [end, seconds] and each write's "
                             "[commit, rows] to PATH as JSON, for a timeline")
    parser.add_argument("--seed", type=int, default=23)
    add_database_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.instruments, args.ticks_per_s, args.warmup_s, args.measure_s = 500, 100, 500, 2.0, 5.0
    garbage_collector.tune_for_service()
    rng = random.Random(args.seed)
    listed = instruments(args.instruments, rng)
    print(f"machine: {machine()}; nproc {os.cpu_count()}", flush=True)
    started = time.perf_counter()
    spec = {"seed": args.seed, "md_subscription_cap": 2 * args.instruments,
            "instruments": [[SEGMENT, instrument_id, symbol, str(base + TICK)]
                            for symbol, instrument_id, base in listed]}
    with BenchDatabase("bench_feed", args.host, args.port, args.user, args.password) as database, \
            PaperProcess(spec) as paper:
        print(f"MariaDB {database.version()}", flush=True)
        asyncio.run(migrate_url(database.url))
        seeded = seed_database(database, args.users, listed, paper.url, rng)
        print(f"seeded {', '.join(f'{count:,} {name}' for name, count in seeded.items())} over {len(listed):,} "
              f"instruments in {time.perf_counter() - started:.1f} s; {args.ticks_per_s:,} moves/s in requests every "
              f"{args.batch_s:g} s; warm-up {args.warmup_s:g} s, window {args.measure_s:g} s", flush=True)
        with asyncio.Runner(loop_factory=new_event_loop) as runner:  # uvloop, as the service runs
            run = runner.run(run_feed(args, database, paper, listed))
    return report(args, listed, run)


if __name__ == "__main__":
    sys.exit(main())
