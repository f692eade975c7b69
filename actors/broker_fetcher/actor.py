"""The BrokerFetcher worker: answers FetchSnapshots. A thin shell; the work is its handler."""

from __future__ import annotations

from actors.io_loop import IoLoop
from actors.worker import StepHandler, Worker
from domain.ports.clock import Clock
from messages.commands import FetchSnapshots


class BrokerFetcher(Worker):
    def __init__(self, io: IoLoop, clock: Clock, *, fetch_snapshots: StepHandler) -> None:
        super().__init__(io, clock, {FetchSnapshots: fetch_snapshots})
