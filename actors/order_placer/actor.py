"""The OrderPlacer worker: answers the commands that send orders to brokers. A thin shell."""

from __future__ import annotations

from actors.io_loop import IoLoop
from actors.worker import StepHandler, Worker
from domain.ports.clock import Clock
from messages.commands import ModifyEntries, ModifyStopLosses, PlaceProtectiveOrders, PlaceRegenerated


class OrderPlacer(Worker):
    def __init__(
        self,
        io: IoLoop,
        clock: Clock,
        *,
        place_protective_orders: StepHandler,
        modify_entries: StepHandler,
        modify_stop_losses: StepHandler,
        place_regenerated: StepHandler,
    ) -> None:
        super().__init__(io, clock, {
            PlaceProtectiveOrders: place_protective_orders,
            ModifyEntries: modify_entries,
            ModifyStopLosses: modify_stop_losses,
            PlaceRegenerated: place_regenerated,
        })
