"""Ticks: one APScheduler interval job per monitored user, telling that user's UserMonitor a `Tick`.

Jobs run with max_instances=1 and coalesce=True, and each user's first run is jittered across the
interval so that 10,000 users do not all call their brokers in the same second. A job does nothing but
tell; whether a cycle runs is the monitor's decision. A replica's job tells nothing once the user's lease has run
out here: a process resumed after a freeze past its lease may find its overdue tick before the lease keeper
lets the user go, and must not begin a cycle of a user another replica may hold by now.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Callable
from datetime import timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from actors.monitor_registry import MonitorRegistry
from domain.ports.clock import Clock
from messages.control import Tick

log = logging.getLogger(__name__)


def job_id(user_id: int) -> str:
    return f"tick-user-{user_id}"


class TickScheduler:
    """Adds and removes the per-user tick jobs on an APScheduler 3.x scheduler."""

    def __init__(
        self,
        scheduler: BaseScheduler,
        registry: MonitorRegistry,
        clock: Clock,
        interval_s: float,
        rng: random.Random | None = None,
        lease_held: Callable[[int], bool] | None = None,
    ) -> None:
        self._scheduler = scheduler
        self._lease_held = lease_held
        self._registry = registry
        self._clock = clock
        self._interval_s = interval_s
        self._rng = rng or random.Random()

    def add_user(self, user_id: int) -> None:
        first_run = self._clock.now() + timedelta(seconds=self._rng.uniform(0, self._interval_s))
        self._scheduler.add_job(
            self._tick,
            trigger=IntervalTrigger(seconds=self._interval_s, start_date=first_run),
            args=(user_id,),
            id=job_id(user_id),
            name=f"monitoring cycle of user {user_id}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(self._interval_s)),
            replace_existing=True,
        )

    def remove_user(self, user_id: int) -> None:
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(job_id(user_id))

    def _tick(self, user_id: int) -> None:
        if self._lease_held is not None and not self._lease_held(user_id):
            log.info("tick for user %s not told: this replica's lease of the user has run out (the lease keeper "
                     "lets the user go)", user_id, extra={"user_id": user_id})
            return
        if not self._registry.tell(user_id, Tick()):
            log.debug("tick for user %s found no running monitor", user_id, extra={"user_id": user_id})
