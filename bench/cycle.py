"""Benchmark of one user's monitoring cycle: wall time p50/p99, CPU per cycle and a per-step breakdown.

The service is the real runtime (`service.runtime.Runtime`: actors, aiomysql pool, event log, XTS adapter)
on a MariaDB database of its own (`bench_cycle_<pid>`, dropped at the end), against the paper broker in a
separate process (`bench/_paper.py`) with no added latency. One user, 3 accounts; per account:

- 100 internal orders placed through `place_entries` (the batch API's code path) over HTTP: 80 MARKET
  entries that fill at once (the warm-up cycles give each a live SL and TP, placed by Step 4) and 20
  stop entries whose stop the price has not reached (they stay ENTRY_OPEN);
- 740 other broker orders of the same day, seeded in the broker process: filled MARKET orders on 20
  symbols (random sides, so FIFO has matches and open lots), open LIMITs, cancelled and rejected ones.

So each account's order book has 1,000 rows (100 entries + 160 exits + 740 others): 300 orders and 3,000
order-book rows. Fair prices of the 20 symbols sit next to the last price (no stop is crossed) and are
refreshed every 25 cycles, outside the CPU count. After the warm-up the cycles are the steady state: every
step runs (fetch, PnL, sync, protect, modify entries, modify SLs, archive; no regeneration permission) and
finds nothing to change. Cycles run back to back (`run_cycle_now`, next one once `CycleFinished` is seen);
the broker's XTS pacing is off, as a 60 s interval never meets it. The broker reads of the measured cycles
are reported as the XTS adapter counts them: answered with the same bytes as the kept answer (its rows
reused, nothing decoded) or decoded; DB statements per cycle are the service's own count
(`Runtime.db_statements`, BEGIN and COMMIT included, the event log's writes too).

Wall time is CycleStarted.at to CycleFinished.at; per-step time is a step's CommandIssued.at to its last
outcome event, from the cycle's stored events via `replay.timeline.build_timeline` (each cycle is also
replay-checked). CPU per cycle is this process's CPU time (all threads) over the measured cycles, divided
by their number. Goals are reported as met or not met, never asserted; the exit status is 1 only when a
cycle failed, diverged on replay, or did not finish.

Usage (inside the project venv, from the repository root):  python bench/cycle.py [--quick] [--cycles N]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from actors.order_placer.entries import place_entries
from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from adapters.store.secrets import Keyring
from bench._common import BenchDatabase, ProcessStat, add_database_arguments, machine, percentile
from bench._paper import PaperProcess
from domain.entries import NewEntry
from domain.records import FairPrice
from messages.common import Step
from messages.events import CycleFinished, CycleStarted, Event
from replay.fold import check_cycle
from replay.timeline import build_timeline
from service import garbage_collector
from service.config import BrokerConfig
from service.runtime import Runtime

ACCOUNTS = 3
RUNNING_ENTRIES = 80
WAITING_ENTRIES = 20
OTHER_ORDERS = 740
TICK = Decimal("0.05")
ENTRY_INSTRUMENTS = (("RELIANCE", 2885, "2900.00"), ("SBIN", 3045, "800.00"), ("TCS", 11536, "4000.00"),
                     ("INFY", 1594, "1500.00"), ("HDFCBANK", 1333, "1600.00"))
EXTRA_INSTRUMENTS = tuple((f"BENCH{i:02d}", 50_000 + i, f"{100 + 37 * i}.00") for i in range(15))
GOALS = {"p50": 0.100, "p99": 0.250, "cpu": 0.015}
ORIGINAL_DESIGN = "20-50 s per user cycle"


def ticks(value: Decimal) -> Decimal:
    return (value / TICK).quantize(Decimal(1), ROUND_HALF_UP) * TICK


class NullNotifier:
    """Clients that receive everything: the cycle's frames cost what encoding them costs, no socket."""

    async def send(self, user_id: int, frame: Any) -> int:
        return 1


