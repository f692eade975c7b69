"""The two channels against local stand-ins over real HTTP: the exact JSON each endpoint receives, the
Telegram path /bot<token>/sendMessage, and a refusing or absent endpoint turned into a DeliveryFailed whose
message and target hold neither the webhook's secret path nor the bot token."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import aiohttp
import pytest

from service.alerts.alert import Alert, AlertKind
from service.alerts.channels import DeliveryFailed, TelegramChannel, WebhookChannel, masked_url
from tests.alerts.endpoints import WEBHOOK_PATH, AlertEndpoints

TOKEN = "123456:AAH-bot-token-SECRET"
AT = datetime(2026, 3, 2, 4, 0, 5, 250000, tzinfo=UTC)
ALERT = Alert(kind=AlertKind.SESSION_NEEDED, user_id=7, account_id=12, at=AT,
              message="the broker session expired (Invalid Token); cycles skip the account until it logs in again")
TEXT = ("Session needed (user 7, account 12): the broker session expired (Invalid Token); cycles skip the account "
        "until it logs in again")


async def test_the_webhook_receives_slack_text_discord_content_and_the_alerts_fields(endpoints: AlertEndpoints):
    async with aiohttp.ClientSession() as http:
        await WebhookChannel(endpoints.webhook_url).send(http, ALERT, timeout_s=5)

    [received] = endpoints.webhook()
    assert received.path == WEBHOOK_PATH
    assert received.body == {"text": TEXT, "content": TEXT, "kind": "session_needed", "user_id": 7, "account_id": 12,
                             "order_id": None, "message": ALERT.message, "at": "2026-03-02T04:00:05.250000Z"}


async def test_telegram_receives_chat_id_and_text_at_bot_token_send_message(endpoints: AlertEndpoints):
    async with aiohttp.ClientSession() as http:
        await TelegramChannel(TOKEN, "-100200300", endpoints.telegram_base_url + "/").send(http, ALERT, timeout_s=5)

    [received] = endpoints.telegram()
    assert received.path == f"/bot{TOKEN}/sendMessage"
    assert received.body == {"chat_id": "-100200300", "text": TEXT}


async def test_a_text_longer_than_discord_takes_is_cut_with_an_ellipsis(endpoints: AlertEndpoints):
    long = Alert(kind=AlertKind.MONITOR_RESTARTED, user_id=7, at=AT, message="x" * 5000)
    async with aiohttp.ClientSession() as http:
        await WebhookChannel(endpoints.webhook_url).send(http, long, timeout_s=5)
        await TelegramChannel(TOKEN, "1", endpoints.telegram_base_url).send(http, long, timeout_s=5)

    webhook, telegram = endpoints.webhook()[0].body, endpoints.telegram()[0].body
    assert len(webhook["content"]) == 2000 and webhook["content"].endswith("x…")
    assert webhook["message"] == "x" * 5000, "the structured field keeps it whole"
    assert len(telegram["text"]) == 4096 and telegram["text"].endswith("x…")


async def test_a_text_exactly_as_long_as_discord_takes_is_sent_whole(endpoints: AlertEndpoints):
    title = "Monitor restarted (user 7): "
    exact = Alert(kind=AlertKind.MONITOR_RESTARTED, user_id=7, at=AT, message="y" * (2000 - len(title)))
    async with aiohttp.ClientSession() as http:
        await WebhookChannel(endpoints.webhook_url).send(http, exact, timeout_s=5)
    assert endpoints.webhook()[0].body["content"] == exact.text() and len(exact.text()) == 2000


@pytest.mark.parametrize("status", [300, 404, 500])
async def test_an_endpoint_answering_other_than_2xx_fails_the_delivery_without_a_secret(endpoints: AlertEndpoints,
                                                                                         status: int):
    endpoints.status.update(webhook=status, telegram=status)
    webhook = WebhookChannel(endpoints.webhook_url)
    telegram = TelegramChannel(TOKEN, "42", endpoints.telegram_base_url)
    async with aiohttp.ClientSession() as http:
        failures = []
        for channel in (webhook, telegram):
            with pytest.raises(DeliveryFailed) as raised:
                await channel.send(http, ALERT, timeout_s=5)
            failures.append(raised.value.message)

    assert failures[0] == f"answered HTTP {status}: upstream broke"
    assert failures[1].startswith(f"answered HTTP {status}: ") and "Internal Server Error" in failures[1]
    for said in (*failures, webhook.target, telegram.target):
        assert TOKEN not in said and "hook-secret-XYZ" not in said


@pytest.mark.parametrize("status", [204, 299])
async def test_any_2xx_is_delivered(endpoints: AlertEndpoints, status: int):
    endpoints.status["webhook"] = status
    async with aiohttp.ClientSession() as http:
        await WebhookChannel(endpoints.webhook_url).send(http, ALERT, timeout_s=5)
    assert len(endpoints.webhook()) == 1


async def test_an_endpoint_answering_after_the_deadline_fails_the_delivery(endpoints: AlertEndpoints):
    endpoints.delay_s = 1.0
    async with aiohttp.ClientSession() as http:
        with pytest.raises(DeliveryFailed, match=r"^no answer within 0.2 s$"):
            await TelegramChannel(TOKEN, "42", endpoints.telegram_base_url).send(http, ALERT, timeout_s=0.2)


async def test_an_endpoint_that_is_down_fails_the_delivery_without_a_secret():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for channel in (WebhookChannel(down + WEBHOOK_PATH), TelegramChannel(TOKEN, "42", down)):
            with pytest.raises(DeliveryFailed) as raised:
                await channel.send(http, ALERT, timeout_s=5)
            assert raised.value.message.startswith("ClientConnectorError: Cannot connect to host 127.0.0.1:")
            assert TOKEN not in raised.value.message and "hook-secret-XYZ" not in raised.value.message


def test_targets_show_scheme_host_and_port_only():
    assert masked_url("https://hooks.slack.com/services/T0/B0/SECRET?x=1") == "https://hooks.slack.com/***"
    assert masked_url("https://user:pw@example.com:8443/hook") == "https://example.com:8443/***"
    assert WebhookChannel("https://discord.com/api/webhooks/1/SECRET").target == "webhook https://discord.com/***"
    assert TelegramChannel(TOKEN, "42", "https://api.telegram.org").target == \
        "Telegram chat 42 at https://api.telegram.org/bot***/sendMessage"
