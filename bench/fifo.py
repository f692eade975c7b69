"""Benchmark of FIFO PnL: `match_fifo` against the original design's SQL FIFO on MariaDB, same fills.

`match_fifo` runs the compiled loop where it was built (the first line of output says which); the
"python loop" column is `match_fifo_in_python`, its reference, over the same fills, results checked equal.

Owns the synthetic order books (50 symbols, random sides so positions flip through zero, partial fills
of cancelled orders, unfilled orders, ties on time), the two SQL FIFO forms and the equality check.
It creates and drops its own database `bench_fifo_<pid>`; it never touches another database.

Both SQL forms rest on one fact: FIFO with flips pairs the k-th unit bought with the k-th unit sold, per
symbol (while long, a sell closes the oldest open buy unit, which is the next unsold one; while short, a
buy closes the oldest open sell unit, the next unbought one). So a match is the overlap of a buy fill's
and a sell fill's cumulative-quantity ranges; the earlier of the two fills is the entry (LONG when it is
the buy) and realized = (sell price - buy price) x qty for both directions. Open lots are the units past
min(bought, sold) on the larger side. The SQL forms therefore handle flips fully, not a subset.

- classic: the original design's shape, an overlap join on cumulative-quantity ranges. Quadratic per
  symbol: capped by `max_statement_time` and skipped above --classic-max.
- ranked: every cumulative end of either side is a boundary; each segment between boundaries lies in
  exactly one buy fill and one sell fill, found by rank (running count of boundaries) with equality joins.
  O(n log n).

Each form runs as the original did: TRUNCATE the result tables, then INSERT ... SELECT. (The service
itself never TRUNCATEs; this database is the benchmark's own.) Exit status 1 when any result differs.

Usage (inside the project venv):  python bench/fifo.py [--quick] [--sizes 1000 10000 ...]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pymysql

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from actors.pnl_calculator import fifo
from actors.pnl_calculator.fifo import fills_from_order_book, match_fifo, match_fifo_in_python
from bench._common import BenchDatabase, add_database_arguments, machine
from domain.broker import BrokerOrder
from domain.pnl import FifoResult, Fill

SYMBOL_COUNT = 50
MARKED_SYMBOLS = 40
"""Symbols past this have no mark: their open lots carry no unrealized PnL."""
SESSION_OPEN = datetime(2026, 1, 5, 3, 45, tzinfo=UTC)

SCHEMA = (
    """CREATE TABLE fills (
        order_id BIGINT PRIMARY KEY,
        symbol VARCHAR(32) NOT NULL,
        side ENUM('BUY', 'SELL') NOT NULL,
        qty INT NOT NULL,
        price DECIMAL(14, 2) NOT NULL,
        fill_time DATETIME(6) NOT NULL,
        KEY by_symbol_side_time (symbol, side, fill_time, order_id)
    ) ENGINE=InnoDB""",
    """CREATE TABLE marks (symbol VARCHAR(32) PRIMARY KEY, mark DECIMAL(14, 2) NOT NULL) ENGINE=InnoDB""",
    """CREATE TABLE fifo_matches (
        symbol VARCHAR(32) NOT NULL,
        entry_order_id BIGINT NOT NULL,
        exit_order_id BIGINT NOT NULL,
        direction ENUM('LONG', 'SHORT') NOT NULL,
        qty INT NOT NULL,
        entry_price DECIMAL(14, 2) NOT NULL,
        exit_price DECIMAL(14, 2) NOT NULL,
        realized_pnl DECIMAL(24, 2) NOT NULL
    ) ENGINE=InnoDB""",
    """CREATE TABLE fifo_open_lots (
        symbol VARCHAR(32) NOT NULL,
        order_id BIGINT NOT NULL,
        direction ENUM('LONG', 'SHORT') NOT NULL,
        qty INT NOT NULL,
        entry_price DECIMAL(14, 2) NOT NULL,
        mark DECIMAL(14, 2) NULL,
        unrealized_pnl DECIMAL(24, 2) NULL
    ) ENGINE=InnoDB""",
)

# The running totals both forms and the open lots start from, and the matches' INSERT around each form's pairs.
MATCHES_INTO = """
INSERT INTO fifo_matches
    (symbol, entry_order_id, exit_order_id, direction, qty, entry_price, exit_price, realized_pnl)
WITH
"""

CUMULATIVE = """    cumulative AS (  -- each fill covers units (cum_end - qty, cum_end] of its (symbol, side) stream
        SELECT order_id, symbol, side, qty, price, fill_time,
               SUM(qty) OVER (PARTITION BY symbol, side ORDER BY fill_time, order_id
                              ROWS UNBOUNDED PRECEDING) AS cum_end
        FROM fills
    ),
