"""The end-to-end rig: the real runtime (actors, store, event log, XTS adapter) on a fresh SQLite file
and a fresh MariaDB database, against the paper broker over loopback HTTP. A test seeds rows, scripts the
market through `/_sim/`, runs cycles one at a time and reads the database and the broker's journal.
An expired session waits for a login, unless a test is marked `@pytest.mark.broker(session_renewal=True)`.
A module or test marked `every_broker` runs once per wire format the paper broker speaks: its accounts are
`paper` accounts (XTS's wire) in one run and `kite` accounts (Kite Connect's, logged in by request token as a
trader does each morning) in the other; unmarked ones use `paper` accounts.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from actors.order_placer.entries import place_entries
from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from adapters.broker.paper import run_paper_broker
from domain.entries import NewEntry
from domain.records import FairPrice, OrderRow
from messages.events import CycleFinished
from messages.frames import CycleSummaryFrame, MonitoringErrors
from service.config import BrokerConfig, OrderRulesConfig
from service.runtime import Runtime
from tests import paper_sim
from tests.doubles import RecordingNotifier
from tests.storage.conftest import fresh_mysql_url  # noqa: F401 - fixture used by `database_url`

SBIN = {"symbol": "SBIN", "exchange_segment": "NSECM", "instrument_id": 3045}


class CycleRig:
    def __init__(self, database_url: str, cycle: CycleConfig | None = None,
                 rules: OrderRulesConfig | None = None, broker: BrokerConfig | None = None,
                 broker_name: str = "paper") -> None:
        self.database_url = database_url
        self.broker_name = broker_name
        self.notifier = RecordingNotifier()
        self.finished: list[CycleFinished] = []
        self.runtime = Runtime(database_url=database_url, notifier=self.notifier,
                               cycle=cycle or CycleConfig(interval_s=86_400, window=TradingWindow(enabled=False)),
                               broker=broker or BrokerConfig(call_timeout_s=2.0, pacing=False, session_renewal=False),
                               rules=rules,
                               event_observers=(self._on_event,))
        self.io, self.store = self.runtime.io, self.runtime.store
        self._paper_stack = contextlib.AsyncExitStack()
        self.paper = self.io.call(self._paper_stack.enter_async_context(run_paper_broker("127.0.0.1", 0, seed=3)))
        self.user_id: int | None = None
        self.accounts: dict[str, int] = {}

    def _on_event(self, event: Any) -> None:
        if isinstance(event, CycleFinished):
            self.finished.append(event)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.runtime.system.stop()
        self.io.call(self._paper_stack.aclose())
        self.runtime.close()

    # --- given ----------------------------------------------------------------------------------

    def given_user(self, *client_ids: str, strategies: tuple[str, ...] = ()) -> None:
        self.user_id, _ = self.io.call(self.store.add_user("trader"))
        for client_id in client_ids:
            self.accounts[client_id] = self.io.call(self.store.add_account(
                self.user_id, self.broker_name, self.paper.url, client_id, app_key=client_id, secret_key="s3cret"))
            if self.broker_name == "kite":
                self.kite_login(client_id)
        if strategies:
            self.io.call(self.store.set_permissions(self.user_id, strategies))

    def kite_login(self, client_id: str) -> None:
        """The account's login by hand: a request token from the (paper) Kite login turned into its session."""
        [account] = self.io.call(self.store.broker_accounts(self.user_id, (self.accounts[client_id],)))
        request_token = self.sim("kite_request_token", api_key=client_id)["request_token"]
        token = self.io.call(self.runtime.broker.open_session(account, request_token))
        self.io.call(self.store.set_account_token(self.user_id, account.account_id, token))

    def sim(self, control: str, **body: Any) -> Any:
        return self.io.call(paper_sim.sim(self.runtime.http, self.paper.url, control, **body))

    def price(self, ltp: str, symbol: str = "SBIN") -> None:
        self.sim("price", symbol=symbol, ltp=ltp)

    def fair(self, buy: str, sell: str, symbol: str = "SBIN", at: datetime | None = None) -> None:
        self.io.call(self.store.upsert_desk_prices([FairPrice(
            symbol=symbol, buy_fair_price=Decimal(buy), sell_fair_price=Decimal(sell),
            updated_at=at or datetime.now(UTC))]))

    def journal(self, client_id: str | None = None) -> list[dict[str, Any]]:
        params = {"account": client_id} if client_id else {}
        return self.io.call(paper_sim.journal(self.runtime.http, self.paper.url, **params))

    def place_entry(self, client_id: str = "PAPER1", **fields: Any) -> int:
        """An entry placed through the batch code path; returns its internal order id."""
        entry = msgspec.convert({"strategy": fields.pop("strategy", "momentum"), **SBIN, **fields}, NewEntry)
        accounts = self.io.call(self.store.broker_accounts(self.user_id, (self.accounts[client_id],)))
        account = accounts[0]
        if not account.token:
            token = self.io.call(self.runtime.broker.login(account))
            self.io.call(self.store.set_account_token(self.user_id, account.account_id, token))
            account = self.io.call(self.store.broker_accounts(self.user_id, (account.account_id,)))[0]
        [result] = self.io.call(place_entries(self.store, self.runtime.broker, account, self.user_id, [entry],
                                              self.runtime.clock.now))
        return result.order_id

    def place_untriggered_buy_stop(self, **legs: str) -> int:
        """The market at 100 and a BUY STOPLIMIT entry of 5 at 105 that it has not reached, with `legs`
        (sl_stop_price, tp_price) if given; returns its internal order id."""
        self.price("100")
        return self.place_entry(side="BUY", quantity=5, entry_type="STOPLIMIT", entry_stop_price="105",
                                entry_limit_price="105", **legs)

    # --- when -----------------------------------------------------------------------------------

    def connect(self) -> None:
        self.runtime.system.client_connected(self.user_id, "test-client")
        wait_for(lambda: self.user_id in self.runtime.system.registry.user_ids())

    def run_cycle(self) -> Any:
        """Run one cycle now, wait until it has finished, and return its summary."""
        if self.user_id not in self.runtime.system.registry.user_ids():
            self.connect()
        before = len(self.finished)
        self.runtime.system.run_cycle_now(self.user_id)
        wait_for(lambda: len(self.finished) > before, timeout=30)
        return self.summaries()[-1]

    # --- then -----------------------------------------------------------------------------------

    def summaries(self) -> list[Any]:
        return [f.summary for _, f in list(self.notifier.sent) if isinstance(f, CycleSummaryFrame)]

    def errors(self) -> list[Any]:
        return [e for _, f in list(self.notifier.sent) if isinstance(f, MonitoringErrors) for e in f.errors]

    def book(self, client_id: str = "PAPER1") -> dict[str, Any]:
        """The broker's own order book of the account, by tag."""
        [account] = self.io.call(self.store.broker_accounts(self.user_id, (self.accounts[client_id],)))
        return {row.tag: row for row in self.io.call(self.runtime.broker.order_book(account))}

    def sent(self, tag: str, route: str = "place") -> int:
        """How many `route` requests carrying `tag` the broker ever received."""
        return sum(1 for entry in self.journal() if entry["tag"] == tag and entry["route"] == route)

    def order(self, order_id: int) -> OrderRow | None:
        return self.io.call(self.store.order(self.user_id, order_id))

    def orders(self, client_id: str = "PAPER1") -> list[OrderRow]:
        return self.io.call(self.store.orders_for_accounts(self.user_id, (self.accounts[client_id],)))


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("every_broker") and "broker_name" in metafunc.fixturenames:
        metafunc.parametrize("broker_name", ["paper", "kite"], indirect=True)


