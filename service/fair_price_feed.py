"""The fair-price feed: keeps `mainapp_fairprice` current from the broker's market data for every instrument a
monitored user holds.

Owns three loops on the I/O loop: the market-data stream (`XtsMarketData.run`: connect, subscribe, poll by REST
while it is down), the watch list (every `refresh_s`: the instruments of the open orders and non-flat positions
of the users this process monitors, deduplicated across users, subscribed and unsubscribed as the set changes),
and the writes (every `flush_interval_s`: the latest quote of each instrument that moved, priced by its model,
written in one batch with the quote's exchange time as `updated_at`, never overwriting a desk's price). A quote
the model cannot price (an empty side, a crossed book) writes nothing: the instrument's last prices stay, and
their age tells they are stale. Measures each write's lag from the quote's arrival and the stream's reconnects.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime

from adapters.broker.xts_md import Instrument, XtsMarketData
from adapters.store.port import Store
from domain.errors import AdapterError
from domain.quotes import FairModels, Quote, fair_prices
from domain.records import FairPrice

log = logging.getLogger(__name__)

LagObserver = Callable[[float], None]
"""Told each written price's seconds from its quote's arrival to its row's commit."""


class FairPriceFeed:
    def __init__(self, store: Store, market_data: Callable[[Callable[[Quote], None]], XtsMarketData], *,
                 models: FairModels, users: Callable[[], Iterable[int]], brokers: Sequence[str],
                 now: Callable[[], datetime], flush_interval_s: float = 0.2, refresh_s: float = 5.0,
                 observe_lag: LagObserver | None = None) -> None:
        """`market_data(on_quote)` builds the client that sends its quotes to `on_quote`; `users()` are the
        users this process monitors now; `brokers` those whose accounts' instrument ids are the source's."""
        self._store = store
        self.market_data = market_data(self.on_quote)
        self._models = models
        self._users = users
        self._brokers = tuple(brokers)
        self._now = now
        self._flush_interval_s = flush_interval_s
        self._refresh_s = refresh_s
        self._observe_lag = observe_lag
        self._symbols: dict[Instrument, str] = {}
        self._pending: dict[Instrument, tuple[Quote, float]] = {}
        self.written = 0

    @property
    def instruments(self) -> int:
        return len(self._symbols)

    def on_quote(self, quote: Quote) -> None:
        """Keep the instrument's latest quote until the next write (a later one replaces it)."""
        self._pending[(quote.exchange_segment, quote.instrument_id)] = (quote, time.monotonic())

    async def run(self) -> None:
        await asyncio.gather(self.market_data.run(), self._every(self._refresh_s, self.refresh),
                             self._every(self._flush_interval_s, self.flush))

    async def refresh(self) -> None:
        """Watch exactly the instruments the monitored users hold now."""
        users = sorted(self._users())
        watched = await self._store.watched_instruments(users, self._brokers) if users else []
        self._symbols = {(i.exchange_segment, i.instrument_id): i.symbol for i in watched}
        await self.market_data.watch(self._symbols)

    async def flush(self) -> None:
        """Price and write the latest quote of every watched instrument that moved since the last write."""
        pending, self._pending = self._pending, {}
        prices: dict[str, FairPrice] = {}
        arrivals: list[float] = []
        now = self._now()
        for key, (quote, arrived) in pending.items():
            symbol = self._symbols.get(key)
            if symbol is None:
                continue
            priced = fair_prices(quote, self._models.of(symbol, quote.exchange_segment))
            if priced is None:
                continue
            buy, sell = priced
            prices[symbol] = FairPrice(symbol=symbol, buy_fair_price=buy, sell_fair_price=sell, source="feed",
                                       updated_at=min(quote.at, now))
            arrivals.append(arrived)
        if not prices:
            return
        try:
            await self._store.upsert_feed_prices(list(prices.values()))
        except BaseException:
            self._pending = {**pending, **self._pending}  # retried whole with the next write, newer quotes first
            raise
        self.written += len(prices)
        if self._observe_lag is not None:
            written = time.monotonic()
            for arrived in arrivals:
                self._observe_lag(written - arrived)

    async def _every(self, interval_s: float, work: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await work()
            except AdapterError as error:
                log.warning("fair-price feed: %s", error.message)
            await asyncio.sleep(interval_s)