"""

MATCHES_SELECT = """
SELECT symbol, IF(buy_first, buy_id, sell_id), IF(buy_first, sell_id, buy_id),
       IF(buy_first, 'LONG', 'SHORT'), qty, IF(buy_first, buy_price, sell_price),
       IF(buy_first, sell_price, buy_price), (sell_price - buy_price) * qty
FROM pairs"""

# The original design's form: the overlap join of buy and sell cumulative ranges (quadratic per symbol).
CLASSIC_MATCHES = "".join((MATCHES_INTO, CUMULATIVE, """\
    buys AS (SELECT *, cum_end - qty AS cum_start FROM cumulative WHERE side = 'BUY'),
    sells AS (SELECT *, cum_end - qty AS cum_start FROM cumulative WHERE side = 'SELL'),
    pairs AS (
        SELECT b.symbol, b.order_id AS buy_id, s.order_id AS sell_id, b.price AS buy_price,
               s.price AS sell_price,
               (b.fill_time, b.order_id) < (s.fill_time, s.order_id) AS buy_first,
               LEAST(b.cum_end, s.cum_end) - GREATEST(b.cum_start, s.cum_start) AS qty
        FROM buys b
        JOIN sells s ON s.symbol = b.symbol AND s.cum_start < b.cum_end AND b.cum_start < s.cum_end
    )
""", MATCHES_SELECT))

# The O(n log n) form: segments between consecutive boundaries (cumulative ends of either side); a
# segment ending at `point` lies in the buy fill ranked (buy ends before it) + 1, likewise for sells.
# Segments past the smaller side's total find no fill on that side and drop out of the inner joins.
RANKED_MATCHES = "".join((MATCHES_INTO, CUMULATIVE, """\
    ranked AS (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY symbol, side ORDER BY fill_time, order_id) AS side_rank
        FROM cumulative
    ),
    bounds AS (
        SELECT symbol, cum_end AS point, MAX(side = 'BUY') AS buy_end, MAX(side = 'SELL') AS sell_end
        FROM cumulative GROUP BY symbol, cum_end
    ),
    segments AS (
        SELECT symbol,
               point - COALESCE(LAG(point) OVER w, 0) AS qty,
               SUM(buy_end) OVER w - buy_end + 1 AS buy_rank,
               SUM(sell_end) OVER w - sell_end + 1 AS sell_rank
        FROM bounds
        WINDOW w AS (PARTITION BY symbol ORDER BY point)  -- points are distinct: running sums
    ),
    pairs AS (
        SELECT g.symbol, b.order_id AS buy_id, s.order_id AS sell_id, b.price AS buy_price,
               s.price AS sell_price,
               (b.fill_time, b.order_id) < (s.fill_time, s.order_id) AS buy_first, g.qty
        FROM segments g
        JOIN ranked b ON b.symbol = g.symbol AND b.side = 'BUY' AND b.side_rank = g.buy_rank
        JOIN ranked s ON s.symbol = g.symbol AND s.side = 'SELL' AND s.side_rank = g.sell_rank
    )
""", MATCHES_SELECT))

# Open lots, shared by both forms: what lies past min(bought, sold) on the larger side, marked if it can.
OPEN_LOTS = "".join(("""
INSERT INTO fifo_open_lots (symbol, order_id, direction, qty, entry_price, mark, unrealized_pnl)
WITH
""", CUMULATIVE, """\
    totals AS (
        SELECT symbol, LEAST(SUM(IF(side = 'BUY', qty, 0)), SUM(IF(side = 'SELL', qty, 0))) AS matched
        FROM fills GROUP BY symbol
    ),
    lots AS (
        SELECT c.symbol, c.order_id, IF(c.side = 'BUY', 'LONG', 'SHORT') AS direction,
               c.cum_end - GREATEST(c.cum_end - c.qty, t.matched) AS qty, c.price
        FROM cumulative c JOIN totals t ON t.symbol = c.symbol
        WHERE c.cum_end > t.matched
    )
SELECT l.symbol, l.order_id, l.direction, l.qty, l.price, m.mark,
       IF(l.direction = 'LONG', m.mark - l.price, l.price - m.mark) * l.qty
