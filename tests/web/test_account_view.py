"""The server is the source of truth for what a page shows, over real sockets on SQLite and MariaDB: after
every cycle and on connect the frames carry every account of the user — one whose session expired keeps its
orders and PnL, marked stale, with its state — and a page opened later is sent the recent cycles and their
errors from the event log, so it shows what a page open all along was sent. Plus `GET /api/accounts` and
`GET /api/pnl/history`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import aiohttp
import pytest

from tests import paper_sim
from tests.web.conftest import BACK_TO_BACK, Served, running_service
from tests.web.test_service_over_sockets import ORDER

AFTER_CYCLE = ("cycle_summary", "accounts", "orders", "pnl")
"""What every cycle sends, in this order."""
ON_CONNECT = ("hello", "accounts", "orders", "pnl", "recent")


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def served(request: pytest.FixtureRequest, tmp_path) -> Iterator[Served]:
    yield from running_service(request, tmp_path, BACK_TO_BACK)


class Page:
    """One WebSocket client: the frames it was sent, read up to a point."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def read(self, count: int) -> list[dict]:
        async with asyncio.timeout(20):
            return [json.loads((await self.ws.receive()).data) for _ in range(count)]

    async def until_cycle_reported(self) -> list[dict]:
        """Frames up to the `pnl` that follows the next `cycle_summary`."""
        seen: list[dict] = []
        try:
            async with asyncio.timeout(30):
                while not (len(seen) >= 4 and [f["type"] for f in seen[-4:]] == list(AFTER_CYCLE)):
                    seen.append(json.loads((await self.ws.receive()).data))
        except TimeoutError:
            raise AssertionError(f"no cycle reported; frames seen: {seen}") from None
        return seen

    async def run_cycle(self) -> list[dict]:
        await self.ws.send_str(json.dumps({"type": "run_cycle"}))
        return await self.until_cycle_reported()


def of_type(frames: list[dict], kind: str) -> dict:
    return [frame for frame in frames if frame["type"] == kind][-1]


async def opened(ws: aiohttp.ClientWebSocketResponse) -> Page:
    """A page that has read the frames sent on connect."""
    page = Page(ws)
    await page.read(len(ON_CONNECT))
    return page


def by_account(accounts_frame: dict) -> dict[int, dict]:
    return {view["account_id"]: view for view in accounts_frame["accounts"]}


def test_an_expired_account_keeps_its_orders_and_pnl_in_every_frame_and_a_late_page_sees_the_same(served: Served):
    _, token, [fine, expiring] = served.user("alice", "A1", "A2")
    status, body = served.request("POST", "/api/algo-place-batch-orders", token, json={"orders": [
        {**ORDER, "account_id": expiring}]})
    assert status == 200 and body["results"][0]["outcome"] == "placed", body
    served.sim("price", symbol="SBIN", ltp="99.20")   # the entry fills: A2 is long 5 SBIN
    headers = {"Authorization": f"Bearer {token}"}

    async def scenario() -> tuple[list[dict], list[dict], list[dict]]:
        async with aiohttp.ClientSession() as session, session.ws_connect(f"{served.url}/ws", headers=headers) as ws:
            page = await opened(ws)
            await page.run_cycle()                       # both accounts fetched
            await paper_sim.sim(session, served.paper.url, "expire", account="A2")
            expired_cycle = await page.run_cycle()       # A2's fetch finds the session expired
            waiting_cycle = await page.run_cycle()       # A2 waits for a session: not fetched at all
            async with session.ws_connect(f"{served.url}/ws", headers=headers) as late_ws:
                late = await Page(late_ws).read(len(ON_CONNECT))
            return expired_cycle, waiting_cycle, late

    expired_cycle, waiting_cycle, late = served.io.call(scenario())
    expired_cycle_id = of_type(expired_cycle, "cycle_summary")["summary"]["cycle_id"]

    for frames in (waiting_cycle, late):
        orders = of_type(frames, "orders")["orders"]
        assert {order["account_id"] for order in orders} == {expiring}
        assert [order["symbol"] for order in orders] == ["SBIN"]
        pnl_accounts = {row["account_id"] for row in of_type(frames, "pnl")["rows"]}
        assert expiring in pnl_accounts, "the expired account's position is still shown"
        views = by_account(of_type(frames, "accounts"))
        assert set(views) == {fine, expiring}
        assert views[expiring]["state"] == "session_needed" and views[expiring]["stale"] is True
        assert views[expiring]["failing_since"] is not None and views[expiring]["last_error"]
        assert views[expiring]["last_fetch_at"] is not None, "its last good fetch is still known"
        assert views[fine]["state"] == "ok" and views[fine]["stale"] is False
        assert views[fine]["failing_since"] is None and views[fine]["last_error"] == ""

    assert [frame["type"] for frame in late] == list(ON_CONNECT)
    recent = late[-1]
    assert [summary["cycle_id"] for summary in recent["cycles"]][-2] == expired_cycle_id
    [error] = [e for e in recent["errors"] if e["cycle_id"] == expired_cycle_id]
    assert (error["step"], error["account_id"], error["kind"]) == ("fetch", expiring, "session_expired")


