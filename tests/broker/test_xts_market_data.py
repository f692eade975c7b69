"""The XTS Market Data client against the paper broker's market data over real HTTP and a real Socket.IO
stream: a watched instrument's snapshot and every later move arrive as quotes with the bid, ask and last price;
an instrument no longer watched sends nothing; a dropped stream is connected again, resubscribed and re-read;
while the stream is down REST quotes stand in, as they do for instruments past the broker's subscription cap;
a token killed by another login is replaced by a new login."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest

from adapters.broker.paper import run_paper_broker
from adapters.broker.xts_md import XtsMarketData
from domain.quotes import Quote
from tests.broker.conftest import SimControl

D = Decimal
SBIN, INFY, RELIANCE = ("NSECM", 3045), ("NSECM", 1594), ("NSECM", 2885)


class Received:
    """Every quote the client gave, and a wait for one that matches."""

    def __init__(self) -> None:
        self.quotes: list[Quote] = []
        self._arrived = asyncio.Event()

    def __call__(self, quote: Quote) -> None:
        self.quotes.append(quote)
        self._arrived.set()

    async def until(self, matches: Callable[[Quote], bool], timeout: float = 10.0) -> Quote:
        async with asyncio.timeout(timeout):
            while True:
                found = [q for q in self.quotes if matches(q)]
                if found:
                    return found[-1]
                self._arrived.clear()
                await self._arrived.wait()


@contextlib.asynccontextmanager
async def streaming(http, paper, received: Received, **options) -> AsyncIterator[XtsMarketData]:
    client = XtsMarketData(http, base_url=paper.url, app_key="MD1", secret_key="md-secret", on_quote=received,
                           **{"reconnect_s": 0.2, "poll_s": 0.1, **options})
    task = asyncio.ensure_future(client.run())
    try:
        async with asyncio.timeout(10):
            while not client.connected:
                await asyncio.sleep(0.02)
        yield client
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.close()


def of(instrument: tuple[str, int], **prices: str) -> Callable[[Quote], bool]:
    def matches(quote: Quote) -> bool:
        return (quote.exchange_segment, quote.instrument_id) == instrument and all(
            getattr(quote, side) == D(price) for side, price in prices.items())
    return matches


async def test_a_watched_instruments_snapshot_and_its_moves_arrive_with_bid_ask_and_last_price(http, paper, sim):
    await sim.post("price", symbol="SBIN", ltp="800", bid="799.90", ask="800.10")
    received = Received()
    async with streaming(http, paper, received) as client:
        await client.watch([SBIN])
        snapshot = await received.until(of(SBIN, bid="799.90", ask="800.10", ltp="800"))
        assert snapshot.at.tzinfo is not None

        await sim.post("price", symbol="SBIN", ltp="801", bid="800.95", ask="801.20")
        await received.until(of(SBIN, bid="800.95", ask="801.20", ltp="801"))
        assert not [q for q in received.quotes if q.instrument_id == INFY[1]], "INFY is not watched"


async def test_an_instrument_no_longer_watched_sends_nothing(http, paper, sim):
    received = Received()
    async with streaming(http, paper, received) as client:
        await client.watch([SBIN, INFY])
        await received.until(of(INFY))
        await client.watch([SBIN])
        await sim.post("price", symbol="INFY", ltp="1510")
        await sim.post("price", symbol="SBIN", ltp="805")
        await received.until(of(SBIN, ltp="805"))
        assert not [q for q in received.quotes if q.instrument_id == INFY[1] and q.ltp == D(1510)]


@pytest.mark.parametrize("how", ["lost", "closed"])
async def test_a_dropped_stream_is_connected_again_resubscribed_and_re_read(http, paper, sim, how):
    """`lost`: the connection cut with no word (a network failure); `closed`: the server's own disconnect."""
    received = Received()
    async with streaming(http, paper, received) as client:
        await client.watch([SBIN])
        await received.until(of(SBIN))
        await sim.post("md_drop", how=how)
        await sim.post("price", symbol="SBIN", ltp="790")   # while it reconnects: the re-read brings it
        await received.until(of(SBIN, ltp="790"))
        async with asyncio.timeout(10):
            while not (client.connected and client.reconnects >= 1):
                await asyncio.sleep(0.02)
        await sim.post("price", symbol="SBIN", ltp="791")
        await received.until(of(SBIN, ltp="791"))


async def test_while_the_stream_is_down_rest_quotes_stand_in(http, paper, sim):
    received = Received()
    async with streaming(http, paper, received) as client:
        await client.watch([SBIN])
        await received.until(of(SBIN))
        await sim.post("md_down", seconds=3)
        await sim.post("md_drop")
        await sim.post("price", symbol="SBIN", ltp="777")
        await received.until(of(SBIN, ltp="777"), timeout=2.5)
        assert not client.connected, "the stream is still held down: that quote came by REST"


async def test_a_token_killed_by_another_login_is_replaced_by_a_new_login(http, paper, sim):
    received = Received()
    async with streaming(http, paper, received) as client:
        await client.watch([SBIN])
        await received.until(of(SBIN))
        async with http.post(f"{paper.url}/apimarketdata/auth/login",
                             json={"appKey": "MD1", "secretKey": "md-secret", "source": "WEBAPI"}) as answer:
            assert answer.status == 200   # the same keys elsewhere: the client's token is dead now
        await client.watch([SBIN, INFY])
        await received.until(of(INFY))


async def test_instruments_past_the_brokers_subscription_cap_are_read_by_rest_and_the_stream_stays_up(http):
    received = Received()
    async with run_paper_broker("127.0.0.1", 0, seed=7, md_subscription_cap=2) as capped, \
            streaming(http, capped, received) as client:
        sim = SimControl(http, capped.url)
        await client.watch([SBIN, INFY, RELIANCE])
        for instrument in (SBIN, INFY, RELIANCE):
            await received.until(of(instrument))
        await sim.post("price", symbol="RELIANCE", ltp="2950")
        await sim.post("price", symbol="SBIN", ltp="806")
        await received.until(of(RELIANCE, ltp="2950"))
        await received.until(of(SBIN, ltp="806"))
        assert client.connected and client.reconnects == 0, "a refused subscription does not drop the stream"


async def test_an_instrument_of_a_segment_market_data_does_not_have_is_left_out_and_the_rest_fed(http, paper):
    received = Received()
    async with streaming(http, paper, received) as client:
        await client.watch([("NSEXX", 1), SBIN])
        await received.until(of(SBIN))
        assert client.connected