FROM lots l LEFT JOIN marks m ON m.symbol = l.symbol"""))

SQL_FORMS = {"classic": CLASSIC_MATCHES, "ranked": RANKED_MATCHES}

SELECT_MATCHES = """SELECT symbol, entry_order_id, exit_order_id, direction, qty, entry_price, exit_price,
                           realized_pnl FROM fifo_matches"""
SELECT_OPEN_LOTS = """SELECT symbol, order_id, direction, qty, entry_price, mark, unrealized_pnl
                      FROM fifo_open_lots"""


def order_book(size: int, seed: int) -> list[BrokerOrder]:
    """`size` filled orders over 50 symbols, plus about 5% unfilled ones, in order id order.

    Sides are a fair coin per order, so every symbol's position random-walks through zero (flips within
    one fill are common). One order in eight is cancelled after a partial fill. Fills are timed to the
    second and up to two seconds after their creation: the book is nearly but not quite in time order,
    and ties on time, broken by order id, are common.
    """
    rng = random.Random(seed)
    symbols = [f"SYM{index:02d}" for index in range(SYMBOL_COUNT)]
    ticks = {symbol: rng.randint(2_000, 60_000) for symbol in symbols}  # price in 0.05 ticks
    orders: list[BrokerOrder] = []
    filled = 0
    while filled < size:
        order_id = 1_000_000 + len(orders)
        symbol = rng.choice(symbols)
        ticks[symbol] = max(1, ticks[symbol] + rng.randint(-20, 20))
        quantity = rng.randint(1, 40) * rng.choice((1, 1, 1, 5, 25))
        roll = rng.random()
        if roll < 0.05:
            status, filled_qty = "Rejected", 0
        elif roll < 0.175 and quantity > 1:
            status, filled_qty = "Cancelled", rng.randint(1, quantity - 1)
        else:
            status, filled_qty = "Filled", quantity
        created = SESSION_OPEN + timedelta(seconds=len(orders) // 3)
        orders.append(BrokerOrder(
            client_id="BENCH", app_order_id=order_id, exchange_segment="NSECM", instrument_id=1,
            symbol=symbol, side=rng.choice(("BUY", "SELL")), order_type="LIMIT", product_type="NRML",
            quantity=quantity, status=status, filled_qty=filled_qty, leaves_qty=0,
            avg_price=ticks[symbol] * Decimal("0.05") if filled_qty else None,
            created_at=created, updated_at=created + timedelta(seconds=rng.randint(0, 2)),
        ))
        if filled_qty:
            filled += 1
    return orders


def marks_for(fills: Sequence[Fill]) -> dict[str, Decimal]:
    last_price = {fill.symbol: fill.price for fill in fills}
    return {symbol: price for symbol, price in sorted(last_price.items())[:MARKED_SYMBOLS]}


def timed(action: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    """Run `action` `repeat` times; the seconds of each run and the last result (freed outside the clock)."""
    seconds, result = [], None
    for _ in range(repeat):
        del result
        started = time.perf_counter()
        result = action()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: whether something else ran beside the timings."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def result_rows(result: FifoResult) -> tuple[list[tuple], list[tuple]]:
    matches = sorted(
        (m.symbol, m.entry_order_id, m.exit_order_id, m.direction, m.qty, m.entry_price, m.exit_price,
         m.realized_pnl)
        for m in result.matches
    )
    open_lots = sorted(
        (lot.symbol, lot.order_id, lot.direction, lot.qty, lot.entry_price, lot.mark, lot.unrealized_pnl)
        for lot in result.open_lots
    )
    return matches, open_lots


class FifoDatabase(BenchDatabase):
    """The benchmark's own database with the fills, marks and result tables, and room for SQL's temporary
    tables in memory (fair to SQL)."""

    def __init__(self, host: str, port: int, user: str, password: str) -> None:
        super().__init__("bench_fifo", host, port, user, password)

    def __enter__(self) -> FifoDatabase:
        super().__enter__()
        with self.admin.cursor() as cursor:
            cursor.execute("SET SESSION tmp_table_size = 1073741824, max_heap_table_size = 1073741824,"
                           " sort_buffer_size = 67108864")
            for statement in SCHEMA:
                cursor.execute(statement)
        return self

    def load(self, fills: Sequence[Fill], marks: dict[str, Decimal]) -> None:
        self.query("TRUNCATE fills")
        self.query("TRUNCATE marks")
        self.insert_many("INSERT INTO fills (order_id, symbol, side, qty, price, fill_time)"
                         " VALUES (%s, %s, %s, %s, %s, %s)",
                         [(f.order_id, f.symbol, f.side, f.qty, f.price, f.time.replace(tzinfo=None)) for f in fills],
                         chunk=20_000)
        self.insert_many("INSERT INTO marks (symbol, mark) VALUES (%s, %s)", list(marks.items()))
        self.query("ANALYZE TABLE fills")

    def run_fifo(self, matches_sql: str, cap_seconds: int) -> float | None:
        """TRUNCATE the result tables, INSERT ... SELECT matches and open lots; seconds, None past the cap."""
        started = time.perf_counter()
        with self.admin.cursor() as cursor:
            cursor.execute("TRUNCATE fifo_matches")
            cursor.execute("TRUNCATE fifo_open_lots")
            cursor.execute("SET SESSION max_statement_time = %s", (cap_seconds,))
            try:
                cursor.execute(matches_sql)
            except pymysql.err.OperationalError as error:
                if error.args[0] != 1969:  # ER_STATEMENT_TIMEOUT
                    raise
                return None
            finally:
                cursor.execute("SET SESSION max_statement_time = 0")
            cursor.execute(OPEN_LOTS)
        return time.perf_counter() - started

    def results(self) -> tuple[list[tuple], list[tuple]]:
        return sorted(self.query(SELECT_MATCHES)), sorted(self.query(SELECT_OPEN_LOTS))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^3 and 10^4 fills only (CI, under a minute)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**3, 10**4, 10**5, 10**6])
    parser.add_argument("--classic-max", type=int, default=10**5,
                        help="largest size the quadratic classic SQL runs at (default 10^5)")
    parser.add_argument("--classic-cap", type=int, default=1200,
                        help="seconds before the classic SQL statement is cut off (default 1200)")
    parser.add_argument("--repeat", type=int, default=5, help="match_fifo runs per size (default 5)")
    add_database_arguments(parser)
    parser.add_argument("--seed", type=int, default=20260105)
    args = parser.parse_args(argv)
    sizes = [10**3, 10**4] if args.quick else args.sizes

    differences = 0
    with FifoDatabase(args.host, args.port, args.user, args.password) as database:
        print(f"machine: {machine()}; MariaDB {database.version()}; {load_average()}")
        print(f"match_fifo runs {'the compiled loop' if fifo.COMPILED else 'the Python loop (compiled one not built)'}"
              "; 'python loop' is match_fifo_in_python, its reference")
        print(f"{'fills':>9} {'matches':>9} {'lots':>6} {'book->fills':>11} {'match_fifo':>11} "
              f"{'(median)':>9} {'(shuffled)':>10} {'python loop':>11} {'classic SQL':>12} {'ranked SQL':>11}  equal")
        for size in sizes:
            book = order_book(size, args.seed)
            convert_seconds, fills = timed(lambda book=book: fills_from_order_book(book), 1)
            marks = marks_for(fills)
            seconds, result = timed(lambda fills=fills, marks=marks: match_fifo(fills, marks), args.repeat)
            shuffled = random.Random(args.seed).sample(fills, len(fills))
            shuffled_seconds, _ = timed(lambda s=shuffled, marks=marks: match_fifo(s, marks), 1)
            python_seconds, python_result = timed(
                lambda fills=fills, marks=marks: match_fifo_in_python(fills, marks), args.repeat)
            same_as_python = python_result == result
            differences += not same_as_python
            del python_result
            verdicts: list[str] = [f"python {'yes' if same_as_python else 'NO'}"]
            expected = result_rows(result)
            database.load(fills, marks)
            sql_seconds: dict[str, str] = {}
            for form, sql in SQL_FORMS.items():
                if form == "classic" and size > args.classic_max:
                    sql_seconds[form] = "skipped"
                    continue
                elapsed = database.run_fifo(sql, args.classic_cap if form == "classic" else 3600)
                if elapsed is None:
                    sql_seconds[form] = f">{args.classic_cap}s"
                    continue
                sql_seconds[form] = f"{elapsed:.3f}s"
                same = database.results() == expected
                differences += not same
                verdicts.append(f"{form} {'yes' if same else 'NO'}")
            print(f"{size:>9} {len(result.matches):>9} {len(result.open_lots):>6} "
                  f"{convert_seconds[0]:>10.3f}s {min(seconds):>10.3f}s {statistics.median(seconds):>8.3f}s "
                  f"{shuffled_seconds[0]:>9.3f}s {min(python_seconds):>10.3f}s {sql_seconds['classic']:>12} "
                  f"{sql_seconds['ranked']:>11}  "
                  f"{', '.join(verdicts)}", flush=True)
    print(load_average())
    if differences:
        print(f"FAILED: {differences} result(s) of SQL or the Python loop differ from match_fifo", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
