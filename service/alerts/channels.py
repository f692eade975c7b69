"""The two ways an alert leaves the service: a JSON webhook (Slack- and Discord-compatible) and the
Telegram Bot API, each one POST per alert through the service's one aiohttp session.

A channel that cannot deliver raises `DeliveryFailed`, whose message never holds the webhook URL or the
bot token; `target` names the endpoint for logs with those masked. Nothing is sent again here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import aiohttp
import msgspec
from yarl import URL

from service.alerts.alert import Alert

DISCORD_CONTENT_MAX = 2000
"""Discord refuses a `content` longer than this; Slack takes it."""
TELEGRAM_TEXT_MAX = 4096
ANSWER_SHOWN_MAX = 200
"""Characters of a refusing endpoint's answer kept in the failure's message."""


class DeliveryFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Channel(Protocol):
    name: str
    target: str
    """The endpoint as logs may show it: no secret."""

    async def send(self, http: aiohttp.ClientSession, alert: Alert, timeout_s: float) -> None: ...


def webhook_body(alert: Alert) -> dict[str, Any]:
    """Slack reads `text`, Discord `content`; both ignore the rest, the alert's own fields for other readers."""
    text = _cut(alert.text(), DISCORD_CONTENT_MAX)
    return {"text": text, "content": text, "kind": alert.kind.value, "user_id": alert.user_id,
            "account_id": alert.account_id, "order_id": alert.order_id, "message": alert.message,
            "at": alert.at}


def telegram_body(alert: Alert, chat_id: str) -> dict[str, Any]:
    return {"chat_id": chat_id, "text": _cut(alert.text(), TELEGRAM_TEXT_MAX)}


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str) -> None:
        self._url = url
        self.target = f"webhook {masked_url(url)}"

    async def send(self, http: aiohttp.ClientSession, alert: Alert, timeout_s: float) -> None:
        await _post(http, self._url, webhook_body(alert), timeout_s, secrets=(self._url, URL(self._url).path))


class TelegramChannel:
    name = "telegram"

    def __init__(self, bot_token: str, chat_id: str, base_url: str) -> None:
        self._token = bot_token
        self._chat_id = chat_id
        self._url = f"{base_url.rstrip('/')}/bot{bot_token}/sendMessage"
        self.target = f"Telegram chat {chat_id} at {base_url.rstrip('/')}/bot***/sendMessage"

    async def send(self, http: aiohttp.ClientSession, alert: Alert, timeout_s: float) -> None:
        await _post(http, self._url, telegram_body(alert, self._chat_id), timeout_s, secrets=(self._token,))


def masked_url(url: str) -> str:
    """The URL's scheme, host and port; its path, query and credentials (where a webhook's secret is) masked."""
    try:
        return f"{URL(url).origin()}/***"
    except ValueError:
        return "***"


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, Any], timeout_s: float,
                secrets: Sequence[str]) -> None:
    try:
        async with http.post(url, data=msgspec.json.encode(body), headers={"Content-Type": "application/json"},
                             timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            if 200 <= response.status < 300:
                return
            answer = (await response.text(errors="replace"))[:ANSWER_SHOWN_MAX]
    except TimeoutError:
        raise DeliveryFailed(f"no answer within {timeout_s:g} s") from None
    except (aiohttp.ClientError, OSError, ValueError) as error:
        raise DeliveryFailed(_redacted(f"{type(error).__name__}: {error}", secrets)) from None
    raise DeliveryFailed(_redacted(f"answered HTTP {response.status}: {answer}", secrets))


def _redacted(text: str, secrets: Sequence[str]) -> str:
    for secret in sorted((s for s in secrets if s and s != "/"), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
