"""The fair-price feed: keeps `mainapp_fairprice` current from the broker's market data for every instrument a
monitored user holds.

Owns three loops on the I/O loop: the market-data stream (`XtsMarketData.run`: connect, subscribe, poll by REST
while it is down), the watch list (every `refresh_s`: the instruments of the open orders and non-flat positions
of the users this process monitors, deduplicated across users, subscribed and unsubscribed as the set changes),
and the writes (every `flush_interval_s`: the latest quote of each instrument that moved, priced by its model,
written in one batch, never overwriting a desk's price). `updated_at` is when the feed last knew the quote for
the market's: its arrival, or, for an instrument whose book has not moved, each refresh while the stream is up
(the stream sends only changes); not the exchange's last update time, which stands still on a quiet book. A
quote the model cannot price (an empty side, a crossed book) writes nothing: the instrument's last prices stay,
and their age tells they are stale. Each loop outlives its failures, logged. Measures each write's lag from
the quote's arrival and the stream's reconnects.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

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
        self._pending: dict[Instrument, _Arrival] = {}
        self._latest: dict[Instrument, Quote] = {}
        self.written = 0

    @property
    def instruments(self) -> int:
        return len(self._symbols)

    def on_quote(self, quote: Quote) -> None:
        """Keep the instrument's latest quote until the next write (a later one replaces it)."""
        key = (quote.exchange_segment, quote.instrument_id)
        self._latest[key] = quote
        self._pending[key] = _Arrival(quote, self._now(), time.monotonic())

    async def run(self) -> None:
        await asyncio.gather(self.market_data.run(), self._every(self._refresh_s, self.refresh),
                             self._every(self._flush_interval_s, self.flush))

    async def refresh(self) -> None:
        """Watch exactly the instruments the monitored users hold now; while the stream is up, confirm the last
        quote of each that has not moved (the stream sends only changes, so it is still the market's)."""
        users = sorted(self._users())
        watched = await self._store.watched_instruments(users, self._brokers) if users else []
        symbols: dict[Instrument, str] = {}
        priced_by: dict[str, Instrument] = {}
        for instrument in watched:
            key = (instrument.exchange_segment, instrument.instrument_id)
            if instrument.symbol in priced_by:
                log.warning("fair-price feed: %s is %s %d and %s %d; priced from the first", instrument.symbol,
                            *priced_by[instrument.symbol], *key, extra={"step": "fair_price_feed"})
                continue
            priced_by[instrument.symbol] = key
            symbols[key] = instrument.symbol
        self._symbols = symbols
        self._latest = {key: quote for key, quote in self._latest.items() if key in symbols}
        await self.market_data.watch(symbols)
        if self.market_data.connected:
            now = self._now()
            for key, quote in self._latest.items():
                self._pending.setdefault(key, _Arrival(quote, now, None))

    async def flush(self) -> None:
        """Price and write the latest quote of every watched instrument that moved since the last write."""
        pending, self._pending = self._pending, {}
        prices: dict[str, FairPrice] = {}
        arrivals: list[float] = []
        now = self._now()
        for key, arrival in pending.items():
            symbol = self._symbols.get(key)
            if symbol is None:
                continue
            quote = arrival.quote
            priced = fair_prices(quote, self._models.of(symbol, quote.exchange_segment))
            if priced is None:
                continue
            buy, sell = priced
            prices[symbol] = FairPrice(symbol=symbol, buy_fair_price=buy, sell_fair_price=sell, source="feed",
                                       updated_at=min(arrival.confirmed_at, now))
            if arrival.received is not None:
                arrivals.append(arrival.received)
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
        """`work` every `interval_s`, for good: a failure is logged and the next round tries again."""
        while True:
            try:
                await work()
            except AdapterError as error:
                log.warning("fair-price feed: %s", error.message, extra={"step": "fair_price_feed"})
            except Exception:
                log.exception("fair-price feed failed unexpectedly", extra={"step": "fair_price_feed"})
            await asyncio.sleep(interval_s)


class _Arrival(NamedTuple):
    """A quote waiting to be written: when the feed knew it for the market's (`updated_at`), and the monotonic
    time it arrived (None for a quote confirmed again, not received: it has no lag)."""

    quote: Quote
    confirmed_at: datetime
    received: float | None
