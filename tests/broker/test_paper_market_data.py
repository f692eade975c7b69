"""The paper broker's XTS Market Data REST routes over real HTTP, as MARKETDATA_XTS.md has them: its own login
(JSON or a form, with or without `source`; a new login ends the old token), the client config, subscriptions
with their snapshots and cap, unsubscription, quotes without a subscription, and the invalid-token answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal

import aiohttp
import pytest

from adapters.broker.paper import RunningPaperBroker, run_paper_broker
from adapters.broker.paper.md_quotes import xts_seconds
from adapters.broker.paper.simulator import EXCHANGE_TZ
from tests.broker.conftest import SimControl
from tests.broker.market_data import RELIANCE, SBIN, best, md_call, md_login, snapshots, subscribe

TCS = {"exchangeSegment": 1, "exchangeInstrumentID": 11536}
INFY = {"exchangeSegment": 1, "exchangeInstrumentID": 1594}
XTS_EPOCH_UNIX = 315513000
"""Unix time of 1980-01-01 00:00 IST, where market data times count from."""


@pytest.fixture
async def capped() -> AsyncIterator[RunningPaperBroker]:
    async with run_paper_broker("127.0.0.1", 0, seed=7, md_subscription_cap=3) as running:
        yield running


# --- login, logout, sessions ------------------------------------------------------------------------------


@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
@pytest.mark.parametrize("source", ["WEBAPI", None], ids=["with-source", "without-source"])
async def test_a_market_data_login_takes_json_or_a_form_with_or_without_source(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, as_form: bool, source: str | None
):
    fields = {"appKey": "MD1", "secretKey": "md-secret"} | ({"source": source} if source else {})
    async with http.post(f"{paper.url}/apimarketdata/auth/login",
                         **({"data": fields} if as_form else {"json": fields})) as response:
        status, body = response.status, await response.json()
    assert (status, body["type"], body["code"]) == (200, "success", "s-user-0001")
    assert body["result"]["userID"] == "MD1"
    assert {"appVersion", "application_expiry_date"} <= set(body["result"])
    status, _ = await md_call(http, paper, "GET", "/config/clientConfig", body["result"]["token"])
    assert status == 200


@pytest.mark.parametrize("fields", [{"appKey": "MD1", "secretKey": ""}, {"appKey": "", "secretKey": "s"}],
                         ids=["no-secret", "no-app-key"])
async def test_a_login_without_an_app_key_or_a_secret_key_is_refused(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, fields: dict[str, str]
):
    status, body = await md_call(http, paper, "POST", "/auth/login", body=fields)
    assert (status, body["type"], body["code"]) == (400, "error", "e-user-0005")


async def test_a_login_with_the_wrong_secret_key_of_a_configured_app_key_is_refused(http: aiohttp.ClientSession):
    async with run_paper_broker(credentials={"MD1": "right"}) as paper:
        wrong = await md_call(http, paper, "POST", "/auth/login", body={"appKey": "MD1", "secretKey": "wrong"})
        right = await md_call(http, paper, "POST", "/auth/login", body={"appKey": "MD1", "secretKey": "right"})
    assert (wrong[0], wrong[1]["code"]) == (400, "e-user-0005")
    assert (right[0], right[1]["code"]) == (200, "s-user-0001")


async def test_a_second_login_of_the_same_app_key_ends_the_first_token_and_its_subscriptions(
    http: aiohttp.ClientSession, paper: RunningPaperBroker
):
    first, _ = await md_login(http, paper, "MD1")
    other, _ = await md_login(http, paper, "MD2")
    await subscribe(http, paper, first, SBIN)

    second, _ = await md_login(http, paper, "MD1")

    status, body = await md_call(http, paper, "GET", "/config/clientConfig", first)
    assert (status, body["code"], body["description"]) == (400, "e-session-0007", "Invalid Token")
    assert (await md_call(http, paper, "GET", "/config/clientConfig", other))[0] == 200
    status, body = await subscribe(http, paper, second, SBIN)
    assert (status, body["result"]["Remaining_Subscription_Count"]) == (200, 49)


async def test_logout_ends_the_token(http: aiohttp.ClientSession, paper: RunningPaperBroker):
    token, _ = await md_login(http, paper)
    status, body = await md_call(http, paper, "DELETE", "/auth/logout", token)
    assert (status, body["type"]) == (200, "success")
    status, body = await md_call(http, paper, "GET", "/config/clientConfig", token)
    assert (status, body["code"]) == (400, "e-session-0007")


@pytest.mark.parametrize(("method", "path"), [
    ("DELETE", "/auth/logout"), ("GET", "/config/clientConfig"), ("POST", "/instruments/subscription"),
    ("PUT", "/instruments/subscription"), ("POST", "/instruments/quotes"),
])
async def test_an_unknown_token_is_e_session_0007_with_http_400_on_every_route(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, method: str, path: str
):
    status, body = await md_call(http, paper, method, path, "not-a-token",
                                 {"instruments": [SBIN], "xtsMessageCode": 1501})
    assert (status, body["type"], body["code"], body["description"]) == (
        400, "error", "e-session-0007", "Invalid Token")


async def test_market_data_and_interactive_tokens_are_not_each_others(
    http: aiohttp.ClientSession, paper: RunningPaperBroker
):
    md_token, _ = await md_login(http, paper, "PAPER1")
    async with http.post(f"{paper.url}/interactive/user/session",
                         json={"appKey": "PAPER1", "secretKey": "s", "source": "WEBAPI"}) as response:
        interactive_token = (await response.json())["result"]["token"]
    async with http.get(f"{paper.url}/interactive/orders", headers={"Authorization": md_token}) as response:
        assert (response.status, (await response.json())["code"]) == (400, "e-session-0007")
    status, body = await md_call(http, paper, "GET", "/config/clientConfig", interactive_token)
    assert (status, body["code"]) == (400, "e-session-0007")


async def test_the_client_config_maps_segments_and_the_codes_the_paper_publishes(
    http: aiohttp.ClientSession, paper: RunningPaperBroker
):
    token, _ = await md_login(http, paper)
    status, body = await md_call(http, paper, "GET", "/config/clientConfig", token)
    assert status == 200
    assert body["result"]["exchangeSegments"]["NSECM"] == 1
    assert body["result"]["exchangeSegments"]["NSEFO"] == 2
    assert body["result"]["xtsMessageCode"] == {"touchlineEvent": 1501, "marketDepthEvent": 1502}


# --- subscriptions ----------------------------------------------------------------------------------------


async def test_a_touchline_subscription_answers_the_snapshot_as_a_json_text(
    http: aiohttp.ClientSession, paper: RunningPaperBroker
):
    token, _ = await md_login(http, paper)
    status, body = await subscribe(http, paper, token, SBIN, code=1501)
    assert (status, body["code"]) == (200, "s-session-0001")
    assert body["result"]["quotesList"] == [SBIN]
    assert body["result"]["Remaining_Subscription_Count"] == 49
    assert all(isinstance(item, str) for item in body["result"]["listQuotes"])
    [quote] = snapshots(body)
    assert (quote["MessageCode"], quote["ExchangeSegment"], quote["ExchangeInstrumentID"]) == (1501, 1, 3045)
    assert "Bids" not in quote and "Asks" not in quote
    assert best(quote) == (Decimal("799.95"), Decimal("800.05"), Decimal(800))
    assert quote["Touchline"]["BidInfo"]["Size"] == quote["Touchline"]["AskInfo"]["Size"] == 100
    assert {"LastTradedQunatity", "TotalTradedQuantity", "LastTradedTime", "LastUpdateTime", "Close",
            "TotalBuyQuantity", "TotalSellQuantity", "AverageTradedPrice", "PercentChange", "Open", "High",
            "Low"} <= set(quote["Touchline"])


async def test_a_depth_subscription_answers_five_levels_a_tick_apart_from_the_best(
    http: aiohttp.ClientSession, paper: RunningPaperBroker
):
    token, _ = await md_login(http, paper)
    status, body = await subscribe(http, paper, token, SBIN, code=1502)
    assert status == 200
    [quote] = snapshots(body)
    assert quote["MessageCode"] == 1502
    assert [level["Price"] for level in quote["Bids"]] == [Decimal(p) for p in
                                                           ("799.95", "799.90", "799.85", "799.80", "799.75")]
    assert [level["Price"] for level in quote["Asks"]] == [Decimal(p) for p in
                                                           ("800.05", "800.10", "800.15", "800.20", "800.25")]
    assert quote["Touchline"]["BidInfo"] == quote["Bids"][0]
    assert quote["Touchline"]["AskInfo"] == quote["Asks"][0]


async def test_prices_are_json_numbers_integers_when_whole(http: aiohttp.ClientSession, paper: RunningPaperBroker):
    token, _ = await md_login(http, paper)
    async with http.post(f"{paper.url}/apimarketdata/instruments/subscription", headers={"Authorization": token},
                         json={"instruments": [SBIN], "xtsMessageCode": 1501}) as response:
        text = await response.text()
    assert '\\"LastTradedPrice\\":800,' in text
    assert '\\"Price\\":799.95' in text


async def test_a_repeat_subscription_is_already_subscribed_with_http_400_and_no_snapshot(
    http: aiohttp.ClientSession, paper: RunningPaperBroker
):
    token, _ = await md_login(http, paper)
    await subscribe(http, paper, token, SBIN, code=1501)
    status, body = await subscribe(http, paper, token, SBIN, code=1501)
    assert (status, body["type"], body["code"], body["description"]) == (
        400, "error", "e-session-0002", "Instrument Already Subscribed !")
    assert body["result"] == {"Remaining_Subscription_Count": 49}


async def test_the_same_instrument_under_the_other_code_is_a_new_subscription(
    http: aiohttp.ClientSession, paper: RunningPaperBroker
):
    token, _ = await md_login(http, paper)
    await subscribe(http, paper, token, SBIN, code=1501)
    status, body = await subscribe(http, paper, token, SBIN, code=1502)
    assert (status, body["result"]["Remaining_Subscription_Count"]) == (200, 48)


async def test_a_subscription_with_one_new_instrument_answers_its_snapshot_only(
    http: aiohttp.ClientSession, paper: RunningPaperBroker
):
    token, _ = await md_login(http, paper)
    await subscribe(http, paper, token, SBIN)
    status, body = await subscribe(http, paper, token, SBIN, RELIANCE)
    assert status == 200
    assert [quote["ExchangeInstrumentID"] for quote in snapshots(body)] == [2885]


async def test_the_cap_takes_the_last_allowed_subscription_and_refuses_one_over(
    http: aiohttp.ClientSession, capped: RunningPaperBroker
):
    token, _ = await md_login(http, capped)
    assert (await subscribe(http, capped, token, SBIN, RELIANCE))[1]["result"]["Remaining_Subscription_Count"] == 1

    refused = await subscribe(http, capped, token, TCS, INFY)
    last = await subscribe(http, capped, token, TCS)
    over = await subscribe(http, capped, token, INFY)

    assert (refused[0], refused[1]["code"], refused[1]["result"]) == (
        400, "e-session-0004", {"Remaining_Subscription_Count": 1})
    assert (last[0], last[1]["result"]["Remaining_Subscription_Count"]) == (200, 0)
    assert (over[0], over[1]["code"], over[1]["result"]) == (400, "e-session-0004", {"Remaining_Subscription_Count": 0})


async def test_the_cap_counts_per_token(http: aiohttp.ClientSession, capped: RunningPaperBroker):
    full, _ = await md_login(http, capped, "MD1")
    other, _ = await md_login(http, capped, "MD2")
    await subscribe(http, capped, full, SBIN, RELIANCE, TCS)
    status, body = await subscribe(http, capped, other, SBIN, RELIANCE, TCS)
    assert (status, body["result"]["Remaining_Subscription_Count"]) == (200, 0)


async def test_unsubscribing_frees_the_subscription(http: aiohttp.ClientSession, paper: RunningPaperBroker):
    token, _ = await md_login(http, paper)
    await subscribe(http, paper, token, SBIN, RELIANCE)
    status, body = await subscribe(http, paper, token, SBIN, TCS, method="PUT")
    assert (status, body["type"]) == (200, "success")
    assert body["result"] == {"xtsMessageCode": 1501, "unsubList": [SBIN]}
    status, body = await subscribe(http, paper, token, SBIN)
    assert (status, body["result"]["Remaining_Subscription_Count"]) == (200, 48)


@pytest.mark.parametrize("body", [
    {"instruments": [{"exchangeSegment": 1, "exchangeInstrumentID": 999999}], "xtsMessageCode": 1501},
    {"instruments": [{"exchangeSegment": 77, "exchangeInstrumentID": 3045}], "xtsMessageCode": 1501},
    {"instruments": [SBIN], "xtsMessageCode": 1505},
    {"instruments": [], "xtsMessageCode": 1501},
    {"xtsMessageCode": 1501},
], ids=["unknown-instrument", "unknown-segment", "unpublished-code", "no-instruments", "no-instruments-field"])
async def test_a_subscription_the_paper_cannot_serve_is_a_bad_request_and_subscribes_nothing(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, body: dict
):
    token, _ = await md_login(http, paper)
    status, answer = await md_call(http, paper, "POST", "/instruments/subscription", token, body)
    assert (status, answer["type"]) == (400, "error")
    assert answer["code"] != "e-session-0007"
    assert (await subscribe(http, paper, token, SBIN))[1]["result"]["Remaining_Subscription_Count"] == 49


# --- quotes -----------------------------------------------------------------------------------------------


async def test_quotes_answer_snapshots_without_a_subscription(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    token, _ = await md_login(http, paper)
    await sim.post("price", symbol="RELIANCE", ltp="2901", bid="2900.5", ask="2901.5")
    status, body = await md_call(http, paper, "POST", "/instruments/quotes", token,
                                 {"instruments": [RELIANCE, SBIN], "xtsMessageCode": 1502, "publishFormat": "JSON"})
    assert (status, body["code"]) == (200, "s-quotes-0001")
    assert body["result"]["quotesList"] == [RELIANCE, SBIN]
    reliance, sbin = snapshots(body)
    assert best(reliance) == (Decimal("2900.5"), Decimal("2901.5"), Decimal(2901))
    assert len(reliance["Bids"]) == len(reliance["Asks"]) == 5
    assert best(sbin) == (Decimal("799.95"), Decimal("800.05"), Decimal(800))
    assert (await subscribe(http, paper, token, SBIN))[1]["result"]["Remaining_Subscription_Count"] == 49


# --- times ------------------------------------------------------------------------------------------------


def test_times_count_seconds_from_1980_in_india():
    assert xts_seconds(datetime(1980, 1, 1, tzinfo=EXCHANGE_TZ)) == 0
    assert xts_seconds(datetime(2025, 12, 23, 10, 30, tzinfo=EXCHANGE_TZ)) == 1450953000


async def test_a_quotes_update_time_is_the_moment_of_its_last_change_from_1980_ist(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    token, _ = await md_login(http, paper)
    before = int(datetime.now(EXCHANGE_TZ).timestamp())
    await sim.price("SBIN", "801")
    after = int(datetime.now(EXCHANGE_TZ).timestamp())
    _, body = await md_call(http, paper, "POST", "/instruments/quotes", token,
                            {"instruments": [SBIN], "xtsMessageCode": 1501})
    [quote] = snapshots(body)
    for moment in (quote["Touchline"]["LastUpdateTime"], quote["Touchline"]["LastTradedTime"],
                   quote["ExchangeTimeStamp"]):
        assert before <= moment + XTS_EPOCH_UNIX <= after
