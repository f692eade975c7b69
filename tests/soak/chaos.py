"""The chaos soak: the real runtime on MySQL, many users with several accounts each on a fast interval, the
paper broker (its own loop and thread) faulting a share of every call at random, orders placed through the
batch code path and prices moving while cycles run, and the service's database connections killed at the
start of some cycles. Sessions the broker ends are renewed as a user would (one user's each round). Then the
faults stop, every session is renewed, and every user must complete two whole cycles. The figures are kept
in `figures`; the checks are left to `invariants`.

Owns driving the run only; it asserts nothing itself.
"""

from __future__ import annotations

import contextlib
import queue
import random
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pymysql

from actors.io_loop import IoLoop
from actors.order_placer.entries import place_entries
from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from adapters.broker.paper import run_paper_broker
from adapters.store.url import parse_database_url
from domain.entries import NewEntry
from domain.errors import AdapterError
from messages.events import CycleFinished, CycleStarted
from service.config import BrokerConfig, OrderRulesConfig
from service.runtime import Runtime
from tests import paper_sim
from tests.doubles import RecordingNotifier
from tests.soak.invariants import two_cycles_each

INSTRUMENTS = {"SBIN": 3045, "INFY": 1594, "RELIANCE": 2885}
START_PRICES = {"SBIN": Decimal("800.00"), "INFY": Decimal("1500.00"), "RELIANCE": Decimal("2885.00")}
TICK = Decimal("0.05")
INFLIGHT_SETTLE_S = 2.0
"""Twice the soak's broker call timeout (1 s): a request whose answer was lost is judged after this long."""


@dataclass(frozen=True)
class SoakPlan:
    users: int = 20
    accounts_per_user: int = 3
    interval_s: float = 1.0
    cycles: int = 60
    """Finished cycles (all users together) to run under faults before they stop."""
    fault_rate: float = 0.10
    db_kill_rate: float = 0.01
    """Share of cycle starts at which every service connection to the database is killed."""
    seed: int = 11


@dataclass
class SoakFigures:
    cycles_under_faults: int = 0
    cycles_total: int = 0
    faults_injected: dict[str, int] = field(default_factory=dict)
    db_kills: int = 0
    connections_killed: int = 0
    orders_placed: list[int] = field(default_factory=list)
    seconds: float = 0.0


def tick_price(value: Decimal) -> Decimal:
    return (value / TICK).quantize(Decimal(1)) * TICK


class ConnectionKiller:
    """Kills every connection to one MySQL database but its own, from its own thread, when asked."""

    def __init__(self, database_url: str) -> None:
        self._url = parse_database_url(database_url)
        self._requests: queue.Queue[bool] = queue.Queue()
        self.kills = self.connections = 0
        self._thread = threading.Thread(target=self._run, name="db-killer", daemon=True)
        self._thread.start()

    def request(self) -> None:
        self._requests.put(True)

    def _run(self) -> None:
        url = self._url
        admin = pymysql.connect(host=url.host, port=url.port, user=url.user, password=url.password, autocommit=True)
        with admin:
            while self._requests.get():
                with admin.cursor() as cursor:
                    cursor.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s "
                                   "AND ID <> CONNECTION_ID()", (url.database,))
                    ids = [row[0] for row in cursor.fetchall()]
                    for connection_id in ids:
                        with contextlib.suppress(pymysql.MySQLError):
                            cursor.execute("KILL CONNECTION %s", (connection_id,))
                self.kills += 1
                self.connections += len(ids)

    def close(self) -> None:
        self._requests.put(False)
        self._thread.join(timeout=10)


