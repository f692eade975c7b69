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
order-book rows. Fair prices of the 20 symbols sit next to the last price (no stop is crossed).

The measured cycles run at each churn level of `--churn` (default 0, 1, 10 and 100 %), one after the other on
the same service, reported side by side. At 0 % nothing changes (the fair prices are re-dated every 25 cycles):
the steady state, where every step runs (fetch, PnL, sync, protect, modify entries, modify SLs, archive; no
regeneration permission) and finds nothing to change. At P > 0, before each cycle P % of every book's rows
change at the broker (`bench/_churn.py`: fills, partial fills, cancels, new orders, rejections, re-reported
service orders) and every fair price moves a tick, both outside the CPU count. The same run times the decode
of one account's order book and trade book by msgspec alone into plain structs (the floor) and by the adapter
with no row kept (every row new), and reports the ratio.

Cycles run back to back (`run_cycle_now`, next one once `CycleFinished` is seen); the broker's XTS pacing is
off, as a 60 s interval never meets it. The broker reads of the measured cycles are reported as the XTS adapter
counts them: answers with the same bytes as the kept answer (its rows reused, nothing decoded) or decoded, and
of the decoded ones the rows reused (same bytes as a kept row) or decoded, with the decoding's CPU time; DB
statements per cycle are the service's own count
(`Runtime.db_statements`, BEGIN and COMMIT included, the event log's writes too).

Wall time is CycleStarted.at to CycleFinished.at; per-step time is a step's CommandIssued.at to its last
outcome event, from the cycle's stored events via `replay.timeline.build_timeline` (each cycle is also
replay-checked). CPU per cycle is this process's CPU time (all threads) over the measured cycles, divided
by their number. Goals are reported as met or not met, never asserted; the exit status is 1 only when a
cycle failed, diverged on replay, or did not finish.

Usage (inside the project venv, from the repository root):
    python bench/cycle.py [--quick] [--cycles N] [--churn 0,1,10,100]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from actors.order_placer.entries import place_entries
from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from adapters.broker import xts_wire
from adapters.broker.json_rows import rows_by_bytes
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
CHURN_GOALS = {"p50": 0.060, "p99": 0.150, "cpu": 0.020, "cpu_all_new": 0.030}
DECODE_GOAL = 3.0
"""The adapter's decode of a book whose every row is new, as a multiple of msgspec's floor for the same bytes."""
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

    def move_fair_prices(self, rng: random.Random) -> None:
        """Every symbol's fair prices a tick up, down or where they were, never near a stop (3 % away and more)."""
        now = datetime.now(UTC)
        moved = [FairPrice(symbol=symbol, buy_fair_price=Decimal(ltp) + TICK * (1 + shift),
                           sell_fair_price=Decimal(ltp) - TICK * (1 - shift), updated_at=now)
                 for symbol, _, ltp in ENTRY_INSTRUMENTS + EXTRA_INSTRUMENTS
                 for shift in (rng.choice((-1, 0, 1)),)]
        self.io.call(self.store.upsert_desk_prices(moved))

    def book_bytes(self, paper_url: str, route: str) -> bytes:
        """The first account's answer of a read route, as the broker sends it."""
        [account] = self.io.call(self.store.broker_accounts(self.user_id, (self.accounts[0],)))
        request = urllib.request.Request(f"{paper_url}/interactive/{route}?clientID={account.client_id}",
                                         headers={"Authorization": account.token})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

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


class Phase:
    """The measured cycles of one churn level and what they cost."""

    def __init__(self, percent: float) -> None:
        self.percent = percent
        self.cycle_ids: list[str] = []
        self.changes: Counter[str] = Counter()
        self.elapsed = self.cpu = self.broker_cpu = 0.0
        self.reads = ReadCounts()
        self.statements = 0
        self.walls: list[float] = []
        self.steps: dict[str, list[float]] = defaultdict(list)
        self.requests = 0

    def per_cycle(self, total: float) -> float:
        return total / len(self.cycle_ids)