class CycleWatch:
    """Event observer: start and finish times of each cycle, and a signal when one finishes."""

    def __init__(self) -> None:
        self.started: dict[str, datetime] = {}
        self.finished: dict[str, CycleFinished] = {}
        self.done = threading.Event()

    def __call__(self, event: Event) -> None:
        if isinstance(event, CycleStarted):
            self.started[event.cycle_id] = event.at
        elif isinstance(event, CycleFinished):
            self.finished[event.cycle_id] = event
            self.done.set()


def background_orders(client_id: str, rng: random.Random) -> list[list[Any]]:
    """The account's other orders of the day (no tag: placed by hand or by another tool)."""
    instruments = [(sym, iid, Decimal(ltp)) for sym, iid, ltp in ENTRY_INSTRUMENTS + EXTRA_INSTRUMENTS]
    rows = []
    for _ in range(OTHER_ORDERS):
        _, instrument_id, ltp = rng.choice(instruments)
        side = rng.choice(("BUY", "SELL"))
        qty = rng.randint(1, 50)
        roll = rng.random()
        if roll < 0.70:
            rows.append([client_id, "NSECM", instrument_id, side, "MARKET", qty, "0", "0", "", ""])
            continue
        away = ltp * Decimal("0.8") if side == "BUY" else ltp * Decimal("1.2")
        then = "" if roll < 0.80 else "cancel" if roll < 0.92 else "reject"
        rows.append([client_id, "NSECM", instrument_id, side, "LIMIT", qty, str(ticks(away)), "0", "", then])
    return rows


def entries(rng: random.Random) -> list[NewEntry]:
    made = []
    for index in range(RUNNING_ENTRIES + WAITING_ENTRIES):
        symbol, instrument_id, ltp_text = ENTRY_INSTRUMENTS[index % len(ENTRY_INSTRUMENTS)]
        ltp = Decimal(ltp_text)
        side = "BUY" if index % 2 == 0 else "SELL"
        sign = 1 if side == "BUY" else -1
        common = {"strategy": "bench", "symbol": symbol, "exchange_segment": "NSECM", "instrument_id": instrument_id,
                  "side": side, "quantity": rng.randint(1, 50),
                  "sl_stop_price": ticks(ltp * (1 - sign * Decimal("0.05"))),
                  "tp_price": ticks(ltp * (1 + sign * Decimal("0.05")))}
        if index < RUNNING_ENTRIES:
            made.append(NewEntry(**common, entry_type="MARKET"))
        else:
            stop = ticks(ltp * (1 + sign * Decimal("0.03")))
            made.append(NewEntry(**common, entry_type="STOPLIMIT", entry_stop_price=stop,
                                 entry_limit_price=ticks(stop * (1 + sign * Decimal("0.002")))))
    return made


def fair_prices(now: datetime) -> list[FairPrice]:
    return [FairPrice(symbol=symbol, buy_fair_price=Decimal(ltp) + TICK, sell_fair_price=Decimal(ltp) - TICK,
                      updated_at=now) for symbol, _, ltp in ENTRY_INSTRUMENTS + EXTRA_INSTRUMENTS]


