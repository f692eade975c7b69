"""The PnlCalculator room's actor: runs the PnL step's handler. The work is the handler (step.py)."""

from __future__ import annotations

from actors.worker import Worker
from messages.commands import ComputePnl


class PnlCalculator(Worker):
    ANSWERS = (ComputePnl,)
