"""Cycles told through the scripted harness, shared by the replay tests: given these, the log they leave."""

from __future__ import annotations

from adapters.store.port import LoggedEvent
from domain.errors import ErrorKind
from messages.commands import FetchSnapshots, PlaceProtectiveOrders
from messages.common import Step
from tests.harness import SILENT, ScriptedMonitor


def finish(scripted: ScriptedMonitor) -> None:
    """Answer every remaining command ok until the cycle ends."""
    while scripted.state.running:
        scripted.clock.advance(0.05)
        scripted.ok()


def normal_cycle() -> ScriptedMonitor:
    scripted = ScriptedMonitor()
    scripted.run_cycle(accounts=(1, 2), regeneration_strategies=("momentum",))
    return scripted


def cycle_with_failures() -> ScriptedMonitor:
    """Account 2's session expired at fetch; account 1's stop-loss placement was rejected."""
    scripted = ScriptedMonitor()
    scripted.run_cycle(accounts=(1, 2), failures={Step.FETCH: {2: ErrorKind.SESSION_EXPIRED},
                                                  Step.PROTECT: {1: ErrorKind.REJECTED}})
    return scripted


def cycle_with_timeout() -> ScriptedMonitor:
    """Account 2 never answers the fetch: its deadline passes."""
    scripted = ScriptedMonitor()
    scripted.run_cycle(accounts=(1, 2), failures={Step.FETCH: {2: SILENT}})
    return scripted


def cycle_with_late_replies() -> ScriptedMonitor:
    """Account 2's fetch answers after its deadline; the protective step answers after the cycle ended;
    a tick arrives while the cycle runs."""
    scripted = ScriptedMonitor()
    scripted.tick()
    scripted.ok(accounts=(1, 2))
    fetch = scripted.pending
    assert isinstance(fetch, FetchSnapshots)
    scripted.ok(accounts=(1,))
    scripted.advance(scripted.config.timeout_for(Step.FETCH))
    scripted.ok(accounts=(2,), command=fetch)
    scripted.tick()
    scripted.ok()  # pnl
    scripted.ok()  # sync
    protect = scripted.pending
    assert isinstance(protect, PlaceProtectiveOrders)
    scripted.advance(scripted.config.timeout_for(Step.PROTECT))
    finish(scripted)
    scripted.clock.advance(3)
    scripted.ok(command=protect)
    return scripted


def logged(scripted: ScriptedMonitor) -> list[LoggedEvent]:
    return list(scripted.log.logged)
