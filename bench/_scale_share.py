"""One service process of `bench/scale.py`: the real runtime monitoring its share of the users.

`python -m bench._scale_share SPEC.json` starts a `service.runtime.Runtime` on the benchmark's database
(already migrated and seeded by the parent), connects the users whose id is `share` modulo `shares` (what
the replicas' consistent hash does with the users' WebSockets), and talks to the parent in JSON lines:

    -> {"connected": seconds}           every monitor of the share is started
    -> {"warm": t}                      every user of the share finished its first cycle, the last at t
    <- {"measure": [from, until]}       the measured window, the same for every share
    -> {"result": path}                 written to the spec's result_path: ticks, per-second samples, own
                                        process figures over the window, failures in the window
                                        and between the warm-up and the window (the settling intervals)

Each share is its own interpreter, so shares run on the machine's cores side by side, as replicas do.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import time
from typing import Any, NamedTuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from adapters.store.secrets import Keyring, decode_key
from bench._common import ProcessStat
from messages.events import CycleFinished, CycleStarted, Event, StepTimedOut, TickSkipped
from service import garbage_collector
from service.config import BrokerConfig
from service.metrics import Metrics
from service.runtime import Runtime


class NullNotifier:
    async def send(self, user_id: int, frame: Any) -> int:
        return 1


class CountingMetrics(Metrics):
    """The service's metrics, plus a plain count of broker calls and of failed steps."""

    def __init__(self) -> None:
        super().__init__()
        self.broker_call_count = 0
        self._lock = threading.Lock()
        self._failed_steps: dict[str, int] = {}
        self._failure_messages: dict[str, int] = {}

    def broker_call(self, endpoint: str, status: str, seconds: float) -> None:
        self.broker_call_count += 1
        super().broker_call(endpoint, status, seconds)

    def observe(self, event: Event) -> None:
        if isinstance(event, StepTimedOut) or getattr(event, "succeeded", True) is False:
            kind = "timeout" if isinstance(event, StepTimedOut) else str(event.kind)  # type: ignore[union-attr]
            message = f"{event.step}: " + ("timed out" if isinstance(event, StepTimedOut)
                                            else str(event.message))  # type: ignore[union-attr]
            with self._lock:
                self._failed_steps[kind] = self._failed_steps.get(kind, 0) + 1
                self._failure_messages[message] = self._failure_messages.get(message, 0) + 1
        super().observe(event)

    def failures(self) -> tuple[dict[str, int], dict[str, int]]:
        """Failed steps so far, by kind and by step and message."""
        with self._lock:
            return dict(self._failed_steps), dict(self._failure_messages)


class Tick(NamedTuple):
    """One tick of one user: the cycle it started (its wall and whether it was clean once finished), or a
    skip because the user's previous cycle was still running."""

    at: float
    skipped: bool
    wall: float | None = None
    clean: bool = False


