"""Running the fair-price feed on the cycle rig: the rig's runtime streams the paper broker's market data into
`mainapp_fairprice` for the users it monitors, and a test waits until a price it expects is written."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from domain.records import FairPrice
from service.background import BackgroundLoop
from service.config import MarketDataConfig
from service.fair_price_feed import FairPriceFeed
from service.server import fair_price_feed
from tests.cycle.conftest import CycleRig, wait_for

D = Decimal


@contextlib.contextmanager
def feeding(rig: CycleRig, **config: Any) -> Iterator[FairPriceFeed]:
    """The rig's runtime with a fair-price feed of the paper broker's market data (`config` over quick
    defaults), for the block."""
    feed = fair_price_feed(rig.runtime, msgspec.convert({
        "enabled": True, "base_url": rig.paper.url, "app_key": "MD1", "secret_key": "md-secret",
        "flush_interval_s": 0.05, "refresh_s": 0.1, "reconnect_s": 0.2, "poll_s": 0.2, **config}, MarketDataConfig))
    loop = BackgroundLoop(feed.run)
    rig.io.loop.call_soon_threadsafe(loop.start)
    try:
        yield feed
    finally:
        rig.io.call(loop.stop())
        rig.io.call(feed.market_data.close())


def stored(rig: CycleRig, symbol: str) -> FairPrice | None:
    """The fair prices of `symbol` the table holds now."""
    return rig.io.call(rig.store.fair_prices([symbol])).get(symbol)


def fed(rig: CycleRig, buy: str, sell: str, symbol: str = "SBIN") -> None:
    """Wait until the feed has written these fair prices of `symbol`, fresh."""
    def written() -> bool:
        price = stored(rig, symbol)
        return price is not None and (price.buy_fair_price, price.sell_fair_price) == (D(buy), D(sell))
    wait_for(written, timeout=15)
    assert datetime.now(UTC) - stored(rig, symbol).updated_at < timedelta(seconds=30)
