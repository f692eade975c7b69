"""The statuses of an order's legs and of a trade, as enums the rules compare.

Each broker adapter maps its own spellings to `OrderStatus` at its edge and refuses one it does not know. The
values are the strings the database, the events, the frames and the dashboard hold (a `StrEnum` encodes as its
value and equals its string), so naming a member changes nothing that is stored or sent.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    """An order's status: what a broker's order book says of it (in XTS's spellings), or, for a leg of a trade,
    one of the service's own states while its request has no answer, which no broker reports. One enum, since a
    leg's status column holds either and moves from one to the other as the request is answered."""

    PENDING_NEW = "PendingNew"
    NEW = "New"
    TRIGGER_PENDING = "Trigger Pending"
    PARTIALLY_FILLED = "PartiallyFilled"
    PENDING_REPLACE = "PendingReplace"
    REPLACED = "Replaced"
    PENDING_CANCEL = "PendingCancel"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    REJECTED = "Rejected"
    EXPIRED = "Expired"
    """A DAY order that ended unfilled (FIX's name, which XTS's statuses follow)."""
    PENDING_SUBMIT = "PendingSubmit"
    """The service's own: the tag is written, the request is going out."""
    UNCONFIRMED = "Unconfirmed"
    """The service's own: the request may have reached the broker; only a later order book settles it."""
    NOT_SENT = "NotSent"
    """The service's own: the request surely did not reach the broker; it is sent again under the same tag."""


SERVICE_STATUSES = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.UNCONFIRMED, OrderStatus.NOT_SENT})
"""The states only the service gives a leg: never in a broker's order book."""

OPEN_STATUSES = frozenset({
    OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.TRIGGER_PENDING, OrderStatus.PENDING_NEW,
    OrderStatus.PENDING_REPLACE, OrderStatus.REPLACED, OrderStatus.PENDING_CANCEL,
})
"""A broker's order that can still fill. The pending states are open: a cancel or a change the broker has not
yet carried out (`PendingCancel`, `PendingReplace`) leaves the order at the exchange, filling, until it is."""

IN_FLIGHT_STATUSES = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.UNCONFIRMED})
"""A leg's request that may exist at the broker without the service knowing it: settled by a later order book,
never by sending blindly."""


class TradeStatus(StrEnum):
    """A trade's lifecycle (`orders.status`): PENDING → ENTRY_OPEN → RUNNING → CLOSED, or REJECTED / CANCELLED."""

    PENDING = "PENDING"
    ENTRY_OPEN = "ENTRY_OPEN"
    RUNNING = "RUNNING"
    CLOSED = "CLOSED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
