"""The compiled FIFO loop (`_fifo_match.c`) against its reference, the Python loop of fifo.py.

Where the loop was not built these tests skip, except under MONITOR_REQUIRE_COMPILED_FIFO=1 (CI), where
they fail. Every comparison is by repr: the same matches and open lots, field for field and type for
type, in the same order; or the same exception with the same message.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, Inexact, localcontext
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.pnl_calculator import fifo
from actors.pnl_calculator.fifo import match_fifo, match_fifo_in_python
from domain.pnl import Fill

ROOT = Path(__file__).resolve().parents[2]
IST = timezone(timedelta(hours=5, minutes=30), "IST")
BASE = datetime(2026, 1, 5, 3, 45, tzinfo=UTC)


@pytest.fixture(autouse=True, scope="module")
def compiled_loop():
    if fifo.COMPILED:
        return
    reason = "the compiled FIFO loop was not built (no C compiler at install time)"
    if os.environ.get("MONITOR_REQUIRE_COMPILED_FIFO") == "1":
        pytest.fail(f"{reason}; MONITOR_REQUIRE_COMPILED_FIFO=1 makes this a failure")
    pytest.skip(reason)


def outcome(match, fills, marks):
    """repr of the result, or of the exception's type and message."""
    try:
        return repr(match(fills, marks))
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def compiled_runs(fills) -> bool:
    """Whether the compiled loop matched `fills` itself rather than declining to the Python loop."""
    return fifo._COMPILED.match(fills) is not None


PRICES = tuple(Decimal(text) for text in ("0.05", "99.95", "100.00", "100.35", "101.70", "2500.5", "1E+3"))


@st.composite
def valid_fills(draw, max_size: int = 60) -> list[Fill]:
    """Fills the compiled loop takes: aware times in fixed-offset zones (ties across zones included),
    order ids that may repeat, sides that flip positions, prices of several scales."""
    count = draw(st.integers(0, max_size))
    return [
        Fill(
            order_id=draw(st.integers(-(2**63), 2**63 - 1) | st.integers(1, 20)),
            symbol=draw(st.sampled_from(("INFY", "TCS", "SBIN", "RELIANCE"))),
            side=draw(st.sampled_from(("BUY", "SELL"))),
            qty=draw(st.integers(1, 30) | st.sampled_from((1023, 1024)) | st.integers(1, 2**62)),
            price=draw(st.sampled_from(PRICES)),
            time=(BASE + timedelta(seconds=draw(st.integers(0, 4)),
                                   microseconds=draw(st.sampled_from((0, 1, 999_999))))).astimezone(
                draw(st.sampled_from((UTC, IST, timezone(timedelta(hours=-4)))))),
        )
        for _ in range(count)
    ]


marks_st = st.dictionaries(st.sampled_from(("INFY", "TCS", "SBIN")), st.sampled_from(PRICES))


@settings(max_examples=300, deadline=None)
@given(valid_fills(), marks_st)
def test_the_compiled_loop_gives_the_python_loops_result(fills, marks):
    assert compiled_runs(fills)
    assert outcome(match_fifo, fills, marks) == outcome(match_fifo_in_python, fills, marks)


class LooseFill(Fill, frozen=True):
    """A Fill subclass: the compiled loop reads fields by Fill's own layout, so it declines these."""


UNUSUAL_FIELDS = (
    ("qty", 0), ("qty", -3), ("qty", 2.0), ("qty", True), ("qty", 2**64), ("side", "buy"), ("side", None),
    ("side", "BUY "), ("price", Decimal("NaN")), ("price", Decimal("sNaN")), ("price", Decimal("Infinity")),
    ("price", Decimal("-1.00")), ("price", Decimal("-0")), ("price", Decimal("0")), ("price", 10.5),
    ("price", 10), ("symbol", 7), ("order_id", 2**64), ("order_id", "A-1"), ("order_id", True),
    ("time", BASE.replace(tzinfo=None)), ("time", BASE.astimezone(ZoneInfo("Asia/Kolkata"))),
    ("time", "2026-01-05T09:15:00Z"),
)


