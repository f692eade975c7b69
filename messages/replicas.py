"""What replicas say to each other over the fan-out (README, *Replicas*): the orders a replica forwards, for a
client of its own, to the replica that holds the client's user's lease, and that replica's answers; and the
marker a holder publishes among a user's frames when they should be read again from the database. No logic.

The user of an order is the one the forwarding replica authenticated the client as; no client ever writes
one of these.
"""

from __future__ import annotations

import msgspec


class _Order(msgspec.Struct, frozen=True, kw_only=True, tag_field="order"):
    user_id: int


class GreetingWanted(_Order, tag="greeting"):
    """A client of the user connected to the forwarding replica: the holder's state for its `hello`."""


class CycleWanted(_Order, tag="run_cycle"):
    """The client's `run_cycle`."""


class SwitchWanted(_Order, tag="kill_switch"):
    """The client's `pause` (with `reason`) or `resume`, by WebSocket or HTTP."""

    paused: bool
    reason: str = ""


class BatchWanted(_Order, tag="batch"):
    """`POST /api/algo-place-batch-orders` as the client sent it: its `Idempotency-Key` and its body (already
    checked to be `{"orders": [...]}` of 1 to 200 entries, so valid JSON)."""

    body: msgspec.Raw
    idempotency_key: str | None = None


ReplicaOrder = GreetingWanted | CycleWanted | SwitchWanted | BatchWanted


class _Answer(msgspec.Struct, frozen=True, kw_only=True, tag_field="answer"):
    pass


class NotHolder(_Answer, tag="not_holder"):
    """The replica asked does not hold the user's lease (any more): it did nothing."""


class OrderFailed(_Answer, tag="failed"):
    """The holder could not carry the order out (its database failed): nothing was done; `message` says why."""

    message: str


class HolderState(_Answer, tag="state"):
    """The holder monitors the user; the kill switch and interval its own `hello` would say."""

    paused: bool
    interval_s: float
    pause_reason: str = ""


class CycleAnswer(_Answer, tag="run_cycle"):
    """`started`: the holder started a cycle (its frames follow); else `message` says why not."""

    started: bool
    message: str = ""


class SwitchAnswer(_Answer, tag="kill_switch"):
    """`applied`: stored by the holder (with `reason` as stored) and told to every client; else `message`."""

    applied: bool
    reason: str = ""
    message: str = ""


class HttpAnswer(_Answer, tag="http"):
    """The holder's answer to a forwarded HTTP request, to be sent back as it is."""

    status: int
    body: msgspec.Raw
    headers: dict[str, str] = {}


ReplicaAnswer = NotHolder | OrderFailed | HolderState | CycleAnswer | SwitchAnswer | HttpAnswer


class Resync(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="resync"):
    """Published among a user's frames instead of frames that did not travel (one larger than the bus carries,
    or those sent while the holder was cut off from the bus): each replica sends its clients of the user the
    current state, read from the database, with `message` saying why."""

    message: str