class CycleLog:
    """Event observer (runs in the monitors' threads): each user's ticks, in order, and when its first cycle
    finished (the warm-up: logging in and adopting the seeded orders)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ticks: dict[int, list[Tick]] = {}
        self._running: dict[tuple[int, str], int] = {}  # (user, cycle) -> position in the user's ticks
        self.first_finished: dict[int, float] = {}

    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def warmed_up(self) -> int:
        with self._lock:
            return len(self.first_finished)

    def __call__(self, event: Event) -> None:
        if isinstance(event, CycleStarted):
            with self._lock:
                mine = self.ticks.setdefault(event.user_id, [])
                self._running[(event.user_id, event.cycle_id)] = len(mine)
                mine.append(Tick(at=event.at.timestamp(), skipped=False))
        elif isinstance(event, CycleFinished):
            with self._lock:
                position = self._running.pop((event.user_id, event.cycle_id), None)
                if position is not None:
                    mine = self.ticks[event.user_id]
                    tick = mine[position]
                    mine[position] = tick._replace(wall=event.at.timestamp() - tick.at, clean=not event.error_count)
                    self.first_finished.setdefault(event.user_id, event.at.timestamp())
        elif isinstance(event, TickSkipped) and event.reason in ("cycle_running", "waiting_for_capacity"):
            with self._lock:
                self.ticks.setdefault(event.user_id, []).append(Tick(at=event.at.timestamp(), skipped=True))

    def snapshot(self) -> dict[int, list[Tick]]:
        with self._lock:
            return {user_id: list(ticks) for user_id, ticks in self.ticks.items()}


class GcPauses:
    """Collections of the oldest generation (the ones that walk the whole heap): how many, and the longest."""

    def __init__(self) -> None:
        self.full = 0
        self.longest_s = 0.0
        self.total_s = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        self.full += 1
        self.total_s += pause
        self.longest_s = max(self.longest_s, pause)


class Sampler(threading.Thread):
    """Once a second: this process's CPU, RSS and threads, its counters and the event log's lag."""

    def __init__(self, runtime: Runtime, metrics: CountingMetrics, gc_pauses: GcPauses) -> None:
        super().__init__(name="bench-sampler", daemon=True)
        self.runtime, self.metrics, self.me, self.gc_pauses = runtime, metrics, ProcessStat(), gc_pauses
        self.samples: list[dict[str, Any]] = []
        self.stopping = threading.Event()

    def sample(self) -> dict[str, Any]:
        cpu, rss, threads = self.me.read()
        lag = self.runtime.event_log.lag()
        return {"t": time.time(), "cpu": cpu, "rss": rss, "threads": threads,
                "statements": self.runtime.db_statements(), "broker_calls": self.metrics.broker_call_count,
                "lag": lag.pending, "lag_s": lag.oldest_pending_s or 0.0, "event_batches": lag.batches,
                "gc_full": self.gc_pauses.full, "gc_s": self.gc_pauses.total_s,
                "shared_reads": self.runtime.store.shared_reads()}

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            self.samples.append(self.sample())

    def window(self, start: float, end: float) -> dict[str, Any]:
        """Figures over [start, end]: counters as differences, levels as maxima."""
        inside = [s for s in self.samples if start <= s["t"] <= end]
        first, last = inside[0], inside[-1]
        return {
            "seconds": last["t"] - first["t"], "cpu_s": last["cpu"] - first["cpu"],
            "rss": max(s["rss"] for s in inside), "threads": max(s["threads"] for s in inside),
            "broker_calls": last["broker_calls"] - first["broker_calls"],
            "statements": last["statements"] - first["statements"],
            "event_batches": last["event_batches"] - first["event_batches"],
            "lag_max": max(s["lag"] for s in inside), "lag_s_max": max(s["lag_s"] for s in inside),
            "gc_full": last["gc_full"] - first["gc_full"], "gc_s": last["gc_s"] - first["gc_s"],
            "shared_reads": {name: [asked - first["shared_reads"][name][0], sent - first["shared_reads"][name][1]]
                             for name, (asked, sent) in last["shared_reads"].items()},
        }


def tell_parent(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


def serve_share(spec: dict[str, Any]) -> None:
    users = [u for u in range(1, spec["users"] + 1) if u % spec["shares"] == spec["share"]]
    interval = spec["interval_s"]
    metrics, cycles = CountingMetrics(), CycleLog()
    garbage_collector.tune_for_service()
    broker = BrokerConfig(connection_limit=max(200, spec["connections_per_host"]),
                          connections_per_host=spec["connections_per_host"], read_cache_accounts=4 * len(users))
    runtime = Runtime(database_url=spec["database_url"], notifier=NullNotifier(), metrics=metrics,
                      cycle=CycleConfig(interval_s=interval, window=TradingWindow(enabled=False)),
                      broker=broker, event_observers=(cycles,), migrate=False,
                      keyring=Keyring(current=decode_key(spec["secret_key"])))
    result: dict[str, Any] = {}
    try:
        result = measure(runtime, metrics, cycles, users, interval)
    except Exception as error:  # reported to the parent, which fails the run with it
        result = {"error": f"{type(error).__name__}: {error}"}
    finally:
        stop_started = time.perf_counter()
        try:
            runtime.close()
            result["shutdown"] = f"done in {time.perf_counter() - stop_started:.1f} s"
        except Exception as error:  # an overloaded service may not stop in time; the figures stand
            result["shutdown"] = f"did not complete ({type(error).__name__}: {error})"
        with open(spec["result_path"], "w") as result_file:
            json.dump(result, result_file)
        tell_parent({"result": spec["result_path"]})
    if not result["shutdown"].startswith("done"):
        os._exit(0)  # monitor threads the shutdown could not stop would keep the process alive


def measure(runtime: Runtime, metrics: CountingMetrics, cycles: CycleLog, users: list[int],
            interval: float) -> dict[str, Any]:
    """Connect the share's users, report the warm-up, measure the window the parent gives."""
    garbage_collector.freeze_startup_objects()
    gc_pauses = GcPauses()
    gc.callbacks.append(gc_pauses)
    sampler = Sampler(runtime, metrics, gc_pauses)
    sampler.start()
    started = time.perf_counter()
    for user_id in users:
        runtime.system.client_connected(user_id, f"bench-{user_id}")
    while len(runtime.system.registry.user_ids()) < len(users):
        time.sleep(0.05)
    tell_parent({"connected": time.perf_counter() - started})
    deadline = time.time() + max(600.0, 10 * interval)
    while cycles.warmed_up() < len(users):
        if time.time() > deadline:
            raise RuntimeError(f"warm-up did not finish: {cycles.warmed_up()} of {len(users)} first cycles")
        time.sleep(0.2)
    tell_parent({"warm": max(cycles.first_finished.values())})
    failures_at_warm = metrics.failures()
    window_start, window_end = json.loads(sys.stdin.readline())["measure"]
    while time.time() < window_start:
        time.sleep(0.05)
    failures_at_start = metrics.failures()
    while time.time() < window_end + 1:
        time.sleep(0.2)
    sampler.stopping.set()
    sampler.join()
    for user_id in users:  # no new ticks; let the running cycles finish
        runtime.system.ticks.remove_user(user_id)
    drain_deadline = time.monotonic() + max(60.0, interval)
    while cycles.running() and time.monotonic() < drain_deadline:
        time.sleep(0.2)
    steps, messages = metrics.failures()
    return {
        "users": len(users), "ticks": {str(u): [list(t) for t in ticks] for u, ticks in cycles.snapshot().items()},
        "window": sampler.window(window_start, window_end), "unfinished": cycles.running(),
        "samples": sampler.samples, "gc_longest_s": gc_pauses.longest_s,
        "settle_failed_steps": _since(failures_at_warm[0], failures_at_start[0]),
        "failed_steps": _since(failures_at_start[0], steps),
        "failure_messages": _since(failures_at_start[1], messages),
    }


def _since(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The counts that grew from `before` to `after`, by how much."""
    return {key: count - before.get(key, 0) for key, count in after.items() if count > before.get(key, 0)}


if __name__ == "__main__":
    with open(sys.argv[1]) as spec_file:
        serve_share(json.load(spec_file))
