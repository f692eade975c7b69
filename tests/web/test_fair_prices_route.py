"""`POST /api/fair-prices` and `DELETE /api/fair-prices/{symbol}` over a served service (SQLite and MariaDB): an
admin token writes the desk's prices, all or none, and they take precedence over the feed's; each boundary of a
price, a symbol and the list is pinned on both sides; a user's token never opens these routes, nor an admin
token a user's."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp

from domain.records import FairPrice
from tests.web.conftest import Served

T0 = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def entry(symbol: str = "SBIN", buy: Any = "800.10", sell: Any = "799.90") -> dict[str, Any]:
    return {"symbol": symbol, "buy_fair_price": buy, "sell_fair_price": sell}


def admin_token(served: Served, name: str = "desk") -> str:
    return served.io.call(served.store.add_admin_token(name))


def feed_writes(served: Served, symbol: str, buy: str, sell: str) -> None:
    served.io.call(served.store.upsert_feed_prices([FairPrice(
        symbol=symbol, buy_fair_price=Decimal(buy), sell_fair_price=Decimal(sell), updated_at=T0)]))


def stored(served: Served, *symbols: str) -> dict[str, tuple[Decimal, Decimal, str]]:
    prices = served.io.call(served.store.fair_prices(symbols))
    return {s: (p.buy_fair_price, p.sell_fair_price, p.source) for s, p in prices.items()}


def test_the_desks_prices_are_written_at_once_marked_desk_and_the_feed_does_not_overwrite_them(served: Served):
    token = admin_token(served)
    before = datetime.now(UTC)

    status, answer = served.request("POST", "/api/fair-prices", token, json={"prices": [
        entry("SBIN", "800.10", "799.90"), entry("TCS", 3500.05, 3499.95)]})

    assert status == 200, answer
    assert answer["written"] == 2
    updated_at = datetime.fromisoformat(answer["updated_at"])
    assert before <= updated_at <= datetime.now(UTC)
    feed_writes(served, "SBIN", "805", "804.95")
    assert stored(served, "SBIN", "TCS") == {"SBIN": (Decimal("800.1"), Decimal("799.9"), "desk"),
                                             "TCS": (Decimal("3500.05"), Decimal("3499.95"), "desk")}
    assert {p.updated_at for p in served.io.call(served.store.fair_prices(["SBIN", "TCS"])).values()} == {updated_at}


def test_a_desk_post_replaces_the_feeds_price_and_its_delete_hands_the_symbol_back(served: Served):
    token = admin_token(served)
    feed_writes(served, "SBIN", "805", "804.95")

    assert served.request("POST", "/api/fair-prices", token, json={"prices": [entry()]})[0] == 200
    assert stored(served, "SBIN") == {"SBIN": (Decimal("800.1"), Decimal("799.9"), "desk")}

    assert served.request("DELETE", "/api/fair-prices/SBIN", token) == (200, {"symbol": "SBIN"})
    assert stored(served, "SBIN") == {}
    assert served.request("DELETE", "/api/fair-prices/SBIN", token) == (
        404, {"error": "the desk has no fair price of 'SBIN'"})
    feed_writes(served, "SBIN", "806", "805.95")
    assert stored(served, "SBIN") == {"SBIN": (Decimal("806"), Decimal("805.95"), "feed")}
    assert served.request("DELETE", "/api/fair-prices/SBIN", token)[0] == 404, "a feed's price is not the desk's"
    assert stored(served, "SBIN") == {"SBIN": (Decimal("806"), Decimal("805.95"), "feed")}


REFUSED = [
    ({"prices": [entry(buy="0")]}, "prices[0] ('SBIN'): buy_fair_price must be a price above zero"),
    ({"prices": [entry(sell=0)]}, "prices[0] ('SBIN'): sell_fair_price must be a price above zero"),
    ({"prices": [entry(buy="-800.10")]}, "prices[0] ('SBIN'): buy_fair_price must be a price above zero"),
    ({"prices": [entry(sell=-1)]}, "prices[0] ('SBIN'): sell_fair_price must be a price above zero"),
    ({"prices": [entry(buy="800.10001")]}, "prices[0] ('SBIN'): buy_fair_price has more than 4 decimal places"),
    ({"prices": [entry(sell=799.90001)]}, "prices[0] ('SBIN'): sell_fair_price has more than 4 decimal places"),
    ({"prices": [entry(buy="100000000000000")]},
     "prices[0] ('SBIN'): buy_fair_price must be below 100000000000000"),
    ({"prices": [entry(sell=1e14)]}, "prices[0] ('SBIN'): sell_fair_price must be below 100000000000000"),
    ({"prices": [entry(buy="NaN")]}, "prices[0] ('SBIN'): buy_fair_price must be a price above zero"),
    ({"prices": [entry(buy=True)]},
     "invalid request: Expected `decimal`, got `bool` - at `$.prices[0].buy_fair_price`"),
    ({"prices": [entry("TCS"), entry("SBIN"), entry("TCS")]}, "prices[2] ('TCS'): the symbol is given twice"),
    ({"prices": [entry("TCS"), entry(buy="0.00001")]},
     "prices[1] ('SBIN'): buy_fair_price has more than 4 decimal places"),
    ({"prices": [entry("S" * 65)]}, "invalid request: Expected `str` of length <= 64 - at `$.prices[0].symbol`"),
    ({"prices": [entry("")]}, "invalid request: Expected `str` of length >= 1 - at `$.prices[0].symbol`"),
    ({"prices": []}, "invalid request: Expected `array` of length >= 1 - at `$.prices`"),
    ({"prices": [entry(f"S{n}") for n in range(5001)]},
     "invalid request: Expected `array` of length <= 5000 - at `$.prices`"),
    ({"prices": [{**entry(), "source": "feed"}]},
     "invalid request: Object contains unknown field `source` - at `$.prices[0]`"),
    ({}, "invalid request: Object missing required field `prices`"),
]


def test_each_refused_body_is_a_400_naming_its_entry_and_writes_nothing(served: Served):
    token = admin_token(served)

    for body, error in REFUSED:
        assert served.request("POST", "/api/fair-prices", token, json=body) == (400, {"error": error}), error
    status, answer = served.request("POST", "/api/fair-prices", token, data=b"not json")
    assert status == 400 and answer["error"].startswith("invalid request: ")

    assert served.io.call(served.store.list_fair_prices()) == []


def test_the_bounds_themselves_are_accepted(served: Served):
    token = admin_token(served)
    most = [entry(f"S{n:04}", "1", "1") for n in range(5000)]
    edges = [entry("L" * 64, "99999999999999.9999", "0.0001"), entry("N", 800.1234, 1)]

    assert served.request("POST", "/api/fair-prices", token, json={"prices": most})[1]["written"] == 5000
    assert served.request("POST", "/api/fair-prices", token, json={"prices": edges})[1]["written"] == 2

    assert stored(served, "L" * 64, "N", "S4999") == {
        "L" * 64: (Decimal("99999999999999.9999"), Decimal("0.0001"), "desk"),
        "N": (Decimal("800.1234"), Decimal("1"), "desk"), "S4999": (Decimal("1"), Decimal("1"), "desk")}


def test_no_user_token_opens_the_desks_routes_and_no_admin_token_a_users(served: Served):
    token = admin_token(served)
    _, user_token, _ = served.user("alice", "A1")
    feed_writes(served, "TCS", "3500.05", "3499.95")
    body = {"prices": [entry()]}

    for credential in (None, "wrong-token", user_token, token[:-1], token + "x"):
        assert served.request("POST", "/api/fair-prices", credential, json=body)[0] == 401, credential
        assert served.request("DELETE", "/api/fair-prices/TCS", credential)[0] == 401, credential
    assert served.request("POST", f"/api/fair-prices?token={token}", json=body)[0] == 401, "the header only"
    assert served.request("POST", "/api/fair-prices", user_token, json=body) == (
        401, {"error": "missing or invalid admin token"})
    assert stored(served, "SBIN", "TCS") == {"TCS": (Decimal("3500.05"), Decimal("3499.95"), "feed")}

    assert served.request("GET", "/api/orders", token)[0] == 401
    assert served.request("POST", "/api/pause", token, json={})[0] == 401
    assert served.upgrade_status(f"?token={token}") == 401
    assert served.request("GET", "/api/orders", user_token)[0] == 200


def test_a_desk_post_and_a_feed_write_crossing_on_one_symbol_both_succeed_and_the_desks_stays(served: Served):
    token = admin_token(served)
    others = [f"S{n:03}" for n in range(100)]

    async def cross(round_: int) -> int:
        async with aiohttp.ClientSession() as session:
            async def desk() -> int:
                async with session.post(f"{served.url}/api/fair-prices", headers={"Authorization": f"Bearer {token}"},
                                        json={"prices": [entry("SBIN", f"{800 + round_}", "799")]}) as response:
                    return response.status
            status, _ = await asyncio.gather(desk(), served.store.upsert_feed_prices([FairPrice(
                symbol=symbol, buy_fair_price=Decimal("900"), sell_fair_price=Decimal("899"),
                updated_at=T0 + timedelta(seconds=round_)) for symbol in ["SBIN", *others]]))
            return status

    for round_ in range(10):
        assert served.io.call(cross(round_)) == 200
        assert stored(served, "SBIN") == {"SBIN": (Decimal(800 + round_), Decimal("799"), "desk")}
    assert {source for _, _, source in stored(served, *others).values()} == {"feed"}
