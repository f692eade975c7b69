"""The BrokerFetcher room's actor: runs the fetch step's handler. The work is the handler (step.py)."""

from __future__ import annotations

from actors.worker import Worker
from messages.commands import FetchSnapshots


class BrokerFetcher(Worker):
    ANSWERS = (FetchSnapshots,)
