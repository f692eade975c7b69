"""Scripting the paper broker from a test over its HTTP test interface: a `/_sim/` control and the journal of
every request the broker received. Coroutines on the caller's client session and loop."""

from __future__ import annotations

from collections import Counter
from typing import Any

import aiohttp


async def sim(http: aiohttp.ClientSession, paper_url: str, control: str, /, **body: Any) -> Any:
    """POST `/_sim/<control>` with `body`; the broker must answer 200. Its JSON answer."""
    async with http.post(f"{paper_url}/_sim/{control}", json=body) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def journal(http: aiohttp.ClientSession, paper_url: str, **params: str) -> list[dict[str, Any]]:
    """Every request the broker received, in order (`account=` keeps one account's)."""
    async with http.get(f"{paper_url}/_sim/orders", params=params) as response:
        return await response.json()


def placements(entries: list[dict[str, Any]]) -> Counter[str]:
    """How many place requests of each tag a journal holds."""
    return Counter(entry["tag"] for entry in entries if entry["route"] == "place")
