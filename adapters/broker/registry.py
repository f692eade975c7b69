"""The broker registry: `ADAPTERS` says which adapter serves each `accounts.broker` name, and how to build it;
`BrokerRegistry` is the `Broker` port over them all, sending each call to the adapter of the account's
broker. The names the service accepts (the CLI's `--broker` choices) are this table's keys. It does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import aiohttp

from adapters.broker.kite import KiteBroker, KitePacing
from adapters.broker.xts import XtsBroker, XtsPacing
from domain.broker import BrokerAccount, BrokerOrder, BrokerPosition, BrokerTrade, ModifyRequest, OrderRequest, PlaceAck
from domain.broker_errors import BrokerError, UnknownBroker
from domain.ports.broker import Broker, PositionView
from domain.ports.send_guard import SendGuard


@dataclass(frozen=True, kw_only=True)
class AdapterSettings:
    """What every adapter is built from: the service's one HTTP session and its `[broker]` settings."""

    http: aiohttp.ClientSession
    call_timeout_s: float
    pacing: bool
    """Pace calls to each broker's documented limits; off, nothing is paced (tests, benchmarks)."""
    read_cache_accounts: int
    observe: Callable[[str, str, float], None] | None = None
    """Told every broker call's endpoint, outcome and seconds (metrics)."""
    send_guard: SendGuard | None = None
    """Asked right before every request that changes orders (place, modify, cancel); None: none is asked."""


AdapterBuilder = Callable[[AdapterSettings], Broker]


def _xts(settings: AdapterSettings) -> XtsBroker:
    return XtsBroker(settings.http, timeout_s=settings.call_timeout_s,
                     pacing=XtsPacing() if settings.pacing else XtsPacing(reads=None, orders=None),
                     observe=settings.observe, read_cache_accounts=settings.read_cache_accounts,
                     send_guard=settings.send_guard)


def _kite(settings: AdapterSettings) -> KiteBroker:
    return KiteBroker(settings.http, timeout_s=settings.call_timeout_s,
                      pacing=KitePacing() if settings.pacing else KitePacing(reads=None, orders=None),
                      observe=settings.observe, send_guard=settings.send_guard)


ADAPTERS: Mapping[str, AdapterBuilder] = {
    "xts": _xts,
    "paper": _xts,  # the paper broker speaks XTS's wire format
    "kite": _kite,
}
"""Each broker name an account may have, and the builder of its adapter. Names with the same builder share
one adapter instance: `xts` and `paper` one `XtsBroker`, as before the registry, so one bound of kept read
answers over all accounts and one set of pacers, whose keys (base URL, client id) keep each session apart."""

BROKER_NAMES: tuple[str, ...] = tuple(ADAPTERS)


class BrokerRegistry:
    """The `Broker` port for every account: each call goes to the adapter registered for `account.broker`;
    a name with none fails the call with `UnknownBroker`, that account's failure alone."""

    def __init__(self, adapters: Mapping[str, Broker]) -> None:
        self._adapters = dict(adapters)

    @classmethod
    def build(cls, settings: AdapterSettings) -> BrokerRegistry:
        """One adapter per builder of `ADAPTERS`, shared by the names that have that builder."""
        built = {builder: builder(settings) for builder in dict.fromkeys(ADAPTERS.values())}
        return cls({name: built[builder] for name, builder in ADAPTERS.items()})

    def adapter(self, broker: str) -> Broker:
        """The adapter serving accounts of `broker`; KeyError when none does."""
        return self._adapters[broker]

    async def login(self, account: BrokerAccount) -> str:
        return await self._of(account, "login").login(account)

    def login_url(self, account: BrokerAccount) -> str:
        return self._of(account, "login").login_url(account)

    async def open_session(self, account: BrokerAccount, request_token: str) -> str:
        return await self._of(account, "session").open_session(account, request_token)

    async def order_book(self, account: BrokerAccount) -> list[BrokerOrder]:
        return await self._of(account, "order book").order_book(account)

    async def trade_book(self, account: BrokerAccount) -> list[BrokerTrade]:
        return await self._of(account, "trade book").trade_book(account)

    async def positions(self, account: BrokerAccount, view: PositionView = "NetWise") -> list[BrokerPosition]:
        return await self._of(account, f"positions ({view})").positions(account, view)

    async def place(self, account: BrokerAccount, request: OrderRequest) -> PlaceAck:
        return await self._of(account, f"place {request.tag}").place(account, request)

    async def place_batch(
        self, account: BrokerAccount, requests: Sequence[OrderRequest]
    ) -> list[PlaceAck | BrokerError]:
        adapter = self._adapters.get(account.broker)
        if adapter is None:
            return [self._unknown(account, f"place {request.tag}") for request in requests]
        return await adapter.place_batch(account, requests)

    async def modify(self, account: BrokerAccount, request: ModifyRequest) -> PlaceAck:
        return await self._of(account, f"modify {request.app_order_id}").modify(account, request)

    async def cancel(self, account: BrokerAccount, app_order_id: int, tag: str = "") -> PlaceAck:
        return await self._of(account, f"cancel {app_order_id}").cancel(account, app_order_id, tag)

    def _of(self, account: BrokerAccount, what: str) -> Broker:
        adapter = self._adapters.get(account.broker)
        if adapter is None:
            raise self._unknown(account, what)
        return adapter

    def _unknown(self, account: BrokerAccount, what: str) -> UnknownBroker:
        return UnknownBroker(f"{what} for {account.client_id}: no adapter for broker {account.broker!r} in this "
                             f"service (it has {', '.join(self._adapters)}); nothing was sent", broker=account.broker)