@settings(max_examples=300, deadline=None)
@given(st.data(), valid_fills(max_size=40))
def test_unusual_fills_get_the_python_loops_result_or_error(data, fills):
    """Invalid fills, and valid ones outside the compiled loop's fast path: it declines, and the result
    or the error (the first invalid fill in FIFO order, named) is the Python loop's."""
    if not fills:
        return
    unusual = data.draw(st.dictionaries(st.integers(0, len(fills) - 1), st.sampled_from(UNUSUAL_FIELDS),
                                        min_size=1, max_size=3))
    fills = [msgspec.structs.replace(fill, **dict([unusual[index]])) if index in unusual else fill
             for index, fill in enumerate(fills)]
    if data.draw(st.booleans()):
        position = data.draw(st.integers(0, len(fills) - 1))
        fills[position] = LooseFill(**msgspec.structs.asdict(fills[position]))

    assert not compiled_runs(fills)
    assert outcome(match_fifo, fills, {}) == outcome(match_fifo_in_python, fills, {})


def long_book(count: int, symbols: int, seed: int) -> list[Fill]:
    """A book past the compiled loop's first allocations: more than 64 symbols and long one-sided runs
    (lots queue past 8 and wrap around), times nearly in order with ties."""
    rng = random.Random(seed)
    fills = []
    for order_id in range(count):
        symbol = f"S{rng.randrange(symbols):03d}"
        run = (order_id // 200) % 2  # 200 fills leaning one way, then 200 the other
        side = "BUY" if rng.random() < (0.8 if run else 0.2) else "SELL"
        fills.append(Fill(order_id=order_id, symbol=symbol, side=side, qty=rng.randint(1, 60),
                          price=Decimal(rng.randint(1, 40_000)) / 20,
                          time=BASE + timedelta(seconds=order_id // 3 + rng.randint(0, 2))))
    return fills


@pytest.mark.parametrize("arrangement", ["as booked", "shuffled", "reversed"])
def test_a_long_book_in_any_order_gives_the_python_loops_result(arrangement):
    fills = long_book(6_000, symbols=90, seed=8)
    if arrangement == "shuffled":
        random.Random(1).shuffle(fills)
    elif arrangement == "reversed":
        fills.reverse()
    marks = {f"S{index:03d}": Decimal("1000.05") for index in range(0, 90, 2)}

    assert compiled_runs(fills)
    assert outcome(match_fifo, fills, marks) == outcome(match_fifo_in_python, fills, marks)


def test_fills_from_an_iterator_are_read_once():
    fills = long_book(500, symbols=5, seed=2)

    assert repr(match_fifo(iter(fills), {})) == repr(match_fifo_in_python(fills, {}))


def test_an_iterator_with_an_invalid_fill_names_it():
    fills = long_book(50, symbols=2, seed=3)
    fills[20] = msgspec.structs.replace(fills[20], qty=0)

    with pytest.raises(ValueError, match=f"^invalid fill of order {fills[20].order_id} "):
        match_fifo(iter(fills), {})


@pytest.mark.parametrize("qty", [999, 4_999])  # a qty whose Decimal the loop keeps, and one it does not
def test_an_inexact_realized_pnl_raises_as_in_python(qty):
    wide = Decimal("1" + "0" * 40 + ".0000000000000000001")
    fills = [Fill(order_id=1, symbol="INFY", side="BUY", qty=qty, price=wide, time=BASE),
             Fill(order_id=2, symbol="INFY", side="SELL", qty=qty, price=Decimal("0.05"), time=BASE)]

    assert compiled_runs([fills[0]])
    with pytest.raises(Inexact):
        match_fifo(fills, {})
    assert outcome(match_fifo, fills, {}) == outcome(match_fifo_in_python, fills, {})


def reference_counts(fills):
    return [sys.getrefcount(value) for fill in fills for value in (fill, fill.order_id, fill.price, fill.symbol)]


@pytest.mark.parametrize("case", ["matched", "declined", "inexact"])
def test_no_reference_is_leaked_or_lost(case):
    """What the compiled loop takes it gives back, on success, on declining and on an error."""
    fills = long_book(2_000, symbols=30, seed=5)
    fills = [msgspec.structs.replace(fill, order_id=10**6 + fill.order_id, price=fill.price + Decimal("0.01"))
             for fill in fills]  # ids and prices of their own, not shared small ints or constants
    if case == "declined":
        fills[1_500] = msgspec.structs.replace(fills[1_500], side="buy")
    elif case == "inexact":
        fills[1_500] = msgspec.structs.replace(fills[1_500], price=Decimal("1" + "0" * 59 + ".5"))
    before = reference_counts(fills)

    outcomes = []
    for _ in range(3):
        result = None
        try:
            with localcontext(fifo._EXACT):
                result = fifo._COMPILED.match(fills)
            outcomes.append("declined" if result is None else "matched")
        except Inexact:
            outcomes.append("inexact")
        del result

    assert outcomes == [case] * 3
    assert reference_counts(fills) == before


def run_alone(script: str) -> subprocess.CompletedProcess:
    """`script` in a process of its own, so that a crash fails this test and not the run."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


@pytest.mark.parametrize("field", ["order_id", "symbol", "side", "qty", "price", "time"])
def test_a_field_deleted_through_its_descriptor_gets_the_python_loops_error(field):
    finished = run_alone(f"""
        from datetime import UTC, datetime
        from decimal import Decimal
        from actors.pnl_calculator.fifo import Fill, match_fifo, match_fifo_in_python
        def book():
            fills = [Fill(order_id=i, symbol="INFY", side="BUY", qty=1, price=Decimal("10.5"),
                          time=datetime(2026, 1, 5, 3, 45, i, tzinfo=UTC)) for i in range(40)]
            Fill.{field}.__delete__(fills[25])
            return fills
        outcomes = []
        for match in (match_fifo, match_fifo_in_python):
            try:
                match(book(), {{}})
            except AttributeError as error:
                outcomes.append(str(error))
        print(outcomes)
    """)

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == repr([f"'Fill' object has no attribute '{field}'"] * 2)


def test_a_garbage_collection_that_empties_the_callers_list_changes_nothing():
    """A collection can run inside `match` (allocations start one) and run any code, here a callback that
    empties the list being matched: the loop holds fills of its own, so nothing crashes, and the result is
    that of the list before or after it was emptied (whichever the loop read)."""
    finished = run_alone("""
        import gc
        from datetime import timedelta, timezone, datetime
        from decimal import Decimal
        from actors.pnl_calculator import fifo
        from actors.pnl_calculator.fifo import Fill
        zones = [timezone(timedelta(hours=hours)) for hours in (1, 2)]
        fills = [Fill(order_id=10**6 + i, symbol=f"S{i % 3}", side="BUY" if i % 2 else "SELL", qty=5,
                      price=Decimal(i) + Decimal("0.5"), time=datetime(2026, 1, 1, tzinfo=zones[i % 2]))
                 for i in range(200)]
        expected = (repr(fifo.match_fifo_in_python(fills, {})), repr(fifo.match_fifo_in_python([], {})))
        emptied = []
        def empty_the_list(phase, info):
            if phase == "start" and fills:
                fills.clear()
                emptied.append(True)
        gc.callbacks.append(empty_the_list)
        gc.set_threshold(1)
        result = fifo.match_fifo(fills, {})
        gc.set_threshold(700)
        print(bool(emptied), repr(result) in expected)
    """)

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split() == ["True", "True"]


def matcher_arguments(match_type: type) -> dict:
    """What fifo.py gives the compiled Matcher, with `match_type` as the Match type."""
    return {"fill_type": Fill, "match_type": match_type, "decimal_type": Decimal, "buy": "BUY", "sell": "SELL",
            "long": "LONG", "short": "SHORT"}


def test_a_matcher_is_initialised_once():
    with pytest.raises(TypeError, match="initialised once"):
        fifo._COMPILED.__init__(**matcher_arguments(fifo.Match))


def test_a_match_type_tracked_by_the_garbage_collector_is_refused():
    class TrackedMatch(msgspec.Struct):  # gc=True, the default
        symbol: str

    with pytest.raises(TypeError, match="gc=False"):
        type(fifo._COMPILED)(**matcher_arguments(TrackedMatch))


def test_a_match_type_with_a_post_init_is_refused():
    class CheckedMatch(msgspec.Struct, gc=False):
        symbol: str

        def __post_init__(self):
            pass

    with pytest.raises(TypeError, match="__post_init__"):
        type(fifo._COMPILED)(**matcher_arguments(CheckedMatch))