def test_a_failing_streak_is_shown_from_its_first_failure_and_ends_with_the_next_good_fetch(served: Served):
    _, token, [account] = served.user("bob", "B1")
    headers = {"Authorization": f"Bearer {token}"}

    async def scenario() -> tuple[dict, dict, dict, str]:
        async with aiohttp.ClientSession() as session, session.ws_connect(f"{served.url}/ws", headers=headers) as ws:
            page = await opened(ws)
            await page.run_cycle()
            await paper_sim.sim(session, served.paper.url, "faults", route="order_book", account="B1", kind="http_500",
                                count=2)
            first = await page.run_cycle()
            second = await page.run_cycle()
            third = await page.run_cycle()
            views = [by_account(of_type(frames, "accounts"))[account] for frames in (first, second, third)]
            return (*views, of_type(first, "cycle_summary")["summary"]["started_at"])

    first, second, third, first_started_at = served.io.call(scenario())
    assert first["state"] == "failing" and first["stale"] is True and first["last_error"]
    assert first["failing_since"] >= first_started_at
    assert second["state"] == "failing" and second["failing_since"] == first["failing_since"]
    assert third["state"] == "ok" and third["failing_since"] is None and third["stale"] is False
    assert third["last_fetch_at"] > first["failing_since"]


@pytest.mark.session_renewal
def test_an_account_whose_broker_settings_are_wrong_is_misconfigured_and_one_whose_broker_fails_is_failing(
        served: Served):
    user_id, token, [rotated, failing] = served.user("erin", "E1", "E2")
    wrong_url = served.io.call(served.store.add_account(user_id, "paper", served.paper.url + "/interactive", "E3",
                                                        app_key="E3", secret_key="s3cret"))
    headers = {"Authorization": f"Bearer {token}"}

    async def scenario() -> dict[int, dict]:
        async with aiohttp.ClientSession() as session, session.ws_connect(f"{served.url}/ws", headers=headers) as ws:
            page = await opened(ws)
            await page.run_cycle()
            await paper_sim.sim(session, served.paper.url, "expire", account="E1", secret_key="regenerated")
            await paper_sim.sim(session, served.paper.url, "faults", route="order_book", account="E2",
                                kind="http_500", count=1)
            return by_account(of_type(await page.run_cycle(), "accounts"))

    views = served.io.call(scenario())
    assert views[rotated]["state"] == "misconfigured" and views[rotated]["stale"] is True
    assert "check the account's keys" in views[rotated]["last_error"]
    assert views[wrong_url]["state"] == "misconfigured" and "base_url" in views[wrong_url]["last_error"]
    assert views[failing]["state"] == "failing" and "HTTP 500" in views[failing]["last_error"]
    assert all(views[a]["failing_since"] is not None for a in (rotated, wrong_url, failing))


def test_the_api_answers_the_accounts_and_todays_pnl_history_of_the_caller_only(served: Served):
    _, token, [account] = served.user("carol", "C1")
    _, other_token, [other_account] = served.user("dave", "D1")
    headers = {"Authorization": f"Bearer {token}"}

    async def two_cycles() -> list[dict]:
        async with aiohttp.ClientSession() as session, session.ws_connect(f"{served.url}/ws", headers=headers) as ws:
            page = await opened(ws)
            first = await page.run_cycle()
            return [of_type(first, "cycle_summary"), of_type(await page.run_cycle(), "cycle_summary")]

    summaries = served.io.call(two_cycles())
    status, accounts = served.request("GET", "/api/accounts", token)
    assert status == 200 and [view["account_id"] for view in accounts["accounts"]] == [account]
    assert accounts["accounts"][0]["state"] == "ok" and accounts["daily_loss_limit"] is None

    status, history = served.request("GET", "/api/pnl/history", token)
    assert status == 200
    assert [point["account_id"] for point in history["points"]] == [account, account]
    cycle_starts = [summary["summary"]["started_at"] for summary in summaries]
    assert [point["at"] >= start for point, start in zip(history["points"], cycle_starts, strict=True)] == [True, True]
    assert history["points"][0]["realized"] == "0" and history["points"][0]["unmarked_lots"] == 0
    assert served.request("GET", "/api/pnl/history", other_token)[1]["points"] == []
    other_accounts = served.request("GET", "/api/accounts", other_token)[1]["accounts"]
    assert [view["account_id"] for view in other_accounts] == [other_account]


@pytest.mark.session_renewal
def test_an_expired_session_renewed_with_the_stored_keys_leaves_the_account_ok(served: Served):
    _, token, [renewed] = served.user("rita", "R1")
    headers = {"Authorization": f"Bearer {token}"}

    async def scenario() -> list[dict]:
        async with aiohttp.ClientSession() as session, session.ws_connect(f"{served.url}/ws", headers=headers) as ws:
            page = await opened(ws)
            await page.run_cycle()
            await paper_sim.sim(session, served.paper.url, "expire", account="R1")
            return await page.run_cycle()

    frames = served.io.call(scenario())

    view = by_account(of_type(frames, "accounts"))[renewed]
    assert view["state"] == "ok" and view["stale"] is False and view["last_error"] == ""
    assert not [f for f in frames if f["type"] in ("session_needed", "monitoring_errors")]
