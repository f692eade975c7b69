"""The system clock's timers on a real asyncio loop thread: armed from other threads without waking the
loop, fired on time, skipped once cancelled."""

from __future__ import annotations

import threading
import time

import pytest

from actors.io_loop import IoLoop
from service.clock import SystemClock


@pytest.fixture
def io():
    loop = IoLoop()
    yield loop
    loop.stop()


def test_timers_armed_from_other_threads_fire_on_the_loop_in_deadline_order(io):
    clock = SystemClock(io.loop, resolution_s=0.05)
    fired: list[tuple[str, float, bool]] = []
    done = threading.Event()
    armed_at = time.monotonic()

    def record(name: str) -> None:
        fired.append((name, time.monotonic() - armed_at, threading.current_thread().name == "io-loop"))
        if len(fired) == 3:
            done.set()

    threads = [threading.Thread(target=clock.call_later, args=(delay, lambda n=name: record(n)))
               for name, delay in (("late", 0.4), ("early", 0.2), ("short", 0.01))]
    for thread in threads:
        thread.start()
    assert done.wait(5)

    assert [name for name, _, _ in fired] == ["short", "early", "late"]
    assert all(on_loop for _, _, on_loop in fired)
    short, early, late = (elapsed for _, elapsed, _ in fired)
    assert short < 0.01 + 0.05 + 0.1  # a delay under the resolution fires at most one resolution late
    slack = 0.005  # uvloop keeps timers in whole milliseconds: one may fire up to a millisecond early
    assert 0.2 - slack <= early < 0.35 and 0.4 - slack <= late < 0.55


def test_a_cancelled_timer_never_fires_whether_or_not_the_loop_has_taken_it(io):
    clock = SystemClock(io.loop, resolution_s=0.05)
    fired = []
    before = clock.call_later(0.3, lambda: fired.append("before"))
    before.cancel()  # still in the armed queue
    after = clock.call_later(0.3, lambda: fired.append("after"))
    time.sleep(0.15)  # now in the loop's timer heap
    after.cancel()
    clock.call_later(0.35, lambda: fired.append("kept"))

    time.sleep(0.6)

    assert fired == ["kept"]
