"""Prometheus metrics, derived from the event stream and the broker adapter's calls (prometheus-client).

`Metrics.observe(event)` is an event-log observer: cycle durations from CycleStarted to CycleFinished,
step outcomes per step and result, skipped ticks per reason. `broker_call` is the XTS adapter's `observe`
hook. Gauges read the monitored users and the event log's backlog when scraped, and a counter the database
statements sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from messages.events import CycleFinished, CycleStarted, Event, StepTimedOut, TickSkipped

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.cycle_duration = Histogram(
            "monitor_cycle_duration_seconds", "Wall time of a monitoring cycle, start to finish",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120), registry=self.registry)
        self.step_outcomes = Counter(
            "monitor_step_outcomes_total", "Outcomes of cycle steps per account", ("step", "result"),
            registry=self.registry)
        self.ticks_skipped = Counter(
            "monitor_ticks_skipped_total", "Ticks that started no cycle, by why (waiting_for_capacity: an earlier "
            "tick of the user still waits for a free slot)", ("reason",), registry=self.registry)
        self.broker_calls = Histogram(
            "monitor_broker_call_seconds", "Broker HTTP call latency", ("endpoint", "status"),
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=self.registry)
        self.monitored_users = Gauge("monitor_monitored_users", "Users with a running monitor",
                                     registry=self.registry)
        self.event_log_lag = Gauge("monitor_event_log_lag_events", "Events appended but not yet durable",
                                   registry=self.registry)
        self.ready = Gauge("monitor_ready", "1 when the latest /readyz check passed", registry=self.registry)
        self.readiness_database_ok = Gauge("monitor_readiness_database_ok",
                                           "1 when the latest /readyz check reached the database",
                                           registry=self.registry)
        self.readiness_brokers_unreachable = Gauge(
            "monitor_readiness_brokers_unreachable", "Brokers in use the latest /readyz check could not reach "
            "(their URLs: the WARNING log)", registry=self.registry)
        self.fair_price_lag = Histogram(
            "monitor_fair_price_feed_lag_seconds", "From a quote's arrival to its fair prices' commit",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=self.registry)
        self._lock = threading.Lock()
        self._started: dict[tuple[int, str], datetime] = {}

    def watch(self, monitored_users: Callable[[], int], event_log_lag: Callable[[], int],
              db_statements: Callable[[], int]) -> None:
        self.monitored_users.set_function(monitored_users)
        self.event_log_lag.set_function(event_log_lag)
        self.registry.register(_ReadCounter("monitor_db_statements", "Database statements sent, BEGIN and COMMIT "
                                            "included", db_statements))

    def watch_feed(self, reconnects: Callable[[], int], connected: Callable[[], bool],
                   instruments: Callable[[], int]) -> None:
        """The fair-price feed's stream: how often it was connected again, whether it is up, what it watches."""
        self.registry.register(_ReadCounter("monitor_fair_price_feed_reconnects", "Times the market-data stream "
                                            "was connected again after it dropped", reconnects))
        Gauge("monitor_fair_price_feed_connected", "1 while the market-data stream is up",
              registry=self.registry).set_function(lambda: int(connected()))
        Gauge("monitor_fair_price_feed_instruments", "Instruments the fair-price feed watches",
              registry=self.registry).set_function(instruments)

    def watch_fanout(self, up: Callable[[], bool]) -> None:
        """The link to the other replicas (`[fanout]`)."""
        Gauge("monitor_fanout_up", "1 while the link to the other replicas (NATS) is up",
              registry=self.registry).set_function(lambda: int(up()))

    def observe(self, event: Event) -> None:
        match event:
            case CycleStarted():
                with self._lock:
                    self._started[(event.user_id, event.cycle_id)] = event.at
            case CycleFinished():
                with self._lock:
                    started = self._started.pop((event.user_id, event.cycle_id), None)
                if started is not None:
                    self.cycle_duration.observe((event.at - started).total_seconds())
            case TickSkipped(reason=reason):
                self.ticks_skipped.labels(reason).inc()
            case StepTimedOut():
                self.step_outcomes.labels(event.step.value, "timed_out").inc(max(len(event.account_ids), 1))
            case _ if hasattr(event, "succeeded"):
                result = "ok" if event.succeeded else "failed"
                self.step_outcomes.labels(event.step.value, result).inc(max(len(event.account_ids), 1))

    def broker_call(self, endpoint: str, status: str, seconds: float) -> None:
        self.broker_calls.labels(endpoint, status).observe(seconds)

    def readiness(self, database_ok: bool, brokers_unreachable: int) -> None:
        self.ready.set(int(database_ok and brokers_unreachable == 0))
        self.readiness_database_ok.set(int(database_ok))
        self.readiness_brokers_unreachable.set(brokers_unreachable)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _ReadCounter(Collector):
    """A counter whose value is read from the code that counts, when scraped."""

    def __init__(self, name: str, documentation: str, read: Callable[[], int]) -> None:
        self._name, self._documentation, self._read = name, documentation, read

    def collect(self):  # type: ignore[no-untyped-def]
        yield CounterMetricFamily(self._name, self._documentation, value=self._read())
