"""The broker registry: each account's calls reach the adapter registered for its `broker` over HTTP to the
paper broker; a broker with no adapter fails that account's calls alone, with nothing sent; the accepted
names are the registry's, on the command line too."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import msgspec
import pytest

from actors.broker_fetcher.fetch import AccountSnapshot, fetch_accounts
from adapters.broker.kite import KiteBroker
from adapters.broker.paper import RunningPaperBroker
from adapters.broker.registry import BROKER_NAMES, AdapterSettings, BrokerRegistry
from adapters.broker.xts import ReadReuse, XtsBroker
from domain.broker import BrokerAccount, ModifyRequest
from domain.broker_errors import SessionExpired, UnknownBroker
from domain.errors import ErrorKind
from service.cli import build_parser
from tests.broker.conftest import UNPACED, SimControl, limit_buy, paper_account, traced_session
from tests.broker.recorded import RecordedBroker


def account_of(broker: str, paper: RunningPaperBroker, client_id: str, account_id: int) -> BrokerAccount:
    return msgspec.structs.replace(paper_account(paper, client_id=client_id, account_id=account_id), broker=broker)


async def logged_in(registry: BrokerRegistry, account: BrokerAccount) -> BrokerAccount:
    return msgspec.structs.replace(account, token=await registry.login(account))


def settings(http: aiohttp.ClientSession, *, pacing: bool = False) -> AdapterSettings:
    return AdapterSettings(http=http, call_timeout_s=5, pacing=pacing, read_cache_accounts=10)


async def test_each_account_reaches_the_adapter_registered_for_its_broker(http, paper, sim: SimControl):
    xts, paper_adapter = XtsBroker(http, pacing=UNPACED), XtsBroker(http, pacing=UNPACED)
    registry = BrokerRegistry({"xts": xts, "paper": paper_adapter})
    on_xts = await logged_in(registry, account_of("xts", paper, "XTS1", 1))
    on_paper = await logged_in(registry, account_of("paper", paper, "PAPER1", 2))
    await sim.price("SBIN", "800")

    await registry.place(on_xts, limit_buy("x-1"))
    await registry.place(on_paper, limit_buy("p-1"))
    xts_book, paper_book = await registry.order_book(on_xts), await registry.order_book(on_paper)

    assert [(order.client_id, order.tag) for order in xts_book] == [("XTS1", "x-1")]
    assert [(order.client_id, order.tag) for order in paper_book] == [("PAPER1", "p-1")]
    assert xts.read_reuse() == ReadReuse(accounts=1, reused=0, decoded=1), "the xts account's read, only"
    assert paper_adapter.read_reuse() == ReadReuse(accounts=1, reused=0, decoded=1), "the paper account's read"


async def test_the_table_serves_xts_and_paper_accounts_with_one_xts_adapter(http, paper, sim: SimControl):
    registry = BrokerRegistry.build(settings(http))
    assert {"xts", "paper"} <= set(BROKER_NAMES)
    assert isinstance(registry.adapter("xts"), XtsBroker)
    assert registry.adapter("paper") is registry.adapter("xts")
    on_xts = await logged_in(registry, account_of("xts", paper, "XTS1", 1))
    on_paper = await logged_in(registry, account_of("paper", paper, "PAPER1", 2))
    await sim.price("SBIN", "800")

    [ack] = await registry.place_batch(on_xts, [limit_buy("x-1", price="700")])
    await registry.modify(on_xts, ModifyRequest(app_order_id=ack.app_order_id, order_type="LIMIT", quantity=5,
                                                tag="x-1-m1", limit_price=Decimal("710")))
    await registry.place(on_paper, limit_buy("p-1", price="700"))
    await registry.cancel(on_paper, (await registry.order_book(on_paper))[0].app_order_id, "p-1")

    [xts_order] = await registry.order_book(on_xts)
    [paper_order] = await registry.order_book(on_paper)
    assert (xts_order.client_id, xts_order.quantity, xts_order.status) == ("XTS1", 5, "New")
    assert (paper_order.client_id, paper_order.status) == ("PAPER1", "Cancelled")
    assert await registry.trade_book(on_xts) == [] and await registry.positions(on_paper, "DayWise") == []


async def test_a_kite_accounts_calls_reach_the_kite_adapter_and_an_xts_accounts_do_not(
    http, paper, sim: SimControl, recorded: RecordedBroker
):
    registry = BrokerRegistry.build(settings(http))
    assert isinstance(registry.adapter("kite"), KiteBroker) and "kite" in BROKER_NAMES
    recorded.answer("GET", "/orders", 200, "kite/mocks_orders.json")
    recorded.answer("POST", "/orders/regular", 200, "kite/mocks_order_response.json")
    on_kite = BrokerAccount(account_id=3, user_id=1, broker="kite", base_url=recorded.url, client_id="ZR1",
                            token="kite-token", app_key="kite-key")
    on_xts = await logged_in(registry, account_of("xts", paper, "XTS1", 1))
    await sim.price("SBIN", "800")

    kite_book = await registry.order_book(on_kite)
    [ack] = await registry.place_batch(on_kite, [limit_buy("K1")])
    await registry.place(on_xts, limit_buy("x-1"))

    assert {order.client_id for order in kite_book} == {"ZR1"} and len(kite_book) == 10
    assert ack.app_order_id == 151220000000000
    assert [(request["method"], request["path"], request["authorization"]) for request in recorded.received] == [
        ("GET", "/orders", "token kite-key:kite-token"), ("POST", "/orders/regular", "token kite-key:kite-token")]
    assert [order.tag for order in await registry.order_book(on_xts)] == ["x-1"], "the xts account's at the paper"
    with pytest.raises(SessionExpired, match=r"^login for ZR1: a Kite session starts with a login by hand"):
        await registry.login(on_kite)
    assert registry.login_url(on_kite) == f"{recorded.url}/connect/login?api_key=kite-key&v=3"


async def test_the_shared_adapter_paces_an_xts_and_a_paper_session_apart(paper):
    async with traced_session() as (http, requests):
        registry = BrokerRegistry.build(settings(http, pacing=True))
        accounts = [await logged_in(registry, account_of(broker, paper, client_id, number))
                    for number, (broker, client_id) in enumerate((("xts", "XTS1"), ("paper", "PAPER1")), 1)]
        requests.clear()
        for _ in range(2):
            for account in accounts:
                await registry.order_book(account)

    starts = sorted(request.started for request in requests)
    assert len(starts) == 4
    assert starts[2] - starts[0] >= 0.99, "each session's second order book waits for its own pace"
    assert starts[3] - starts[0] < 2.0, "neither session waits for the other's turns (shared, the 4th is 3 s on)"


async def test_an_account_of_a_broker_without_an_adapter_fails_alone_and_reaches_no_broker(paper):
    async with traced_session() as (http, requests):
        registry = BrokerRegistry.build(settings(http))
        accounts = [account_of("xts", paper, "XTS1", 1), account_of("paper", paper, "PAPER1", 2),
                    account_of("unlisted", paper, "UNL1", 3)]
        results = await fetch_accounts(registry, accounts, timeout_s=5)

    assert isinstance(results[1].outcome, AccountSnapshot) and isinstance(results[2].outcome, AccountSnapshot)
    unknown = results[3].outcome
    assert isinstance(unknown, UnknownBroker)
    assert unknown.kind is ErrorKind.UNAVAILABLE and not unknown.ambiguous
    assert unknown.broker == "unlisted"
    assert unknown.message == (f"login for UNL1: no adapter for broker 'unlisted' in this service (it has "
                               f"{', '.join(BROKER_NAMES)}); nothing was sent")
    assert len(requests) == 2 * 3, "a login, an order book and positions for each known account; none for UNL1"


async def test_orders_of_an_account_whose_broker_has_no_adapter_are_not_sent_and_not_ambiguous(http, paper,
                                                                                              sim: SimControl):
    registry = BrokerRegistry.build(settings(http))
    unlisted = msgspec.structs.replace(account_of("unlisted", paper, "UNL1", 3), token="any")

    outcomes = await registry.place_batch(unlisted, [limit_buy("u-1"), limit_buy("u-2")])
    with pytest.raises(UnknownBroker, match=r"^place u-3 for UNL1: no adapter for broker 'unlisted'") as placed:
        await registry.place(unlisted, limit_buy("u-3"))
    with pytest.raises(UnknownBroker, match=r"^modify 7 for UNL1: "):
        await registry.modify(unlisted, ModifyRequest(app_order_id=7, order_type="MARKET", quantity=1, tag="u-1"))
    with pytest.raises(UnknownBroker, match=r"^cancel 7 for UNL1: "):
        await registry.cancel(unlisted, 7, "u-1")

    assert [(type(outcome), outcome.message.split(":")[0]) for outcome in outcomes] == [
        (UnknownBroker, "place u-1 for UNL1"), (UnknownBroker, "place u-2 for UNL1")]
    assert not any(outcome.ambiguous for outcome in outcomes) and not placed.value.ambiguous
    assert await sim.orders() == []
    with pytest.raises(KeyError):
        registry.adapter("unlisted")


def add_account_args(broker: str) -> list[str]:
    return ["accounts", "add", "--user", "alice", "--broker", broker, "--base-url", "https://ttblaze.example",
            "--client-id", "CL1"]


@pytest.mark.parametrize("broker", BROKER_NAMES)
def test_accounts_add_takes_every_broker_of_the_registry(broker):
    assert build_parser().parse_args(add_account_args(broker)).broker == broker


def test_accounts_add_refuses_a_broker_the_registry_has_not(capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(add_account_args("unlisted"))
    assert exited.value.code == 2
    refusal = capsys.readouterr().err
    assert "argument --broker: invalid choice: 'unlisted'" in refusal
    assert all(name in refusal.split("choose from", 1)[1] for name in BROKER_NAMES)
