"""The `SendGuard` port: whether a request that changes a user's orders at the broker (place, modify, cancel)
may go out now. The broker adapters ask it right before each such request; the service answers from the
user's lease (service/send_guard.py). It does no I/O."""

from __future__ import annotations

from typing import Protocol


class SendGuard(Protocol):
    def holds(self, user_id: int) -> bool:
        """Whether this replica counts the user's lease as its own now: a cycle of the user may begin."""
        ...

    def check(self, user_id: int, request: str) -> None:
        """Return when the request may go out now; else raise `SendWithheld` saying why, `request` (e.g.
        "place M1S1 for R1") naming it in the message."""
