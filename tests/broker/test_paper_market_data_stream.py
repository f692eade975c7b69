"""The paper broker's market data stream through a real `socketio.AsyncClient` on loopback: who may connect,
which socket gets which event on a price move (one move, or many in one `/_sim/prices`), and the stream's
controls (`/_sim/md_drop`, `/_sim/md_down`) with subscriptions that belong to the token and outlive its
sockets."""

from __future__ import annotations

import json
from decimal import Decimal

import aiohttp
import pytest
import socketio

from adapters.broker.paper import RunningPaperBroker
from tests.broker.conftest import SimControl
from tests.broker.market_data import RELIANCE, SBIN, Stream, best, md_call, md_login, stream, subscribe


async def test_a_socket_is_joined_on_connect(http: aiohttp.ClientSession, paper: RunningPaperBroker):
    token, user_id = await md_login(http, paper)
    connected = Stream(paper, token, user_id)
    await connected.connect()
    try:
        assert (await connected.next())[0] == "connect"
        event, data = await connected.next()
        assert (event, json.loads(data)) == ("joined", {"userID": user_id, "publishFormat": "JSON",
                                                        "broadcastMode": "Full"})
    finally:
        await connected.client.disconnect()


@pytest.mark.parametrize("mode", ["Full", "FULL", "full"])
async def test_broadcast_mode_full_is_taken_in_any_letter_case(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, mode: str
):
    token, user_id = await md_login(http, paper)
    async with stream(paper, token, user_id, broadcast_mode=mode) as connected:
        assert connected.client.connected


