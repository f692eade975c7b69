"""The composition root's working part: builds every adapter on the one I/O loop, the step handlers and
the actor system, and tears them down in order. `run.py serve` and `run.py demo` use it; so do the
end-to-end tests, with their own notifier.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

import aiohttp
from apscheduler.schedulers.background import BackgroundScheduler

from actors.broker_fetcher.step import FetchSnapshotsStep
from actors.broker_session import SessionRenewal
from actors.io_loop import IoLoop
from actors.notifier import Notifier
from actors.order_placer.batch_step import PlaceEntriesStep
from actors.order_placer.steps import (
    ModifyEntriesStep,
    ModifyStopLossesStep,
    PlaceProtectiveOrdersStep,
    PlaceRegeneratedStep,
)
from actors.order_syncer.context import LoadContext
from actors.order_syncer.steps import ArchiveRejectedStep, RegenerateEntriesStep, SyncOrdersStep
from actors.pnl_calculator.step import ComputePnlStep
from actors.user_monitor.config import CycleConfig
from adapters.broker.registry import AdapterSettings, BrokerRegistry
from adapters.store.account_secrets import refusal, secrets_state
from adapters.store.event_log import open_event_log
from adapters.store.factory import connect_store, open_event_log_database, upgrade_url
from adapters.store.port import Store
from adapters.store.secrets import Keyring, SecretKeyError, keyring_from_env
from domain.ports.broker import Broker
from domain.ports.clock import Clock
from domain.ports.send_guard import SendGuard
from messages.commands import (
    ArchiveRejected,
    ComputePnl,
    FetchSnapshots,
    LoadCycleContext,
    ModifyEntries,
    ModifyStopLosses,
    PlaceEntries,
    PlaceProtectiveOrders,
    PlaceRegenerated,
    RegenerateEntries,
    SyncOrders,
)
from service.actor_system import MonitoringSystem, StepHandlers
from service.alerts.notifier import AlertNotifier
from service.clock import SystemClock
from service.config import AlertsConfig, BrokerConfig, DatabaseConfig, OrderRulesConfig
from service.event_tap import EventObserver, TappedEventLog
from service.metrics import Metrics
from service.snapshots import account_frames, login_urls

log = logging.getLogger(__name__)


def build_handlers(store: Store, broker: Broker, clock: Clock, rules: OrderRulesConfig,
                   broker_config: BrokerConfig, notifier: Notifier | None = None) -> StepHandlers:
    fair_age = timedelta(seconds=rules.fair_price_max_age_s)
    renewal = SessionRenewal(broker_config.session_renewal_backoff_s) if broker_config.session_renewal else None
    return {
        LoadCycleContext: LoadContext(store, clock, notifier),
        FetchSnapshots: FetchSnapshotsStep(broker, store, clock, broker_config.call_timeout_s, renewal),
        ComputePnl: ComputePnlStep(store, clock),
        SyncOrders: SyncOrdersStep(store, clock, fair_age),
        PlaceProtectiveOrders: PlaceProtectiveOrdersStep(store, broker, clock, rules.max_leg_attempts,
                                                         timedelta(seconds=rules.inflight_settle_s)),
        ModifyEntries: ModifyEntriesStep(store, broker, clock, fair_age, rules.max_entry_modifications),
        ModifyStopLosses: ModifyStopLossesStep(store, broker, clock, fair_age),
        ArchiveRejected: ArchiveRejectedStep(store, clock),
        RegenerateEntries: RegenerateEntriesStep(store, clock, rules.max_regenerations, rules.regeneration_backoff_s),
        PlaceRegenerated: PlaceRegeneratedStep(store, broker, clock),
        PlaceEntries: PlaceEntriesStep(store, broker, clock, broker_config.call_timeout_s, renewal),
    }


class Runtime:
    """Everything one service process runs, built on one I/O loop; `close()` undoes it in reverse order."""

    def __init__(self, *, database_url: str, notifier: Notifier, cycle: CycleConfig,
                 rules: OrderRulesConfig | None = None, broker: BrokerConfig | None = None,
                 database: DatabaseConfig | None = None, migrate: bool = True, metrics: Metrics | None = None,
                 event_observers: Sequence[EventObserver] = (), alerts: AlertsConfig | None = None,
                 keyring: Keyring | None = None, send_guard: SendGuard | None = None) -> None:
        """`keyring` seals and opens the broker secrets (default: MONITOR_SECRET_KEY and friends). Refuses
        to start (SecretKeyError) when the stored secrets cannot be used with it: see `refusal`. `send_guard`
        is asked before every request that changes orders at a broker (a process holding no leases has none)."""
        self.io = IoLoop()
        self.clock = SystemClock(self.io.loop)
        broker = broker or BrokerConfig()
        database = database or DatabaseConfig()
        rules = rules or OrderRulesConfig()
        # Older fair prices are stale: the order steps leave their orders alone, the `pnl` frame marks them.
        self.fair_price_max_age = timedelta(seconds=rules.fair_price_max_age_s)
        try:
            keyring = keyring or keyring_from_env()
            if migrate:
                upgrade = self.io.call(upgrade_url(database_url, keyring))
                if upgrade.sealed and keyring is not None:
                    log.warning("sealed %d broker secret(s) stored in clear under key %s", upgrade.sealed,
                                   keyring.current_id)
            self.store = self.io.call(connect_store(database_url, pool_size=database.pool_size, keyring=keyring))
            problem = refusal(self.io.call(secrets_state(self.store.database)), self.store.keyring)
            if problem is not None:
                self.io.call(self.store.close())
                raise SecretKeyError(problem)
            self.metrics = metrics or Metrics()
            self.http = self.io.call(_client_session(broker))
            self.alerts = AlertNotifier.from_config(alerts, http=self.http, loop=self.io.loop, clock=self.clock) \
                if alerts is not None else None
            alert_observers = (self.alerts.observe,) if self.alerts else ()
            self.event_log_database = self.io.call(open_event_log_database(
                database_url, self.store.database, pool_size=database.event_log_pool_size))
            event_log = self.io.call(open_event_log(self.event_log_database))
            self.store.on_lease_changed(event_log.forget_sequence)
            self.event_log = TappedEventLog(event_log, (self.metrics.observe, *event_observers, *alert_observers))
            self.broker = BrokerRegistry.build(AdapterSettings(
                http=self.http, call_timeout_s=broker.call_timeout_s, pacing=broker.pacing,
                read_cache_accounts=broker.read_cache_accounts, observe=self.metrics.broker_call,
                send_guard=send_guard))
            handlers = build_handlers(self.store, self.broker, self.clock, rules, broker, notifier)
            self.system = MonitoringSystem(io=self.io, clock=self.clock, config=cycle, event_log=self.event_log,
                                           notifier=notifier, handlers=handlers,
                                           account_frames=partial(account_frames, self.store,
                                                                  fair_price_max_age=self.fair_price_max_age),
                                           login_urls=partial(login_urls, self.store, self.broker),
                                           scheduler=BackgroundScheduler(timezone="UTC"),
                                           monitor_observers=(self.alerts.monitor_changed,) if self.alerts else (),
                                           lease_held=send_guard.holds if send_guard is not None else None)
        except BaseException:
            self.io.stop()
            raise

    def db_statements(self) -> int:
        """Statements this process has sent to the database: the store's pool and the event log's."""
        own_pool = self.event_log_database is not self.store.database
        return self.store.database.statements + (self.event_log_database.statements if own_pool else 0)

    def close(self) -> None:
        if self.alerts is not None:
            self.io.call(self.alerts.close())
        self.system.stop()
        self.io.call(self.event_log.close())
        if self.event_log_database is not self.store.database:
            self.io.call(self.event_log_database.close())
        self.io.call(self.http.close())
        self.io.call(self.store.close())
        self.io.stop()


async def _client_session(config: BrokerConfig) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=config.connection_limit,
                                                                limit_per_host=config.connections_per_host))