class CycleBench:
    def __init__(self, database: BenchDatabase, paper: PaperProcess, client_ids: Sequence[str]) -> None:
        self.watch = CycleWatch()
        garbage_collector.tune_for_service()
        self.runtime = Runtime(database_url=database.url, notifier=NullNotifier(),
                               cycle=CycleConfig(interval_s=86_400, window=TradingWindow(enabled=False)),
                               broker=BrokerConfig(pacing=False), event_observers=(self.watch,),
                               keyring=Keyring(current=os.urandom(32)))
        self.io, self.store = self.runtime.io, self.runtime.store
        self.database = database
        self.user_id, _ = self.io.call(self.store.add_user("bench"))
        self.accounts = [self.io.call(self.store.add_account(self.user_id, "paper", paper.url, client_id,
                                                             app_key=client_id, secret_key="s3cret"))
                         for client_id in client_ids]
        self.io.call(self.store.upsert_desk_prices(fair_prices(datetime.now(UTC))))

    def place_entries(self, rng: random.Random) -> None:
        broker = self.runtime.broker
        for account_id in self.accounts:
            [account] = self.io.call(self.store.broker_accounts(self.user_id, (account_id,)))
            token = self.io.call(broker.login(account))
            self.io.call(self.store.set_account_token(self.user_id, account_id, token))
            [account] = self.io.call(self.store.broker_accounts(self.user_id, (account_id,)))
            results = self.io.call(place_entries(self.store, broker, account, self.user_id, entries(rng),
                                                 self.runtime.clock.now))
            refused = [r for r in results if r.outcome != "placed"]
            if refused:
                raise RuntimeError(f"{len(refused)} seed entries not placed: {refused[0]}")

    def connect(self) -> None:
        self.runtime.system.client_connected(self.user_id, "bench")
        deadline = time.monotonic() + 10
        while self.user_id not in self.runtime.system.registry.user_ids():
            if time.monotonic() > deadline:
                raise RuntimeError("the user's monitor did not start")
            time.sleep(0.005)

    def run_cycle(self) -> str:
        before = set(self.watch.finished)
        self.watch.done.clear()
        self.runtime.system.run_cycle_now(self.user_id)
        deadline = time.monotonic() + 60
        while True:
            self.watch.done.wait(1)
            self.watch.done.clear()
            new = set(self.watch.finished) - before
            if new:
                return new.pop()
            if time.monotonic() > deadline:
                raise RuntimeError("a cycle did not finish within 60 s")

    def refresh_fair_prices(self) -> None:
        self.database.query("UPDATE mainapp_fairprice SET updated_at = UTC_TIMESTAMP(6)")

    def timelines(self, cycle_ids: Sequence[str]) -> list[Any]:
        self.io.call(self.runtime.event_log.flush(30))
        result = []
        for cycle_id in cycle_ids:
            events = self.io.call(self.runtime.event_log.read_cycle(self.user_id, cycle_id))
            check = check_cycle(self.user_id, cycle_id, events, datetime.now(UTC))
            result.append(build_timeline(events, check))
        return result

    def close(self) -> None:
        self.runtime.close()