@pytest.mark.parametrize("refused", ["unknown-token", "partial-mode"])
async def test_a_socket_with_an_unknown_token_or_partial_mode_is_refused(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, refused: str
):
    token, user_id = await md_login(http, paper)
    attempt = Stream(paper, "not-a-token" if refused == "unknown-token" else token, user_id,
                     broadcast_mode="Partial" if refused == "partial-mode" else "Full", reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await attempt.connect()


async def test_a_price_move_reaches_the_subscribed_socket_with_its_bid_ask_and_last_price(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    watching, watcher = await md_login(http, paper, "MD1")
    elsewhere, other = await md_login(http, paper, "MD2")
    await subscribe(http, paper, watching, SBIN, code=1501)
    await subscribe(http, paper, elsewhere, RELIANCE, code=1501)
    async with stream(paper, watching, watcher) as sbin_socket, stream(paper, elsewhere, other) as other_socket:
        await sim.post("price", symbol="SBIN", ltp="801", ask="806")
        event, quote = await sbin_socket.next_quote()
        assert (event, quote["ExchangeInstrumentID"]) == ("1501-json-full", 3045)
        assert best(quote) == (Decimal("800.95"), Decimal(806), Decimal(801))

        await sim.price("RELIANCE", "2905")
        event, quote = await other_socket.next_quote()
        assert (event, quote["ExchangeInstrumentID"]) == ("1501-json-full", 2885)


async def test_a_depth_subscriber_gets_1502_with_five_levels_each_side(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    token, user_id = await md_login(http, paper)
    await subscribe(http, paper, token, SBIN, code=1502)
    async with stream(paper, token, user_id) as connected:
        await sim.post("price", symbol="SBIN", ltp="801", bid="800", ask="802")
        event, quote = await connected.next_quote()
    assert event == "1502-json-full"
    assert [level["Price"] for level in quote["Bids"]][:2] == [Decimal(800), Decimal("799.95")]
    assert [level["Price"] for level in quote["Asks"]][:2] == [Decimal(802), Decimal("802.05")]


async def test_after_unsubscribing_a_price_move_emits_nothing(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    token, user_id = await md_login(http, paper)
    await subscribe(http, paper, token, SBIN, RELIANCE)
    async with stream(paper, token, user_id) as connected:
        await subscribe(http, paper, token, SBIN, method="PUT")
        await sim.price("SBIN", "801")
        await sim.price("RELIANCE", "2905")
        _, quote = await connected.next_quote()
    assert quote["ExchangeInstrumentID"] == 2885


async def test_a_spread_change_is_published(http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl):
    token, user_id = await md_login(http, paper)
    await subscribe(http, paper, token, SBIN)
    async with stream(paper, token, user_id) as connected:
        await sim.post("spread", ticks=2)
        _, quote = await connected.next_quote()
    assert best(quote) == (Decimal("799.90"), Decimal("800.10"), Decimal(800))


async def test_a_dropped_stream_reconnects_and_gets_events_without_resubscribing(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    token, user_id = await md_login(http, paper)
    await subscribe(http, paper, token, SBIN)
    async with stream(paper, token, user_id) as connected:
        assert await sim.post("md_drop") == {"dropped": 1}
        await connected.expect("disconnect", "connect", "joined")
        await sim.price("SBIN", "801")
        _, quote = await connected.next_quote()
    assert best(quote)[2] == Decimal(801)


async def test_a_socket_closed_by_the_server_stays_closed_until_it_connects_again(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    token, user_id = await md_login(http, paper)
    await subscribe(http, paper, token, SBIN)
    async with stream(paper, token, user_id) as connected:
        assert await sim.post("md_drop", how="closed") == {"dropped": 1}
        assert await connected.next() == ("disconnect", "server disconnect")
        with pytest.raises(TimeoutError):
            await connected.next(timeout=0.3)
        await connected.connect()
        await sim.price("SBIN", "801")
        _, quote = await connected.next_quote()
    assert best(quote)[2] == Decimal(801)


async def test_dropping_one_tokens_sockets_leaves_the_others_connected(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    dropped_token, dropped_user = await md_login(http, paper, "MD1")
    kept_token, kept_user = await md_login(http, paper, "MD2")
    async with stream(paper, dropped_token, dropped_user) as dropped, stream(paper, kept_token, kept_user) as kept:
        assert await sim.post("md_drop", token=dropped_token, how="closed") == {"dropped": 1}
        assert (await dropped.next())[0] == "disconnect"
        assert kept.client.connected
        with pytest.raises(TimeoutError):
            await kept.next(timeout=0.3)


async def test_a_new_login_closes_the_old_tokens_sockets(http: aiohttp.ClientSession, paper: RunningPaperBroker):
    token, user_id = await md_login(http, paper, "MD1")
    async with stream(paper, token, user_id) as connected:
        await md_login(http, paper, "MD1")
        assert await connected.next() == ("disconnect", "server disconnect")


async def test_logout_closes_the_tokens_sockets(http: aiohttp.ClientSession, paper: RunningPaperBroker):
    token, user_id = await md_login(http, paper)
    async with stream(paper, token, user_id) as connected:
        await md_call(http, paper, "DELETE", "/auth/logout", token)
        assert await connected.next() == ("disconnect", "server disconnect")


async def test_a_stream_held_down_refuses_sockets_while_rest_answers_then_takes_them(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    token, user_id = await md_login(http, paper)
    await subscribe(http, paper, token, SBIN)
    async with stream(paper, token, user_id) as reconnecting:
        assert await sim.post("md_down", seconds=1.0) == {"dropped": 1, "seconds": 1.0}
        assert (await reconnecting.next())[0] == "disconnect"
        refused = Stream(paper, token, user_id, reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await refused.connect()
        status, body = await md_call(http, paper, "POST", "/instruments/quotes", token,
                                     {"instruments": [SBIN], "xtsMessageCode": 1501})
        assert (status, body["type"]) == (200, "success")

        await reconnecting.expect("connect", "joined")
        await sim.price("SBIN", "801")
        _, quote = await reconnecting.next_quote()
    assert best(quote)[2] == Decimal(801)
    async with stream(paper, token, user_id, reconnection=False) as accepted:
        assert accepted.client.connected


async def test_a_socket_connecting_over_websocket_only_gets_events(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    token, user_id = await md_login(http, paper)
    await subscribe(http, paper, token, SBIN)
    connected = Stream(paper, token, user_id)
    await connected.client.connect(connected.url, socketio_path="/apimarketdata/socket.io", transports=["websocket"])
    try:
        await connected.expect("connect", "joined")
        await sim.price("SBIN", "801")
        assert (await connected.next_quote())[0] == "1501-json-full"
    finally:
        await connected.client.disconnect()


async def test_many_prices_in_one_request_move_and_publish_each_in_order(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    token, user_id = await md_login(http, paper)
    await subscribe(http, paper, token, SBIN, RELIANCE)
    async with stream(paper, token, user_id) as connected:
        answer = await sim.post("prices", prices=[
            {"symbol": "SBIN", "ltp": "801"}, {"symbol": "RELIANCE", "ltp": "2901", "bid": "2899"},
            {"symbol": "SBIN", "ltp": "802", "ask": "806"},
        ])
        assert answer == {"moved": 3, "fills": 0}
        seen = [(await connected.next_quote())[1] for _ in range(3)]
    assert [(q["ExchangeInstrumentID"], best(q)) for q in seen] == [
        (3045, (Decimal("800.95"), Decimal("801.05"), Decimal(801))),
        (2885, (Decimal(2899), Decimal("2901.05"), Decimal(2901))),
        (3045, (Decimal("801.95"), Decimal(806), Decimal(802))),
    ]


async def test_many_prices_stop_at_the_first_refused_and_those_before_it_stay_moved(
    http: aiohttp.ClientSession, paper: RunningPaperBroker
):
    token, _ = await md_login(http, paper)
    async with http.post(f"{paper.url}/_sim/prices", json={"prices": [
        {"symbol": "SBIN", "ltp": "801"}, {"symbol": "RELIANCE", "ltp": "2901", "bid": "2902"},
        {"symbol": "TCS", "ltp": "4001"},
    ]}) as response:
        assert (response.status, await response.text()) == (
            400, "prices[1] RELIANCE: the bid 2902 is above the ask 2901.05; 1 moved before it")
    tcs = {"exchangeSegment": 1, "exchangeInstrumentID": 11536}
    _, body = await md_call(http, paper, "POST", "/instruments/quotes", token,
                            {"instruments": [SBIN, RELIANCE, tcs], "xtsMessageCode": 1501})
    assert [best(json.loads(item, parse_float=Decimal))[2] for item in body["result"]["listQuotes"]] == [
        Decimal(801), Decimal(2900), Decimal(4000)]