class ChaosSoak:
    def __init__(self, database_url: str, plan: SoakPlan) -> None:
        self.url = database_url
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.figures = SoakFigures()
        self.finished = 0
        self.prices = dict(START_PRICES)
        self.paper_io = IoLoop("paper-broker")
        self._paper_stack = contextlib.AsyncExitStack()
        self.paper = self.paper_io.call(self._paper_stack.enter_async_context(
            run_paper_broker("127.0.0.1", 0, seed=plan.seed)))
        self.killer = ConnectionKiller(database_url)
        self._killing = False
        self.runtime = Runtime(database_url=database_url, notifier=RecordingNotifier(),
                               cycle=CycleConfig(interval_s=plan.interval_s, window=TradingWindow(enabled=False)),
                               broker=BrokerConfig(call_timeout_s=1.0, pacing=False),
                               rules=OrderRulesConfig(inflight_settle_s=INFLIGHT_SETTLE_S),
                               event_observers=(self._on_event,))
        self.io, self.store = self.runtime.io, self.runtime.store
        self.accounts: dict[int, list[int]] = {}

    def _on_event(self, event: Any) -> None:
        if isinstance(event, CycleFinished):
            self.finished += 1
        elif isinstance(event, CycleStarted) and self._killing and self.rng.random() < self.plan.db_kill_rate:
            self.killer.request()

    def sim(self, control: str, **body: Any) -> Any:
        return self.io.call(paper_sim.sim(self.runtime.http, self.paper.url, control, **body))

    def journal(self) -> list[dict[str, Any]]:
        return self.io.call(paper_sim.journal(self.runtime.http, self.paper.url))

    # --- the run --------------------------------------------------------------------------------------

    def given_users(self) -> None:
        for symbol, ltp in self.prices.items():
            self.sim("price", symbol=symbol, ltp=str(ltp))
        for u in range(self.plan.users):
            user_id, _ = self.io.call(self.store.add_user(f"soak{u}"))
            self.accounts[user_id] = [
                self.io.call(self.store.add_account(user_id, "paper", self.paper.url, f"U{u}A{a}",
                                                    app_key=f"U{u}A{a}", secret_key=f"soak-secret-{u}-{a}"))
                for a in range(self.plan.accounts_per_user)]
            self.runtime.system.client_connected(user_id, "soak-client")

    def place_some_entries(self) -> None:
        user_id = self.rng.choice(list(self.accounts))
        account_id = self.rng.choice(self.accounts[user_id])
        entries = [self._an_entry() for _ in range(self.rng.randint(1, 3))]
        # a faulted login or a killed connection: the batch API answers an error, there is no id to track
        with contextlib.suppress(AdapterError):
            results = self.io.call(self._place(user_id, account_id, entries))
            # an entry whose row could not be written (a killed connection) is `not_placed` with no id: nothing
            # was sent or kept, so there is no order to find later
            assert all(r.outcome == "not_placed" for r in results if r.order_id is None), results
            self.figures.orders_placed.extend(r.order_id for r in results if r.order_id is not None)

    async def _place(self, user_id: int, account_id: int, entries: list[NewEntry]) -> list[Any]:
        [account] = await self.store.broker_accounts(user_id, (account_id,))
        if not account.token:
            token = await self.runtime.broker.login(account)
            await self.store.set_account_token(user_id, account_id, token)
            [account] = await self.store.broker_accounts(user_id, (account_id,))
        return await place_entries(self.store, self.runtime.broker, account, user_id, entries, self.runtime.clock.now)

    def _an_entry(self) -> NewEntry:
        symbol = self.rng.choice(list(INSTRUMENTS))
        ltp = self.prices[symbol]
        side = self.rng.choice(("BUY", "SELL"))
        sign = 1 if side == "BUY" else -1
        market = self.rng.random() < 0.7
        limit = None if market else tick_price(ltp * (1 - sign * Decimal("0.004")))
        reference = limit or ltp
        return NewEntry(strategy="soak", symbol=symbol, exchange_segment="NSECM", instrument_id=INSTRUMENTS[symbol],
                        side=side, quantity=self.rng.randint(1, 20), entry_type="MARKET" if market else "LIMIT",
                        entry_limit_price=limit, sl_stop_price=tick_price(reference * (1 - sign * Decimal("0.02"))),
                        tp_price=tick_price(reference * (1 + sign * Decimal("0.02"))))

    def move_a_price(self) -> None:
        symbol = self.rng.choice(list(INSTRUMENTS))
        step = Decimal(self.rng.choice((-8, -4, -2, 2, 4, 8))) / 1000
        self.prices[symbol] = tick_price(self.prices[symbol] * (1 + step))
        self.sim("price", symbol=symbol, ltp=str(self.prices[symbol]))

    def run_under_faults(self) -> None:
        self.sim("chaos", rate=self.plan.fault_rate,
                 kinds=["session_expired", "http_500", "timeout", "reset", "malformed", "slow", "accept_then_500"])
        self._killing = True
        start = self.finished
        while self.finished - start < self.plan.cycles:
            with contextlib.suppress(AdapterError):  # the broker's login faulted, or the database connection died
                self.renew_sessions(self.rng.choice(list(self.accounts)))
            self.place_some_entries()
            if self.rng.random() < 0.3:
                self.move_a_price()
            time.sleep(0.2)
        self._killing = False
        self.figures.cycles_under_faults = self.finished - start
        self.figures.faults_injected = self.sim("chaos", rate=0.0)["injected"]

    def settle(self, timeout_s: float) -> dict[int, int]:
        """Faults off: renew every session a user would be asked to renew, let the in-flight settle time pass
        (a request whose answer was lost is judged only after it), then wait for two whole cycles of every
        user that started after that. Returns the cycles each user finished by the deadline."""
        for user_id in self.accounts:
            self.renew_sessions(user_id)
        time.sleep(INFLIGHT_SETTLE_S)
        return two_cycles_each(self.url, self.accounts, timeout_s)

    def renew_sessions(self, user_id: int) -> None:
        """Log in again every account of the user whose session the broker ended, as the user would."""
        context = self.io.call(self.store.load_cycle_context(user_id))
        for account_id in context.awaiting_session:
            [account] = self.io.call(self.store.broker_accounts(user_id, (account_id,)))
            self.io.call(self.store.set_account_token(user_id, account_id,
                                                      self.io.call(self.runtime.broker.login(account))))

    def monitored_users(self) -> set[int]:
        return set(self.runtime.system.registry.user_ids())

    def drain(self, timeout_s: float = 30.0) -> None:
        """Disconnect every client, as the service does at shutdown, and wait for running cycles to finish."""
        for user_id in self.accounts:
            self.runtime.system.client_disconnected(user_id, "soak-client")
        deadline = time.monotonic() + timeout_s
        while self.monitored_users() and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        self.killer.close()
        self.drain()
        with contextlib.suppress(Exception):
            self.runtime.system.stop()
        self.runtime.close()
        self.paper_io.call(self._paper_stack.aclose())
        self.paper_io.stop()
