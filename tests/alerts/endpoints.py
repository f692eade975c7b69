"""Local stand-ins for the alert endpoints: a webhook (as Slack's or Discord's) and the Telegram Bot API,
one real aiohttp server on a loopback port in a thread of its own, keeping every request it was sent."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from actors.io_loop import IoLoop
from service.alerts.alert import TITLES, AlertKind

WEBHOOK_PATH = "/services/T000/B000/hook-secret-XYZ"
"""A webhook URL's path holds its secret, as Slack's and Discord's do."""


@dataclass(frozen=True)
class Received:
    path: str
    body: dict[str, Any]


class AlertEndpoints:
    def __init__(self) -> None:
        self._io = IoLoop("alert-endpoints")
        self._lock = threading.Lock()
        self._webhook: list[Received] = []
        self._telegram: list[Received] = []
        self.status = {"webhook": 200, "telegram": 200}
        self.delay_s = 0.0
        """How long each answer is held back."""
        app = web.Application()
        app.router.add_post(WEBHOOK_PATH, self._on_webhook)
        app.router.add_post("/{bot}/sendMessage", self._on_telegram)
        self._runner = web.AppRunner(app, access_log=None)
        self._io.call(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._io.call(site.start())
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self.webhook_url = self.url + WEBHOOK_PATH
        self.telegram_base_url = self.url

    async def _on_webhook(self, request: web.Request) -> web.Response:
        with self._lock:
            self._webhook.append(Received(path=request.path, body=json.loads(await request.text())))
        await asyncio.sleep(self.delay_s)
        status = self.status["webhook"]
        return web.Response(status=status, text="ok" if status == 200 else "upstream broke")

    async def _on_telegram(self, request: web.Request) -> web.Response:
        with self._lock:
            self._telegram.append(Received(path=request.path, body=json.loads(await request.text())))
        await asyncio.sleep(self.delay_s)
        status = self.status["telegram"]
        if status == 200:
            return web.json_response({"ok": True, "result": {"message_id": len(self._telegram)}})
        return web.json_response({"ok": False, "error_code": status, "description": "Internal Server Error"},
                                 status=status)

    def webhook(self, kind: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self._webhook if kind is None or r.body["kind"] == kind]

    def telegram(self, kind: str | None = None) -> list[Received]:
        """Messages sent to the bot (of `kind`: those whose text starts with its title)."""
        with self._lock:
            return [r for r in self._telegram if kind is None or r.body["text"].startswith(TITLES[AlertKind(kind)])]

    def close(self) -> None:
        self._io.call(self._runner.cleanup())
        self._io.stop()
