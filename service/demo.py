"""The demo: a paper market that moves, and a strategy that trades through the service's own batch API —
everything a trader needs to watch the loop work, with nothing installed.

The market moves each instrument's price a little every second (through the in-process paper broker's
engine, so fills and stop triggers happen); the paper broker publishes each move as XTS market data, with a
bid and an ask around the last price, and the service's fair-price feed writes `mainapp_fairprice` from it.
The strategy sends entries with stop-loss and take-profit prices, now and then a breakout stop entry,
and now and then an order on a symbol the broker's risk check refuses (so rejections, archiving and
regeneration show). One account's session expires after a while, so the re-login banner shows too.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

import aiohttp

from adapters.broker.paper.simulator import DEFAULT_INSTRUMENTS, Simulator

log = logging.getLogger(__name__)

TICK = Decimal("0.05")
STRATEGY = "demo-momentum"
REFUSED_SYMBOL = "TCS"
REFUSAL_REASON = "RMS: margin shortfall"


def on_tick(price: Decimal) -> Decimal:
    return max(TICK, (price / TICK).quantize(Decimal(1), rounding=ROUND_HALF_EVEN) * TICK)


class DemoMarket:
    def __init__(self, simulator: Simulator, rng: random.Random) -> None:
        self._simulator = simulator
        self._rng = rng

    async def run(self, every_s: float = 1.0) -> None:
        while True:
            await self.step()
            await asyncio.sleep(every_s)

    async def step(self) -> None:
        for segment, instrument_id, symbol, _ in DEFAULT_INSTRUMENTS:
            instrument = self._simulator.instrument(segment, instrument_id)
            if instrument is None or instrument.ltp is None:
                continue
            price = on_tick(instrument.ltp * (1 + Decimal(str(round(self._rng.gauss(0, 0.0012), 6)))))
            self._simulator.set_price(symbol, price)


class DemoStrategy:
    """Sends entries for one user through `POST /api/algo-place-batch-orders`, as an outside client would."""

    def __init__(self, http: aiohttp.ClientSession, service_url: str, token: str, account_ids: Sequence[int],
                 simulator: Simulator, rng: random.Random) -> None:
        self._http = http
        self._url = service_url
        self._token = token
        self._account_ids = tuple(account_ids)
        self._simulator = simulator
        self._rng = rng
        self._round = 0

    async def run(self, every_s: float) -> None:
        while True:
            try:
                await self.submit()
            except (aiohttp.ClientError, TimeoutError) as error:
                log.warning("demo strategy could not reach the service: %s", error)
            await asyncio.sleep(every_s)

    async def submit(self) -> None:
        self._round += 1
        orders = [self._entry(account_id) for account_id in self._account_ids]
        if self._round % 4 == 2:
            orders.append(self._entry(self._account_ids[0], symbol=REFUSED_SYMBOL))
        async with self._http.post(f"{self._url}/api/algo-place-batch-orders", json={"orders": orders},
                                   headers={"Authorization": f"Bearer {self._token}"}) as response:
            await response.read()

    def _entry(self, account_id: int, symbol: str | None = None) -> dict:
        segment, instrument_id, name, _ = self._rng.choice(
            [i for i in DEFAULT_INSTRUMENTS if i[2] != REFUSED_SYMBOL] if symbol is None
            else [i for i in DEFAULT_INSTRUMENTS if i[2] == symbol])
        ltp = self._simulator.instrument(segment, instrument_id).ltp
        side = self._rng.choice(("BUY", "SELL"))
        sign = 1 if side == "BUY" else -1
        breakout = self._round % 3 == 0
        entry = on_tick(ltp + sign * TICK * (4 if breakout else -1))
        order = {"account_id": account_id, "strategy": STRATEGY, "symbol": name, "exchange_segment": segment,
                 "instrument_id": instrument_id, "side": side, "quantity": self._rng.choice((5, 10, 15)),
                 "entry_type": "STOPLIMIT" if breakout else "LIMIT", "entry_limit_price": str(entry),
                 "sl_stop_price": str(on_tick(entry * (1 - sign * Decimal("0.004")))),
                 "tp_price": str(on_tick(entry * (1 + sign * Decimal("0.006"))))}
        if breakout:
            order["entry_stop_price"] = str(entry)
        return order
