"""The `Broker` port: what the cycle may ask of any broker, with typed results and typed failures.

One adapter instance serves every account of its broker (the registry sends it their calls); each call
names the account (where and as whom). Results are the broker-neutral structs of `types.py`; failures are
the `errors.py` family. The port holds no state and does no I/O itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from domain.broker import BrokerAccount, BrokerOrder, BrokerPosition, BrokerTrade, ModifyRequest, OrderRequest, PlaceAck
from domain.broker_errors import BrokerError

PositionView = Literal["NetWise", "DayWise"]


class Broker(Protocol):
    async def login(self, account: BrokerAccount) -> str:
        """Open a session with the account's app key and secret key; return the new token. A broker whose
        session starts only with a login by hand (Kite) raises `SessionExpired`, sending nothing."""

    def login_url(self, account: BrokerAccount) -> str:
        """Where the account's owner logs in by hand to start a session (Kite's daily login); "" for a broker
        whose `login` needs no one (XTS)."""

    async def open_session(self, account: BrokerAccount, request_token: str) -> str:
        """The session token for the request token a login by hand gave; `BrokerRejected` from a broker that
        has no such login."""

    async def order_book(self, account: BrokerAccount) -> list[BrokerOrder]:
        """Every order of the account's day, in the broker's order; no orders is an empty list."""

    async def trade_book(self, account: BrokerAccount) -> list[BrokerTrade]:
        """Every fill of the account's day; no fills is an empty list."""

    async def positions(self, account: BrokerAccount, view: PositionView = "NetWise") -> list[BrokerPosition]:
        """The account's positions, net (`NetWise`) or of the day only (`DayWise`)."""

    async def place(self, account: BrokerAccount, request: OrderRequest) -> PlaceAck:
        """Send one new order. An ambiguous failure (`error.ambiguous`) means it may exist at the broker."""

    async def place_batch(
        self, account: BrokerAccount, requests: Sequence[OrderRequest]
    ) -> list[PlaceAck | BrokerError]:
        """Send the orders concurrently within the pace; one result per request, in request order."""

    async def modify(self, account: BrokerAccount, request: ModifyRequest) -> PlaceAck:
        """Change a live order; it keeps its AppOrderID."""

    async def cancel(self, account: BrokerAccount, app_order_id: int, tag: str = "") -> PlaceAck:
        """Cancel a live order."""
