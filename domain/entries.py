"""A new entry order to place and what became of it: what the OrderPlacer's placement, the batch API and
the messages between them share."""

from __future__ import annotations

from typing import Literal

import msgspec

from domain.records import TradePlan

EntryOutcome = Literal["placed", "rejected", "in_flight", "not_placed"]


class NewEntry(TradePlan, frozen=True, kw_only=True):
    """An entry order to place, with the prices of its future stop-loss and take-profit."""

    product_type: str = "NRML"
    regenerated_from: int | None = None
    regeneration_attempt: int = 0


class EntryResult(msgspec.Struct, frozen=True, kw_only=True):
    order_id: int | None
    """None when no row was written."""
    tag: str
    outcome: EntryOutcome
    broker_order_id: int | None = None
    reason: str = ""
