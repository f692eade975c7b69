"""Many batches of one account at the same moment, through the real HTTP API, against the paper broker, on
SQLite and MariaDB: every order is placed at the broker exactly once, none is left pending and no answer is
`in_flight` because two writes of the account's orders crossed (deadlock) in the database."""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp

from tests.web.conftest import Served
from tests.web.test_service_over_sockets import ORDER


def post_batches_at_once(served: Served, token: str, batches: list[list[dict]]) -> list[dict]:
    """POST every batch concurrently; the answers' bodies, in the batches' order."""
    async def post_all() -> list[dict]:
        async with aiohttp.ClientSession() as session:
            async def post(orders: list[dict]) -> dict:
                async with session.post(f"{served.url}/api/algo-place-batch-orders", json={"orders": orders},
                                        headers={"Authorization": f"Bearer {token}"}) as response:
                    assert response.status == 200, await response.text()
                    return await response.json()
            return await asyncio.gather(*(post(orders) for orders in batches))
    return served.io.call(post_all())


def pending_orders(served: Served, user_id: int, account_id: int) -> list[tuple[int, str, str | None]]:
    rows = served.io.call(served.store.orders_for_accounts(user_id, [account_id]))
    return [(row.id, row.status, row.entry_orderstatus) for row in rows
            if row.status == "PENDING" or row.entry_orderstatus == "PendingSubmit"]


def test_twenty_concurrent_batches_of_five_on_one_account_place_every_order_exactly_once(served: Served):
    user_id, token, [account] = served.user("alice", "A1")
    batches = [[{**ORDER, "account_id": account, "strategy": f"batch{b}-order{o}"} for o in range(5)]
               for b in range(20)]

    answers = post_batches_at_once(served, token, batches)

    results = [result for answer in answers for result in answer["results"]]
    assert [(r["outcome"], r["reason"]) for r in results if r["outcome"] != "placed"] == []
    tags = Counter(r["tag"] for r in results)
    assert len(tags) == 100 and set(tags.values()) == {1}
    assert served.placements_at_the_broker() == tags
    assert pending_orders(served, user_id, account) == []


def test_two_identical_batches_sent_at_the_same_moment_each_place_their_orders_once(served: Served):
    user_id, token, [account] = served.user("bob", "B1")
    batch = [{**ORDER, "account_id": account, "strategy": f"same-{o}"} for o in range(5)]

    answers = [answer for _ in range(10) for answer in post_batches_at_once(served, token, [batch, batch])]

    results = [result for answer in answers for result in answer["results"]]
    assert [(r["outcome"], r["reason"]) for r in results if r["outcome"] != "placed"] == []
    answered_tags = {r["tag"] for r in results}
    assert served.placements_at_the_broker() == Counter({tag: 1 for tag in answered_tags})
    assert pending_orders(served, user_id, account) == []