class ReadCounts(msgspec.Struct, kw_only=True):
    """The XTS adapter's reads over a phase: answers reused whole or decoded, rows reused or decoded, and the
    CPU time of decoding."""

    reused: int = 0
    decoded: int = 0
    rows_reused: int = 0
    rows_decoded: int = 0
    decode_s: float = 0.0


def measure(bench: CycleBench, paper: PaperProcess, phase: Phase, cycles: int, rng: random.Random) -> None:
    """`cycles` cycles at the phase's churn: before each, P % of every book changes at the broker and the fair
    prices move (both outside the CPU count); at 0 % nothing changes and the fair prices are only re-dated
    every 25 cycles, as the steady state always was."""
    me, broker_stat = ProcessStat(), ProcessStat(paper.pid)
    xts = bench.runtime.broker.adapter("paper")
    cpu_before, broker_cpu_before = me.cpu(), broker_stat.cpu()
    reads_before, rows_before = xts.read_reuse(), xts.row_reuse()
    statements_before = bench.runtime.db_statements()
    excluded_cpu = 0.0
    started = time.perf_counter()
    for index in range(cycles):
        before = me.cpu()
        if phase.percent:
            phase.changes.update(paper.churn(phase.percent))
            bench.move_fair_prices(rng)
        elif index and index % 25 == 0:
            bench.refresh_fair_prices()
        excluded_cpu += me.cpu() - before
        phase.cycle_ids.append(bench.run_cycle())
    bench.io.call(bench.runtime.event_log.flush(30))
    phase.elapsed = time.perf_counter() - started
    phase.cpu = me.cpu() - cpu_before - excluded_cpu
    phase.broker_cpu = broker_stat.cpu() - broker_cpu_before
    reads, rows = xts.read_reuse(), xts.row_reuse()
    phase.reads = ReadCounts(reused=reads.reused - reads_before.reused, decoded=reads.decoded - reads_before.decoded,
                             rows_reused=rows.reused - rows_before.reused,
                             rows_decoded=rows.decoded - rows_before.decoded,
                             decode_s=rows.decode_s - rows_before.decode_s)
    phase.statements = bench.runtime.db_statements() - statements_before


def fold_timelines(bench: CycleBench, phase: Phase, timelines: Sequence[Any], failures: list[str]) -> None:
    for timeline in timelines:
        if not timeline.check.clean or timeline.check.error_count:
            failures.append(f"{timeline.cycle_id}: {timeline.check.status}, {timeline.check.error_count} errors, "
                            f"{len(timeline.check.divergences)} divergences, {len(timeline.check.problems)} problems")
        phase.walls.append((bench.watch.finished[timeline.cycle_id].at
                            - bench.watch.started[timeline.cycle_id]).total_seconds())
        for step, seconds in step_seconds(timeline).items():
            phase.steps[step].append(seconds)
        phase.requests += sum(len(entry.actions) for entry in timeline.entries)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def report(phases: Sequence[Phase], rss: int, threads: int) -> None:
    """The phases side by side: one column per churn level."""
    header = f"{'churn':<26}" + "".join(f"{f'{phase.percent:g} %':>11}" for phase in phases)
    print(header)

    def row(name: str, values: Sequence[str]) -> None:
        print(f"{name:<26}" + "".join(f"{value:>11}" for value in values))

    row("cycles", [str(len(p.cycle_ids)) for p in phases])
    row("rows changed per cycle", [f"{sum(p.changes.values()) / len(p.cycle_ids):.0f}" for p in phases])
    row("wall p50 ms", [ms(percentile(p.walls, 0.5)) for p in phases])
    row("wall p99 ms", [ms(percentile(p.walls, 0.99)) for p in phases])
    row("wall max ms", [ms(max(p.walls)) for p in phases])
    row("CPU per cycle ms", [ms(p.per_cycle(p.cpu)) for p in phases])
    row("broker CPU per cycle ms", [ms(p.per_cycle(p.broker_cpu)) for p in phases])
    row("reads reused / decoded", [f"{p.reads.reused}/{p.reads.decoded}" for p in phases])
    row("rows reused per cycle", [f"{p.per_cycle(p.reads.rows_reused):.0f}" for p in phases])
    row("rows decoded per cycle", [f"{p.per_cycle(p.reads.rows_decoded):.0f}" for p in phases])
    row("decode CPU per cycle ms", [ms(p.per_cycle(p.reads.decode_s)) for p in phases])
    row("DB statements per cycle", [f"{p.per_cycle(p.statements):.1f}" for p in phases])
    row("broker requests (cycles)", [str(p.requests) for p in phases])
    for step in Step:
        if any(p.steps.get(step.value) for p in phases):
            row(f"  {step.value} p50 ms", [ms(percentile(p.steps.get(step.value, []), 0.5)) for p in phases])
    for phase in phases:
        kinds = ", ".join(f"{kind} {count / len(phase.cycle_ids):.1f}" for kind, count in sorted(phase.changes.items()))
        print(f"changes per cycle at {phase.percent:g} %: {kinds or 'none'}")
    print(f"service RSS {rss / 2**20:.0f} MiB, {threads} threads (after every phase)")


