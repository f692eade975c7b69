"""Alerts from a real service (aiohttp server, actors, store on SQLite, the paper broker over HTTP) to the
local stand-ins of a webhook and the Telegram Bot API: a cycle that hits an expired session, a trade whose
stop-loss the broker keeps refusing, the daily loss limit, the kill switch and a monitor left without a
client each deliver exactly one alert to both endpoints, however often the condition is seen again; an
endpoint that fails or is down is logged at WARNING and the service goes on."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from adapters.broker.paper import run_paper_broker
from domain.records import FairPrice
from service.config import AlertsConfig, BrokerConfig, OrderRulesConfig
from service.server import Service
from service.web.context import WebSettings
from tests import paper_sim
from tests.alerts.endpoints import AlertEndpoints
from tests.cycle.conftest import wait_for
from tests.web.conftest import Served
from tests.web.test_kill_switch import converse, having

TOKEN = "5550001:AAF-served-bot-token-SECRET"
CHAT = "-1001234"
ORDER = {"strategy": "s", "symbol": "SBIN", "exchange_segment": "NSECM", "instrument_id": 3045, "side": "BUY",
         "quantity": 5, "entry_type": "MARKET", "sl_stop_price": "95", "tp_price": "110"}


class AlertedService(Served):
    """`Served` with alerts on, to the stand-ins (`telegram_base_url` may point elsewhere, e.g. nowhere)."""

    def __init__(self, database_url: str, endpoints: AlertEndpoints, rules: OrderRulesConfig | None = None,
                 **alerts: Any) -> None:
        self.database_url = database_url
        self.endpoints = endpoints
        settings = {"webhook_url": endpoints.webhook_url, "telegram_bot_token": TOKEN, "telegram_chat_id": CHAT,
                    "telegram_base_url": endpoints.telegram_base_url, "monitor_stopped_after_s": 3600.0, **alerts}
        # cycles run back to back: a cycle's summary reaches the test and its next run_cycle goes out within
        # milliseconds, which a manual-cycle limit of 50 ms refused now and then
        self.service = Service(database_url=database_url, host="127.0.0.1", port=0,
                               cycle=CycleConfig(interval_s=86_400, window=TradingWindow(enabled=False)),
                               broker=BrokerConfig(call_timeout_s=2.0, pacing=False), rules=rules,
                               web_settings=WebSettings(manual_cycle_every_s=0.001), alerts=AlertsConfig(**settings))
        self.io = self.service.runtime.io
        self.store = self.service.runtime.store
        self.url = self.service.url
        self._stack = contextlib.AsyncExitStack()
        self.paper = self.io.call(self._stack.enter_async_context(run_paper_broker("127.0.0.1", 0, seed=5)))

    def sim(self, control: str, **body: Any) -> None:
        self.io.call(paper_sim.sim(self.service.runtime.http, self.paper.url, control, **body))

    def cycle(self, token: str) -> list[dict]:
        return converse(self, token, [{"type": "run_cycle"}], having("cycle_summary"))

    def shut(self) -> None:
        self.io.call(self._stack.aclose())
        self.close()


@pytest.fixture
def start(tmp_path, endpoints: AlertEndpoints) -> Iterator:
    started: list[AlertedService] = []

    def run(**options: Any) -> AlertedService:
        started.append(AlertedService(f"sqlite:///{tmp_path / f'alerts{len(started)}.db'}", endpoints, **options))
        return started[-1]

    yield run
    for service in started:
        service.shut()


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="actors.supervisor")
    caplog.set_level(logging.DEBUG, logger="service.alerts")
    return caplog


def logged(caplog: pytest.LogCaptureFixture, text: str, level: int = logging.DEBUG) -> list[logging.LogRecord]:
    return [r for r in list(caplog.records) if text in r.getMessage() and r.levelno >= level]


def the_one_alert(endpoints: AlertEndpoints, kind: str) -> tuple[dict, dict]:
    """The webhook's body and Telegram's request of the one alert of `kind` both endpoints received."""
    [webhook], [telegram] = endpoints.webhook(kind), endpoints.telegram(kind)
    assert telegram.path == f"/bot{TOKEN}/sendMessage"
    assert telegram.body == {"chat_id": CHAT, "text": webhook.body["text"]}
    assert webhook.body["content"] == webhook.body["text"]
    assert datetime.fromisoformat(webhook.body["at"]).utcoffset().total_seconds() == 0
    return webhook.body, telegram.body


def test_a_cycle_that_hits_an_expired_session_alerts_once_at_both_endpoints(start, endpoints, debug_logs):
    served = start()
    user_id, token, [account_id] = served.user("alice", "PAPER1")
    served.sim("faults", route="order_book", account="PAPER1", kind="session_expired", count=1)

    served.cycle(token)
    wait_for(lambda: endpoints.webhook("session_needed") and endpoints.telegram("session_needed"))
    served.cycle(token)
    wait_for(lambda: logged(debug_logs, f"alert session_needed of user {user_id} not sent again"))

    webhook, _ = the_one_alert(endpoints, "session_needed")
    message = ("the broker session expired (order book for PAPER1: session expired (Invalid Token)); cycles skip "
               "the account until it logs in again")
    text = f"Session needed (user {user_id}, account {account_id}): {message}"
    assert {k: v for k, v in webhook.items() if k != "at"} == {
        "text": text, "content": text, "kind": "session_needed", "user_id": user_id, "account_id": account_id,
        "order_id": None, "message": message}


def test_a_trade_whose_stop_loss_the_broker_keeps_refusing_alerts_once_and_its_take_profit_not(start, endpoints,
                                                                                                debug_logs):
    served = start(rules=OrderRulesConfig(max_leg_attempts=1))
    user_id, token, [account_id] = served.user("alice", "PAPER1")
    served.sim("price", symbol="SBIN", ltp="100")
    status, answer = served.request("POST", "/api/algo-place-batch-orders", token,
                                    json={"orders": [{**ORDER, "account_id": account_id}]})
    assert status == 200 and answer["results"][0]["outcome"] == "placed", answer
    order_id = answer["results"][0]["order_id"]
    served.sim("reject", rule={"rule": "symbol", "symbol": "SBIN", "reason": "RMS: margin exceeds"})

    served.cycle(token)
    served.cycle(token)
    wait_for(lambda: endpoints.webhook("stop_loss_missing") and endpoints.telegram("stop_loss_missing"))
    served.cycle(token)
    wait_for(lambda: logged(debug_logs, f"alert stop_loss_missing of user {user_id} not sent again"))

    webhook, telegram = the_one_alert(endpoints, "stop_loss_missing")
    assert (webhook["user_id"], webhook["account_id"], webhook["order_id"]) == (user_id, account_id, order_id)
    assert webhook["message"].startswith(f"order {order_id} SBIN runs without a stop-loss: SL rejected 1 times, "
                                         "placed 1 times today "
                                         "(last: RMS: margin exceeds)")
    assert webhook["message"].endswith("; the position is unprotected")
    assert telegram["text"] == f"Trade without stop-loss (user {user_id}, account {account_id}): {webhook['message']}"
    assert len(endpoints.webhook()) == 1, "the take-profit, refused as often, is no alert"


def test_the_daily_loss_limit_pausing_alerts_once(start, endpoints):
    served = start()
    user_id, token, [account_id] = served.user("alice", "PAPER1")
    served.io.call(served.store.set_daily_loss_limit(user_id, Decimal("1")))
    served.sim("price", symbol="SBIN", ltp="100")
    assert served.request("POST", "/api/algo-place-batch-orders", token,
                          json={"orders": [{**ORDER, "account_id": account_id}]})[0] == 200
    served.sim("price", symbol="SBIN", ltp="99")
    served.io.call(served.store.upsert_desk_prices([FairPrice(
        symbol="SBIN", buy_fair_price=Decimal("99.05"), sell_fair_price=Decimal("99"), updated_at=datetime.now(UTC))]))

    served.cycle(token)
    assert endpoints.webhook() == [], "the first cycle computes the day's PnL (-5), the next one compares it"
    served.cycle(token)
    wait_for(lambda: endpoints.webhook("daily_loss_limit") and endpoints.telegram("daily_loss_limit"))
    served.cycle(token)

    webhook, _ = the_one_alert(endpoints, "daily_loss_limit")
    assert webhook["message"] == "automation paused: daily loss limit 1.00 reached (day PnL -5.00)"
    assert (webhook["account_id"], webhook["order_id"]) == (None, None)


def test_the_kill_switch_turned_by_the_api_or_a_frame_alerts_each_turn_once(start, endpoints, debug_logs):
    served = start()
    user_id, token, _ = served.user("alice", "PAPER1")

    assert served.request("POST", "/api/pause", token, json={"reason": "lunch break"})[0] == 200
    wait_for(lambda: endpoints.webhook("paused") and endpoints.telegram("paused"))
    assert served.request("POST", "/api/pause", token, json={"reason": "still lunch"})[0] == 200
    wait_for(lambda: logged(debug_logs, f"alert paused of user {user_id} not sent again"))
    converse(served, token, [{"type": "resume"}], having("paused"))
    wait_for(lambda: endpoints.webhook("resumed") and endpoints.telegram("resumed"))

    paused, _ = the_one_alert(endpoints, "paused")
    assert paused["text"] == f"Automation paused (user {user_id}): the user paused automation: lunch break"
    resumed, _ = the_one_alert(endpoints, "resumed")
    assert resumed["text"] == f"Automation resumed (user {user_id}): the user resumed automation"


def test_a_monitor_left_without_a_client_past_the_grace_alerts_once(start, endpoints):
    served = start(monitor_stopped_after_s=0.2)
    user_id, token, _ = served.user("alice", "PAPER1")

    served.cycle(token)

    wait_for(lambda: endpoints.webhook("monitor_stopped") and endpoints.telegram("monitor_stopped"))
    webhook, _ = the_one_alert(endpoints, "monitor_stopped")
    assert webhook["text"] == (f"Monitoring stopped (user {user_id}): the user's monitor in this service stopped: "
                               "no client left, so it runs no cycle of the user until one connects")


def test_a_client_reconnecting_within_the_grace_is_no_alert(start, endpoints, debug_logs):
    served = start(monitor_stopped_after_s=3600.0)
    user_id, token, _ = served.user("alice", "PAPER1")
    served.cycle(token)
    wait_for(lambda: logged(debug_logs, f"monitor of user {user_id} stopped: no client left"))

    served.cycle(token)

    wait_for(lambda: logged(debug_logs, f"monitor of user {user_id} started again: its stop is not alerted"))
    assert endpoints.webhook() == [] and endpoints.telegram() == []


def test_an_endpoint_answering_500_or_down_is_logged_at_warning_and_the_service_goes_on(start, endpoints, caplog):
    caplog.set_level(logging.INFO)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}"
    served = start(telegram_base_url=nowhere)
    endpoints.status["webhook"] = 500
    user_id, token, _ = served.user("alice", "PAPER1")
    served.sim("faults", route="order_book", account="PAPER1", kind="session_expired", count=1)

    served.cycle(token)
    wait_for(lambda: len(logged(caplog, "not delivered", logging.WARNING)) == 2)
    assert served.request("POST", "/api/pause", token, json={"reason": "after the failure"})[0] == 200
    frames = served.cycle(token)

    assert [f["summary"]["paused"] for f in frames if f["type"] == "cycle_summary"] == [True], "cycles go on"
    wait_for(lambda: len(logged(caplog, "not delivered", logging.WARNING)) == 4)
    failures = sorted(r.getMessage() for r in logged(caplog, "alert session_needed", logging.WARNING))
    assert failures[0].startswith(f"alert session_needed of user {user_id} not delivered to Telegram chat {CHAT} at "
                                  f"{nowhere}/bot***/sendMessage: ClientConnectorError: Cannot connect to host")
    assert failures[1] == (f"alert session_needed of user {user_id} not delivered to webhook {endpoints.url}/***: "
                           "answered HTTP 500: upstream broke")
    assert len(endpoints.webhook()) == 2, "each alert was tried once"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
