"""`Idempotency-Key` on the batch API, over real sockets, against the paper broker, on SQLite and MariaDB: a
repeat within a day gets the first answer and sends nothing, also when both arrive at once; a key reused for
another batch is refused; a first request refused before it wrote anything frees its key."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from tests.web.conftest import Served
from tests.web.test_batch_outcomes import BATCH
from tests.web.test_service_over_sockets import ORDER


def post(served: Served, token: str, orders: list[dict], key: str | None) -> tuple[int, Any, dict[str, str]]:
    return post_at_once(served, token, [(orders, key)])[0]


def post_at_once(served: Served, token: str,
                 requests: list[tuple[list[dict], str | None]]) -> list[tuple[int, Any, dict[str, str]]]:
    """POST every (orders, key) concurrently; each answer's status, body and headers, in order."""
    async def post_all() -> list[tuple[int, Any, dict[str, str]]]:
        async with aiohttp.ClientSession() as session:
            async def one(orders: list[dict], key: str | None) -> tuple[int, Any, dict[str, str]]:
                headers = {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}
                async with session.post(f"{served.url}{BATCH}", json={"orders": orders}, headers=headers) as answer:
                    return answer.status, await answer.json(), dict(answer.headers)
            return list(await asyncio.gather(*(one(orders, key) for orders, key in requests)))
    return served.io.call(post_all())


def test_the_same_batch_posted_twice_with_one_key_places_one_broker_order(served: Served):
    _, token, [account] = served.user("alice", "A1")
    orders = [{**ORDER, "account_id": account}]
    first = post(served, token, orders, "order-2024-05-06-0001")

    again = post(served, token, orders, "order-2024-05-06-0001")

    assert first[0] == again[0] == 200 and first[1]["results"][0]["outcome"] == "placed"
    assert again[1] == first[1] and again[2]["Idempotent-Replayed"] == "true"
    assert served.placements_at_the_broker() == {first[1]["results"][0]["tag"]: 1}


def test_two_identical_requests_with_one_key_sent_at_once_place_once(served: Served):
    _, token, [account] = served.user("bob", "B1")
    orders = [{**ORDER, "account_id": account, "strategy": f"s{n}"} for n in range(3)]
    served.sim("latency", min_ms=200, max_ms=200)

    answers = post_at_once(served, token, [(orders, "same-moment"), (orders, "same-moment")])

    assert [status for status, _, _ in answers] == [200, 200]
    assert answers[0][1] == answers[1][1]
    tags = [result["tag"] for result in answers[0][1]["results"]]
    assert [result["outcome"] for result in answers[0][1]["results"]] == ["placed"] * 3
    assert served.placements_at_the_broker() == dict.fromkeys(tags, 1)


def test_the_same_batch_posted_twice_without_a_key_places_twice(served: Served):
    _, token, [account] = served.user("carol", "C1")
    orders = [{**ORDER, "account_id": account}]

    answers = [post(served, token, orders, None), post(served, token, orders, None)]

    assert sum(served.placements_at_the_broker().values()) == 2
    assert answers[0][1] != answers[1][1] and "Idempotent-Replayed" not in answers[1][2]


def test_a_key_reused_for_another_batch_is_refused_and_sends_nothing(served: Served):
    _, token, [account] = served.user("dave", "D1")
    post(served, token, [{**ORDER, "account_id": account}], "reused")

    status, body, _ = post(served, token, [{**ORDER, "account_id": account, "quantity": 6}], "reused")

    assert status == 422 and body == {"error": "Idempotency-Key 'reused' was used for a different request; "
                                               "use a new key"}
    assert sum(served.placements_at_the_broker().values()) == 1


def test_keys_are_each_users_own(served: Served):
    _, alice, [alice_account] = served.user("erin", "E1")
    _, bob, [bob_account] = served.user("frank", "F1")
    post(served, alice, [{**ORDER, "account_id": alice_account}], "shared-name")

    status, body, _ = post(served, bob, [{**ORDER, "account_id": bob_account}], "shared-name")

    assert status == 200 and body["results"][0]["outcome"] == "placed"
    assert sum(served.placements_at_the_broker().values()) == 2


def test_a_first_request_refused_while_paused_frees_its_key_for_the_retry(served: Served):
    _, token, [account] = served.user("gina", "G1")
    orders = [{**ORDER, "account_id": account}]
    served.io.call(served.store.set_paused(served.io.call(served.store.user_id("gina")), True, "lunch"))
    assert post(served, token, orders, "after-lunch")[0] == 409
    served.io.call(served.store.set_paused(served.io.call(served.store.user_id("gina")), False))

    status, body, headers = post(served, token, orders, "after-lunch")

    assert status == 200 and body["results"][0]["outcome"] == "placed" and "Idempotent-Replayed" not in headers
    assert sum(served.placements_at_the_broker().values()) == 1


@pytest.mark.parametrize("key", ["", "has space", "é-accent", "k" * 129], ids=["empty", "space", "non-ascii", "129"])
def test_a_key_that_is_not_1_to_128_visible_ascii_characters_is_a_clear_400(served: Served, key: str):
    _, token, [account] = served.user("hana", "H1")

    async def send() -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key.encode("utf-8").decode("latin-1")}
        async with aiohttp.ClientSession() as session, session.post(
                f"{served.url}{BATCH}", json={"orders": [{**ORDER, "account_id": account}]}, headers=headers) as answer:
            return answer.status, await answer.json()
    status, body = served.io.call(send())

    assert status == 400 and body == {"error": "Idempotency-Key must be 1 to 128 visible ASCII characters"}
    assert sum(served.placements_at_the_broker().values()) == 0


def test_a_key_of_128_visible_characters_is_accepted(served: Served):
    _, token, [account] = served.user("ivan", "I1")

    status, body, _ = post(served, token, [{**ORDER, "account_id": account}], "!~" * 64)

    assert status == 200 and body["results"][0]["outcome"] == "placed"