def report_goals(phases: Sequence[Phase], decode_ratio: float) -> None:
    by_percent = {phase.percent: phase for phase in phases}
    checks: list[tuple[str, float, float, str]] = []
    if 0 in by_percent:
        steady = by_percent[0]
        checks += [("0 % p50", percentile(steady.walls, 0.5), GOALS["p50"], "ms"),
                   ("0 % CPU per cycle", steady.per_cycle(steady.cpu), GOALS["cpu"], "ms")]
    if 10 in by_percent:
        tenth = by_percent[10]
        checks += [("10 % p50", percentile(tenth.walls, 0.5), CHURN_GOALS["p50"], "ms"),
                   ("10 % p99", percentile(tenth.walls, 0.99), CHURN_GOALS["p99"], "ms"),
                   ("10 % CPU per cycle", tenth.per_cycle(tenth.cpu), CHURN_GOALS["cpu"], "ms")]
    if 100 in by_percent:
        every = by_percent[100]
        checks.append(("100 % CPU per cycle", every.per_cycle(every.cpu), CHURN_GOALS["cpu_all_new"], "ms"))
    for name, value, goal, _unit in checks:
        print(f"goal {name} <= {ms(goal)} ms: {ms(value)} ms, {'met' if value <= goal else 'NOT met'}")
    print(f"goal adapter decode <= {DECODE_GOAL:g}x the msgspec floor: {decode_ratio:.2f}x, "
          f"{'met' if decode_ratio <= DECODE_GOAL else 'NOT met'}")
    print(f"original design: {ORIGINAL_DESIGN}")


class FloorOrderRow(msgspec.Struct):
    """An order-book row's fields as the cheapest types msgspec has for them: strings, integers, and floats for
    the prices (the adapter must give `Decimal`s and aware times instead)."""

    ClientID: str
    AppOrderID: int
    ExchangeOrderID: str
    ExchangeSegment: str
    ExchangeInstrumentID: int
    TradingSymbol: str
    OrderSide: str
    OrderType: str
    ProductType: str
    TimeInForce: str
    OrderPrice: int | float
    OrderQuantity: int
    OrderStopPrice: int | float
    OrderStatus: str
    OrderAverageTradedPrice: str
    LeavesQuantity: int
    CumulativeQuantity: int
    OrderGeneratedDateTime: str
    LastUpdateDateTime: str
    CancelRejectReason: str
    OrderUniqueIdentifier: str


class FloorTradeRow(FloorOrderRow):
    ExecutionID: str
    LastTradedPrice: int | float
    LastTradedQuantity: int
    LastExecutionTransactTime: str


class FloorOrders(msgspec.Struct):
    type: str
    code: str
    description: str
    result: list[FloorOrderRow]


