"""The OrderPlacer room's actor: runs the handlers of the steps that send orders to brokers (steps.py), and of
the batch API's new entries (batch_step.py)."""

from __future__ import annotations

from actors.worker import Worker
from messages.commands import ModifyEntries, ModifyStopLosses, PlaceEntries, PlaceProtectiveOrders, PlaceRegenerated


class OrderPlacer(Worker):
    ANSWERS = (PlaceProtectiveOrders, ModifyEntries, ModifyStopLosses, PlaceRegenerated, PlaceEntries)