def step_seconds(timeline: Any) -> dict[str, float]:
    """Each step's time in the cycle: its CommandIssued to its last outcome (all accounts answered)."""
    issued: dict[Step, datetime] = {}
    answered: dict[Step, datetime] = {}
    for entry in timeline.entries:
        if entry.step is None:
            continue
        if entry.event == "command_issued":
            issued.setdefault(entry.step, entry.at)
        elif entry.outcome is not None:
            answered[entry.step] = max(answered.get(entry.step, entry.at), entry.at)
    return {step.value: (answered[step] - issued[step]).total_seconds() for step in issued if step in answered}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 measured cycles (CI, under a minute)")
    parser.add_argument("--cycles", type=int, default=200, help="measured cycles (default 200)")
    parser.add_argument("--warmup", type=int, default=3, help="cycles before measuring (default 3)")
    add_database_arguments(parser)
    parser.add_argument("--seed", type=int, default=20260105)
    args = parser.parse_args(argv)
    cycles = 20 if args.quick else args.cycles
    rng = random.Random(args.seed)
    client_ids = [f"BENCH{index + 1}" for index in range(ACCOUNTS)]
    spec = {"seed": args.seed, "instruments": [["NSECM", iid, sym, ltp] for sym, iid, ltp in EXTRA_INSTRUMENTS],
            "orders": [row for client_id in client_ids for row in background_orders(client_id, rng)]}

    with BenchDatabase("bench_cycle", args.host, args.port, args.user, args.password) as database, \
            PaperProcess(spec) as paper:
        print(f"machine: {machine()}; MariaDB {database.version()}")
        started = time.perf_counter()
        bench = CycleBench(database, paper, client_ids)
        try:
            bench.place_entries(rng)
            bench.connect()
            warmup = [bench.run_cycle() for _ in range(args.warmup)]
            print(f"seeded and warmed up ({args.warmup} cycles) in {time.perf_counter() - started:.1f} s")
            me, broker_stat = ProcessStat(), ProcessStat(paper.pid)
            cpu_before, broker_cpu_before = me.cpu(), broker_stat.cpu()
            xts = bench.runtime.broker.adapter("paper")
            reads_before, statements_before = xts.read_reuse(), bench.runtime.db_statements()
            excluded_cpu = 0.0
            measured: list[str] = []
            wall_started = time.perf_counter()
            for index in range(cycles):
                if index and index % 25 == 0:
                    before = me.cpu()
                    bench.refresh_fair_prices()
                    excluded_cpu += me.cpu() - before
                measured.append(bench.run_cycle())
            bench.io.call(bench.runtime.event_log.flush(30))
            elapsed = time.perf_counter() - wall_started
            cpu_per_cycle = (me.cpu() - cpu_before - excluded_cpu) / cycles
            broker_cpu_per_cycle = (broker_stat.cpu() - broker_cpu_before) / cycles
            _, rss, threads = me.read()
            reads_after = xts.read_reuse()
            statements = bench.runtime.db_statements() - statements_before
            timelines = bench.timelines(warmup + measured)
        finally:
            bench.close()

    failures = []
    walls = []
    steps: dict[str, list[float]] = defaultdict(list)
    order_rows = set()
    requests = 0
    for index, timeline in enumerate(timelines):
        if not timeline.check.clean or timeline.check.error_count:
            failures.append(f"{timeline.cycle_id}: {timeline.check.status}, {timeline.check.error_count} errors, "
                            f"{len(timeline.check.divergences)} divergences, {len(timeline.check.problems)} problems")
        if index < len(warmup):
            continue
        walls.append(timeline.duration_ms)
        walls[-1] = (bench.watch.finished[timeline.cycle_id].at
                     - bench.watch.started[timeline.cycle_id]).total_seconds()
        for step, seconds in step_seconds(timeline).items():
            steps[step].append(seconds)
        for entry in timeline.entries:
            requests += len(entry.actions)
            if entry.event == "snapshot_fetched":
                order_rows.add(entry.detail.split(" ")[0])

    p50, p99 = percentile(walls, 0.50), percentile(walls, 0.99)
    print(f"{cycles} cycles in {elapsed:.1f} s; order rows per account fetched: {', '.join(sorted(order_rows))}; "
          f"broker requests made by measured cycles: {requests}")
    print(f"broker reads by measured cycles: {reads_after.reused - reads_before.reused} answered with the same bytes "
          f"as the kept answer (rows reused), {reads_after.decoded - reads_before.decoded} decoded; "
          f"DB statements per cycle: {statements / cycles:.1f}")
    print(f"cycle wall: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {max(walls) * 1000:.1f} ms, "
          f"mean {sum(walls) / len(walls) * 1000:.1f} ms")
    print(f"CPU per cycle: service {cpu_per_cycle * 1000:.1f} ms, paper broker process "
          f"{broker_cpu_per_cycle * 1000:.1f} ms; service RSS {rss / 2**20:.0f} MiB, {threads} threads")
    print(f"{'step':<20} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    accounted = 0.0
    for step in Step:
        values = steps.get(step.value)
        if values:
            accounted += sum(values) / len(values)
            print(f"{step.value:<20} {percentile(values, 0.5) * 1000:>8.1f} {percentile(values, 0.99) * 1000:>8.1f} "
                  f"{sum(values) / len(values) * 1000:>8.1f}")
    print(f"{'between steps':<20} {'':>8} {'':>8} {(sum(walls) / len(walls) - accounted) * 1000:>8.1f}")
    for name, value, goal in (("p50", p50, GOALS["p50"]), ("p99", p99, GOALS["p99"]),
                              ("CPU per cycle", cpu_per_cycle, GOALS["cpu"])):
        print(f"goal {name} <= {goal * 1000:.0f} ms: {value * 1000:.1f} ms, {'met' if value <= goal else 'NOT met'}")
    print(f"original design: {ORIGINAL_DESIGN}")
    if failures:
        print(f"FAILED: {len(failures)} cycle(s) not clean: {failures[:3]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
