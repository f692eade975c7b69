"""The tick jobs on a real APScheduler 3.x scheduler: one per user, never overlapping, jittered start."""

import random
from datetime import timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from actors.monitor_registry import MonitorRegistry
from messages.control import Tick
from service.scheduler import TickScheduler, job_id
from tests.doubles import ListRef, ManualClock
from tests.harness import WEDNESDAY_NOON_IST


@pytest.fixture
def scheduler():
    sched = BackgroundScheduler(timezone="UTC")
    sched.start(paused=True)
    yield sched
    sched.shutdown(wait=True)


def test_each_user_gets_one_non_overlapping_coalescing_interval_job(scheduler):
    clock = ManualClock(WEDNESDAY_NOON_IST)
    ticks = TickScheduler(scheduler, MonitorRegistry(), clock, interval_s=60, rng=random.Random(1))
    ticks.add_user(1)
    ticks.add_user(1)
    ticks.add_user(2)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {job_id(1), job_id(2)}
    for job in jobs.values():
        assert job.max_instances == 1 and job.coalesce is True
        assert job.trigger.interval == timedelta(seconds=60)


def test_first_runs_are_spread_across_the_interval(scheduler):
    clock = ManualClock(WEDNESDAY_NOON_IST)
    ticks = TickScheduler(scheduler, MonitorRegistry(), clock, interval_s=60, rng=random.Random(7))
    for user_id in range(50):
        ticks.add_user(user_id)
    offsets = sorted((job.trigger.start_date - WEDNESDAY_NOON_IST).total_seconds() for job in scheduler.get_jobs())
    assert offsets[0] >= 0 and offsets[-1] < 60
    assert offsets[-1] - offsets[0] > 30, "50 users should not start within the same half interval"
    assert len({round(o) for o in offsets}) > 25


def test_removing_a_user_removes_its_job_and_is_idempotent(scheduler):
    ticks = TickScheduler(scheduler, MonitorRegistry(), ManualClock(WEDNESDAY_NOON_IST), interval_s=60)
    ticks.add_user(5)
    ticks.remove_user(5)
    ticks.remove_user(5)
    assert scheduler.get_jobs() == []


def test_a_running_job_tells_the_users_monitor_a_tick():
    registry = MonitorRegistry()
    monitor = ListRef()
    registry.put(3, monitor)
    sched = BackgroundScheduler(timezone="UTC")
    ticks = TickScheduler(sched, registry, ManualClock(WEDNESDAY_NOON_IST), interval_s=60)
    ticks.add_user(3)
    ticks.add_user(4)  # no monitor registered: the tick is dropped, nothing raises
    for job in sched.get_jobs():
        job.func(*job.args)
    assert monitor.told == [Tick()]


def test_a_replicas_job_tells_a_tick_only_while_the_users_lease_is_held_here():
    registry = MonitorRegistry()
    held, lapsed = ListRef(), ListRef()
    registry.put(1, held)
    registry.put(2, lapsed)
    sched = BackgroundScheduler(timezone="UTC")
    ticks = TickScheduler(sched, registry, ManualClock(WEDNESDAY_NOON_IST), interval_s=60,
                          lease_held=lambda user_id: user_id == 1)
    ticks.add_user(1)
    ticks.add_user(2)
    for job in sched.get_jobs():
        job.func(*job.args)
    assert (held.told, lapsed.told) == ([Tick()], [])
