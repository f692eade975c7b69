"""The PnlCalculator worker: answers ComputePnl. A thin shell; the work is its handler."""

from __future__ import annotations

from actors.io_loop import IoLoop
from actors.worker import StepHandler, Worker
from domain.ports.clock import Clock
from messages.commands import ComputePnl


class PnlCalculator(Worker):
    def __init__(self, io: IoLoop, clock: Clock, *, compute_pnl: StepHandler) -> None:
        super().__init__(io, clock, {ComputePnl: compute_pnl})