class FloorTrades(msgspec.Struct):
    type: str
    code: str
    description: str
    result: list[FloorTradeRow]


class DecodeFloor(msgspec.Struct):
    """One route's answer decoded by msgspec alone (the floor) and by the adapter with no row kept (every row
    new, as at 100 % churn), its parsed times forgotten first (cold) or not (warm); best of the repeats."""

    route: str
    rows: int
    size: int
    floor_s: float
    adapter_cold_s: float
    adapter_warm_s: float

    @property
    def ratio(self) -> float:
        return self.adapter_cold_s / self.floor_s

    def describe(self) -> str:
        return (f"decode of the {self.route} ({self.rows} rows, {self.size / 1024:.0f} KiB): msgspec floor "
                f"{ms(self.floor_s)} ms, adapter {ms(self.adapter_cold_s)} ms with times new "
                f"({self.ratio:.2f}x), {ms(self.adapter_warm_s)} ms with times seen "
                f"({self.adapter_warm_s / self.floor_s:.2f}x)")


def decode_floor(route: str, body: bytes, repeats: int = 30) -> DecodeFloor:
    floor_type, to_rows = {"orders": (FloorOrders, xts_wire.order_rows),
                           "orders/trades": (FloorTrades, xts_wire.trade_rows)}[route]
    floor_decoder = msgspec.json.Decoder(floor_type)

    def adapter() -> list[Any]:
        result = xts_wire.decode_envelope(body, rows=True).result
        return rows_by_bytes(result, {}, lambda new: to_rows(new, route)).rows

    def best(run: Any, cold: bool = False) -> float:
        times = []
        for _ in range(repeats):
            if cold:
                xts_wire.forget_parsed_times()
            started = time.thread_time()
            run()
            times.append(time.thread_time() - started)
        return min(times)

    rows = len(floor_decoder.decode(body).result)
    if len(adapter()) != rows:
        raise RuntimeError(f"the adapter read {len(adapter())} rows of the {route}, msgspec {rows}")
    return DecodeFloor(route=route, rows=rows, size=len(body), floor_s=best(lambda: floor_decoder.decode(body)),
                       adapter_cold_s=best(adapter, cold=True), adapter_warm_s=best(adapter))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 measured cycles per churn level (CI)")
    parser.add_argument("--cycles", type=int, default=100, help="measured cycles per churn level (default 100)")
    parser.add_argument("--warmup", type=int, default=3, help="cycles before measuring (default 3)")
    parser.add_argument("--churn", default="0,1,10,100",
                        help="churn levels, %% of each book's rows changed before each cycle (default 0,1,10,100)")
    add_database_arguments(parser)
    parser.add_argument("--seed", type=int, default=20260105)
    args = parser.parse_args(argv)
    cycles = 10 if args.quick else args.cycles
    levels = [float(level) for level in args.churn.split(",")]
    rng = random.Random(args.seed)
    client_ids = [f"BENCH{index + 1}" for index in range(ACCOUNTS)]
    spec = {"seed": args.seed, "instruments": [["NSECM", iid, sym, ltp] for sym, iid, ltp in EXTRA_INSTRUMENTS],
            "orders": [row for client_id in client_ids for row in background_orders(client_id, rng)]}

    phases = [Phase(level) for level in levels]
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
            for phase in phases:
                measure(bench, paper, phase, cycles, rng)
            _, rss, threads = ProcessStat().read()
            floors = [decode_floor(route, bench.book_bytes(paper.url, route)) for route in ("orders", "orders/trades")]
            failures: list[str] = []
            fold_timelines(bench, Phase(-1), bench.timelines(warmup), failures)
            for phase in phases:
                fold_timelines(bench, phase, bench.timelines(phase.cycle_ids), failures)
        finally:
            bench.close()

    report(phases, rss, threads)
    for floor in floors:
        print(floor.describe())
    report_goals(phases, max(floor.ratio for floor in floors))
    if failures:
        print(f"FAILED: {len(failures)} cycle(s) not clean: {failures[:3]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
