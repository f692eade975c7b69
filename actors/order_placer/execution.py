"""Carrying out the rules' actions for one account, intent first, and recording what happened.

A new leg's tag is written `PendingSubmit` before it is sent; the answer sets `New`, `Rejected`, `NotSent`
(failed before the broker processed it) or `Unconfirmed` (ambiguous: only the next order book settles it).
Credentials are read once, when the first action needs them, before any intent is written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from actors.order_placer.port import PlacerStore
from actors.order_placer.rules import (
    Action,
    CancelLeg,
    EntryNotSeen,
    ModifyLeg,
    PlaceLeg,
    PositionMismatch,
    Unprotected,
)
from domain.broker import BrokerAccount
from domain.broker_errors import BrokerError, BrokerRejected
from domain.errors import AdapterError, DatabaseError, ErrorKind
from domain.ports.broker import Broker
from domain.records import OrderRow, leg_fields
from domain.status import OrderStatus
from messages.events import OrderAction


class AccountExecutor:
    """Runs actions of one account in order, tracking each order's version across its own writes."""

    def __init__(self, store: PlacerStore, broker: Broker, account_id: int, user_id: int,
                 now: Callable[[], datetime]) -> None:
        self._now = now
        self._store = store
        self._broker = broker
        self._account_id = account_id
        self._account: BrokerAccount | None = None
        self._user_id = user_id
        self._versions: dict[int, int] = {}
        self.actions: list[OrderAction] = []
        self.problems: list[tuple[ErrorKind, str]] = []

    async def run(self, order: OrderRow, action: Action, on_success: Mapping[str, Any] | None = None) -> bool:
        """Carry out `action`; `on_success` are order fields to write once the broker accepted it."""
        match action:
            case PlaceLeg():
                return await self._place(order, action)
            case ModifyLeg():
                account = await self.account()
                return await self._send(order, action, self._broker.modify(account, action.request),
                                        "modify", on_success)
            case CancelLeg():
                account = await self.account()
                return await self._send(order, action,
                                        self._broker.cancel(account, action.app_order_id, action.tag),
                                        "cancel", on_success)
            case Unprotected():
                self.problems.append((ErrorKind.REJECTED, f"order {action.order_id}: {action.reason}"))
            case PositionMismatch():
                self.problems.append((ErrorKind.PROTOCOL, f"order {action.order_id}: {action.reason}"))
            case EntryNotSeen():
                self.problems.append((ErrorKind.UNAVAILABLE, f"order {action.order_id}: {action.reason}"))
        return False

    async def account(self) -> BrokerAccount:
        """The account's credentials, read on first use; DatabaseError if it is no longer the user's."""
        if self._account is None:
            accounts = await self._store.broker_accounts(self._user_id, (self._account_id,))
            if not accounts:
                raise DatabaseError("the account is no longer active for this user")
            self._account = accounts[0]
        return self._account

    async def update(self, order: OrderRow, changes: Mapping[str, Any]) -> None:
        """Write leg changes with the time they were made (what the protect step compares order books with)."""
        version = self._versions.get(order.id, order.version)
        new_versions = await self._store.apply_order_updates(
            self._user_id, order.account_id, [(order.id, version, {**changes, "legs_changed_at": self._now()})])
        self._versions[order.id] = new_versions[order.id]

    async def _place(self, order: OrderRow, action: PlaceLeg) -> bool:
        leg, request = action.leg, action.request
        account = await self.account()
        intent = leg_fields(leg, tag=request.tag, orderstatus=OrderStatus.PENDING_SUBMIT, qty=request.quantity)
        if not action.resend:
            intent |= leg_fields(leg, rejections=action.rejections)
        await self.update(order, intent)
        try:
            ack = await self._broker.place(account, request)
        except BrokerError as error:
            ambiguous, rejected = error.ambiguous, isinstance(error, BrokerRejected)
            status = (OrderStatus.UNCONFIRMED if ambiguous
                      else OrderStatus.REJECTED if rejected else OrderStatus.NOT_SENT)
            reason = error.reason if rejected else error.message
            try:
                await self.update(order, leg_fields(leg, orderstatus=status))
            except AdapterError as unwritten:  # the step fails on it, saying what became of the request too
                became = f"sent, its answer unknown ({reason})" if ambiguous else f"not placed ({reason})"
                raise type(unwritten)(f"order {order.id}: {leg.upper()} {became}, and its status not written: "
                                      f"{unwritten.message}") from unwritten
            self._record(action, "in_flight" if ambiguous else "rejected", detail=error.message)
            if not ambiguous:
                self.problems.append((error.kind, f"order {order.id}: {leg.upper()} not placed: {reason}"))
            return False
        await self.update(order, leg_fields(leg, order_id=ack.app_order_id, orderstatus=OrderStatus.NEW))
        self._record(action, "place", broker_order_id=ack.app_order_id)
        return True

    async def _send(self, order: OrderRow, action: ModifyLeg | CancelLeg, call: Awaitable[Any], verb: str,
                    on_success: Mapping[str, Any] | None) -> bool:
        try:
            await call
        except AdapterError as error:
            self.problems.append((error.kind, f"order {order.id}: {verb} of the {action.leg} leg failed: "
                                              f"{error.message}"))
            self._record(action, "in_flight" if getattr(error, "ambiguous", False) else "rejected",
                         detail=error.message)
            return False
        if on_success:
            await self.update(order, on_success)
        self._record(action, verb)
        return True

    def _record(self, action: PlaceLeg | ModifyLeg | CancelLeg, what: str, broker_order_id: int | None = None,
                detail: str = "") -> None:
        if isinstance(action, CancelLeg):
            tag, quantity, price, broker_id = action.tag, None, None, action.app_order_id
            detail = detail or action.reason
        else:
            request = action.request
            tag, quantity, price = request.tag, request.quantity, request.limit_price
            broker_id = broker_order_id if isinstance(action, PlaceLeg) else request.app_order_id
            detail = detail or getattr(action, "reason", "")
        self.actions.append(OrderAction(order_id=action.order_id, account_id=action.account_id, leg=action.leg,
                                        action=what, tag=tag, broker_order_id=broker_id, quantity=quantity,
                                        price=price, detail=detail))
