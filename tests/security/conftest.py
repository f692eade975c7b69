"""Fixtures of the security suite: the web suite's running service (SQLite and MariaDB), and one on SQLite
with a configured list of allowed WebSocket origins, plus two users who must never reach each other."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from service.web.context import WebSettings
from tests.storage.conftest import fresh_mysql_url  # noqa: F401 - fixture used by `served`
from tests.web.conftest import Served, served, served_at  # noqa: F401 - fixture

DESK_ORIGIN = "https://desk.example"


@pytest.fixture
def guarded(tmp_path) -> Iterator[Served]:
    """A service on SQLite whose WebSocket accepts the desk's origin besides its own."""
    with served_at(f"sqlite:///{tmp_path / 'guarded.db'}", WebSettings(allowed_origins=(DESK_ORIGIN,))) as running:
        yield running


@dataclass(frozen=True)
class Pair:
    """Alice and Bob, one account each; Bob has an order and a finished cycle for Alice to reach for."""

    alice_id: int
    alice: str
    alice_account: int
    bob_id: int
    bob: str
    bob_account: int
    bob_order: int
    bob_cycle: str


def ws_frames(running: Served, token: str, send: list[dict], until: str) -> list[dict]:
    """Connect as `token` (in the query), send `send`, collect frames until one of type `until` (or 20 s)."""
    return running.frames_until(until, send, query=f"?token={token}")
