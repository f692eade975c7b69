"""The notifier on a real I/O loop with a real aiohttp session, delivering to the local stand-ins: events
handed in from another thread come out once at both endpoints, the rate limit holds back and then sends
one note, a monitor stop waits out its grace, a failed delivery is logged at WARNING and nothing stops,
and `close()` lets a delivery under way finish."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from actors.io_loop import IoLoop
from domain.errors import ErrorKind
from messages.events import FetchFailed
from service.alerts.channels import TelegramChannel, WebhookChannel
from service.alerts.notifier import AlertNotifier
from service.clock import SystemClock
from service.config import AlertsConfig
from tests.alerts.endpoints import AlertEndpoints
from tests.cycle.conftest import wait_for

TOKEN = "987654:bot-token-NOTIFIER-SECRET"
WINDOW = timedelta(seconds=1)


def expired(account_id: int, user_id: int = 7) -> FetchFailed:
    return FetchFailed(user_id=user_id, cycle_id="c1", at=datetime.now(UTC), account_ids=(account_id,),
                       kind=ErrorKind.SESSION_EXPIRED, message="order book: session expired (Invalid Token)")


class Rig:
    def __init__(self, endpoints: AlertEndpoints, **config) -> None:
        self.io = IoLoop("alerts-test")
        self.http = self.io.call(_session())
        self.endpoints = endpoints
        settings = AlertsConfig(webhook_url=endpoints.webhook_url, telegram_bot_token=TOKEN, telegram_chat_id="42",
                                telegram_base_url=endpoints.telegram_base_url, **config)
        self.notifier = AlertNotifier(
            channels=(WebhookChannel(settings.webhook_url),
                      TelegramChannel(TOKEN, settings.telegram_chat_id, settings.telegram_base_url)),
            http=self.http, loop=self.io.loop, clock=SystemClock(self.io.loop), config=settings, rate_window=WINDOW)

    def close(self) -> None:
        if self.io.loop.is_closed():
            return
        self.io.call(self.notifier.close())
        self.io.call(self.http.close())
        self.io.stop()


async def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


@pytest.fixture
def make_rig(endpoints: AlertEndpoints) -> Iterator:
    made: list[Rig] = []

    def make(**config) -> Rig:
        made.append(Rig(endpoints, **config))
        return made[-1]

    yield make
    for rig in made:
        rig.close()


def logged(caplog: pytest.LogCaptureFixture, text: str, level: int | None = None) -> list[logging.LogRecord]:
    return [r for r in list(caplog.records) if text in r.getMessage() and (level is None or r.levelno == level)]


def test_an_event_from_another_thread_is_delivered_once_to_both_endpoints(make_rig, caplog):
    caplog.set_level(logging.DEBUG, logger="service.alerts")
    rig = make_rig()

    rig.notifier.observe(expired(12))
    wait_for(lambda: rig.endpoints.webhook() and rig.endpoints.telegram())
    rig.notifier.observe(expired(12))
    wait_for(lambda: logged(caplog, "alert session_needed of user 7 not sent again: its condition persists"))

    assert [r.body["account_id"] for r in rig.endpoints.webhook()] == [12]
    assert len(rig.endpoints.telegram()) == 1
    wait_for(lambda: logged(caplog, "alert session_needed of user 7 sent to webhook, telegram", logging.INFO))


def test_past_the_limit_alerts_are_held_back_and_one_note_follows_when_the_window_has_room(make_rig, caplog):
    caplog.set_level(logging.INFO, logger="service.alerts")
    rig = make_rig(per_user_per_minute=2)

    for account_id in (1, 2, 3, 4):
        rig.notifier.observe(expired(account_id))
    rig.notifier.observe(expired(5, user_id=8))

    wait_for(lambda: rig.endpoints.webhook("alerts_held_back"))
    # deliveries run at once, one task each, so they may arrive in any order
    assert sorted((r.body["kind"], r.body["user_id"], r.body["account_id"] or 0)
                  for r in rig.endpoints.webhook()) == [
        ("alerts_held_back", 7, 0), ("session_needed", 7, 1), ("session_needed", 7, 2), ("session_needed", 8, 5)]
    [note] = rig.endpoints.webhook("alerts_held_back")
    assert note.body["message"] == "2 alerts held back by the limit of 2 a minute (session_needed 2)"
    wait_for(lambda: len(rig.endpoints.telegram()) == 4)
    assert len(logged(caplog, "held back: the user's limit of 2 messages a minute is reached", logging.INFO)) == 2


def test_a_monitor_that_stays_stopped_past_the_grace_is_alerted(make_rig):
    rig = make_rig(monitor_stopped_after_s=0.1)

    rig.notifier.monitor_changed(7, running=False)

    wait_for(lambda: rig.endpoints.webhook("monitor_stopped"))
    [stopped] = rig.endpoints.webhook("monitor_stopped")
    assert stopped.body["user_id"] == 7 and "no client left" in stopped.body["message"]


def test_a_monitor_that_starts_again_within_the_grace_is_not_alerted(make_rig, caplog):
    caplog.set_level(logging.DEBUG, logger="service.alerts")
    rig = make_rig(monitor_stopped_after_s=30.0)

    rig.notifier.monitor_changed(7, running=False)
    rig.notifier.monitor_changed(7, running=True)

    wait_for(lambda: logged(caplog, "monitor of user 7 started again: its stop is not alerted"))


def test_a_failed_delivery_is_logged_at_warning_with_masked_targets_and_the_next_alert_still_goes(make_rig, caplog):
    caplog.set_level(logging.INFO, logger="service.alerts")
    rig = make_rig()
    rig.endpoints.status.update(webhook=500, telegram=500)

    rig.notifier.observe(expired(12))
    wait_for(lambda: len(logged(caplog, "not delivered", logging.WARNING)) == 2)
    rig.endpoints.status.update(webhook=200, telegram=200)
    rig.notifier.observe(expired(13))
    wait_for(lambda: logged(caplog, "alert session_needed of user 7 sent to webhook, telegram"))

    warnings = sorted(r.getMessage() for r in logged(caplog, "not delivered", logging.WARNING))
    assert warnings[0] == (f"alert session_needed of user 7 not delivered to Telegram chat 42 at "
                           f"{rig.endpoints.url}/bot***/sendMessage: answered HTTP 500: "
                           '{"ok": false, "error_code": 500, "description": "Internal Server Error"}')
    assert warnings[1] == (f"alert session_needed of user 7 not delivered to webhook {rig.endpoints.url}/***: "
                           "answered HTTP 500: upstream broke")
    assert all((r.user_id, r.account_id, r.step) == (7, 12, "alert")
               for r in logged(caplog, "not delivered", logging.WARNING))


def test_close_lets_a_delivery_under_way_finish_and_takes_nothing_after(make_rig, caplog):
    caplog.set_level(logging.INFO, logger="service.alerts")
    rig = make_rig()
    rig.endpoints.delay_s = 0.3
    rig.notifier.observe(expired(12))
    wait_for(lambda: rig.endpoints.webhook() and rig.endpoints.telegram())

    rig.io.call(rig.notifier.close())
    assert logged(caplog, "alert session_needed of user 7 sent to webhook, telegram"), "it finished before close"
    rig.notifier.observe(expired(13))
    rig.notifier.kill_switch_turned(7, True, "lunch")
    rig.io.call(_nothing())
    assert len(rig.endpoints.webhook()) == 1


async def _nothing() -> None:
    """A round trip through the loop: whatever was handed to it before has run."""