@pytest.fixture
def broker_name(request: pytest.FixtureRequest) -> str:
    """The broker of the rig's accounts: `paper` unless the test is marked `every_broker`."""
    return getattr(request, "param", "paper")


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def rig(request: pytest.FixtureRequest, tmp_path, broker_name: str) -> Iterator[CycleRig]:
    yield from _rig(request, tmp_path, broker_name)


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def rig_sending_no_protection_while_paused(request: pytest.FixtureRequest, tmp_path, broker_name: str
                                           ) -> Iterator[CycleRig]:
    """The rig of a service configured `protect_while_paused = false`: a paused cycle sends OCO cancels only."""
    yield from _rig(request, tmp_path, broker_name, CycleConfig(
        interval_s=86_400, window=TradingWindow(enabled=False), protect_while_paused=False))


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def keeping_rig(request: pytest.FixtureRequest, tmp_path, broker_name: str) -> Iterator[CycleRig]:
    """The rig of a service that leaves open entries alone while paused (`cancel_entries_when_paused = false`)."""
    yield from _rig(request, tmp_path, broker_name, CycleConfig(
        interval_s=86_400, window=TradingWindow(enabled=False), cancel_entries_when_paused=False))


def _rig(request: pytest.FixtureRequest, tmp_path, broker_name: str, cycle: CycleConfig | None = None
         ) -> Iterator[CycleRig]:
    url = f"sqlite:///{tmp_path / 'cycle.db'}" if request.param == "sqlite" \
        else request.getfixturevalue("fresh_mysql_url")
    built = CycleRig(url, cycle=cycle, rules=_rules_of(request), broker=_broker_of(request),
                     broker_name=broker_name)
    try:
        yield built
    finally:
        built.close()


def _rules_of(request: pytest.FixtureRequest) -> OrderRulesConfig | None:
    """A test marked `@pytest.mark.rules(...)` runs the service with those order rules."""
    marker = request.node.get_closest_marker("rules")
    return OrderRulesConfig(**marker.kwargs) if marker else None


def _broker_of(request: pytest.FixtureRequest) -> BrokerConfig | None:
    """A test marked `@pytest.mark.broker(...)` runs the service with those broker settings (unpaced, and an
    expired session left to a login unless it gives `session_renewal`)."""
    marker = request.node.get_closest_marker("broker")
    return BrokerConfig(**{"call_timeout_s": 2.0, "pacing": False, "session_renewal": False,
                           **marker.kwargs}) if marker else None
