"""Delivers alerts on the I/O loop: reads signals off the events and the two hooks, judges them, calls channels.

Entry points, from any thread, only hand signals to the loop, where the one policy lives (so it needs no lock);
each alert goes to every channel in a task of its own, and a failed delivery is logged at WARNING with the
masked target. A monitor stopped for want of a client is alerted only after `monitor_stopped_after_s`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from domain.ports.clock import Clock
from messages.events import Event
from service.alerts.alert import Alert, Cleared, Signal
from service.alerts.channels import Channel, DeliveryFailed, TelegramChannel, WebhookChannel
from service.alerts.policy import AlertPolicy
from service.alerts.signals import (
    monitor_started_signals,
    monitor_stopped_alert,
    signals_of_event,
    signals_of_kill_switch,
)
from service.config import AlertsConfig

log = logging.getLogger(__name__)


class AlertNotifier:
    def __init__(self, *, channels: Sequence[Channel], http: aiohttp.ClientSession,
                 loop: asyncio.AbstractEventLoop, clock: Clock, config: AlertsConfig,
                 rate_window: timedelta = timedelta(minutes=1)) -> None:
        self._channels = tuple(channels)
        self._http = http
        self._loop = loop
        self._clock = clock
        self._config = config
        self._policy = AlertPolicy(per_minute=config.per_user_per_minute,
                                   realert_after=timedelta(seconds=config.realert_after_s)
                                   if config.realert_after_s else None, window=rate_window)
        self._notes: dict[int, asyncio.TimerHandle] = {}
        self._stops: dict[int, asyncio.TimerHandle] = {}
        self._deliveries: set[asyncio.Task] = set()
        self._closed = False

    @classmethod
    def from_config(cls, config: AlertsConfig, *, http: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop,
                    clock: Clock) -> AlertNotifier | None:
        """The notifier of the channels `config` turns on; None when it turns on none."""
        if not config.enabled:
            return None
        channels: list[Channel] = []
        if config.webhook_url:
            channels.append(WebhookChannel(config.webhook_url))
        if config.telegram_bot_token:
            channels.append(TelegramChannel(config.telegram_bot_token, config.telegram_chat_id,
                                            config.telegram_base_url))
        return cls(channels=channels, http=http, loop=loop, clock=clock, config=config)

    # --- entry points: any thread, quick ---------------------------------------------------------

    def observe(self, event: Event) -> None:
        """An event observer (service/event_tap.py)."""
        signals = signals_of_event(event)
        if signals:
            self._hand_over(self._apply, signals)

    def kill_switch_turned(self, user_id: int, paused: bool, reason: str) -> None:
        self._hand_over(self._apply, signals_of_kill_switch(user_id, paused, reason, self._clock.now()))

    def monitor_changed(self, user_id: int, running: bool) -> None:
        """A monitor observer (actors/supervisor.py)."""
        self._hand_over(self._monitor_changed, user_id, running, self._clock.now())

    def _hand_over(self, callback: Callable[..., None], *args: Any) -> None:
        if not self._closed:
            self._loop.call_soon_threadsafe(callback, *args)

    # --- on the loop ---------------------------------------------------------------------------------

    def _apply(self, signals: Sequence[Signal]) -> None:
        if self._closed:
            return
        now = self._clock.now()
        for signal in signals:
            if isinstance(signal, Cleared):
                self._policy.clear(signal)
                continue
            verdict = self._policy.offer(signal, now)
            fields = _fields(signal)
            if verdict == "send":
                self._spawn(self._deliver(signal))
            elif verdict == "held_back":
                log.info("alert %s of user %s held back: the user's limit of %s messages a minute is reached",
                         signal.kind, signal.user_id, self._config.per_user_per_minute, extra=fields)
                self._arm_note(signal.user_id, now)
            else:
                log.debug("alert %s of user %s not sent again: its condition persists", signal.kind,
                          signal.user_id, extra=fields)

    def _monitor_changed(self, user_id: int, running: bool, at: datetime) -> None:
        waiting = self._stops.pop(user_id, None)
        if waiting is not None:
            waiting.cancel()
        if running:
            if waiting is not None:
                log.debug("monitor of user %s started again: its stop is not alerted", user_id,
                          extra={"user_id": user_id, "step": "alert"})
            self._apply(monitor_started_signals(user_id))
        elif not self._closed:
            self._stops[user_id] = self._loop.call_later(self._config.monitor_stopped_after_s,
                                                         self._monitor_stayed_stopped, user_id, at)

    def _monitor_stayed_stopped(self, user_id: int, at: datetime) -> None:
        del self._stops[user_id]
        self._apply((monitor_stopped_alert(user_id, at),))

    def _arm_note(self, user_id: int, now: datetime) -> None:
        if user_id not in self._notes:
            delay = (self._policy.room_at(user_id, now) - now).total_seconds()
            self._notes[user_id] = self._loop.call_later(max(delay, 0.0), self._send_note, user_id)

    def _send_note(self, user_id: int) -> None:
        del self._notes[user_id]
        now = self._clock.now()
        held = self._policy.take_held_back(user_id, now)
        if held is not None:
            self._spawn(self._deliver(held.alert(now, self._config.per_user_per_minute)))
        elif self._policy.holds_back(user_id):
            self._arm_note(user_id, now)

    def _spawn(self, delivery: Coroutine[Any, Any, None]) -> None:
        task = self._loop.create_task(delivery)
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, alert: Alert) -> None:
        outcomes = await asyncio.gather(*(channel.send(self._http, alert, self._config.timeout_s)
                                          for channel in self._channels), return_exceptions=True)
        delivered = []
        for channel, outcome in zip(self._channels, outcomes, strict=True):
            if outcome is None:
                delivered.append(channel.name)
                continue
            why = outcome.message if isinstance(outcome, DeliveryFailed) else type(outcome).__name__
            log.warning("alert %s of user %s not delivered to %s: %s", alert.kind, alert.user_id, channel.target,
                        why, extra=_fields(alert))
        if delivered:
            log.info("alert %s of user %s sent to %s", alert.kind, alert.user_id, ", ".join(delivered),
                     extra=_fields(alert))

    async def close(self, timeout_s: float = 5.0) -> None:
        """Take nothing more, drop the alerts still waiting (notes, monitor stops) and give the deliveries
        under way up to `timeout_s` to end; cancel those that do not."""
        self._closed = True
        for handle in (*self._notes.values(), *self._stops.values()):
            handle.cancel()
        self._notes.clear()
        self._stops.clear()
        if self._deliveries:
            await asyncio.wait(set(self._deliveries), timeout=timeout_s)
        for task in set(self._deliveries):
            task.cancel()


def _fields(alert: Alert) -> dict[str, Any]:
    fields: dict[str, Any] = {"user_id": alert.user_id, "step": "alert"}
    if alert.account_id is not None:
        fields["account_id"] = alert.account_id
    return fields
