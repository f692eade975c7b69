"""The WebSocket's Origin check never trusts the Host header: `Origin: http://evil.example` with
`Host: evil.example` (a DNS-rebinding page) is refused with 403 before the upgrade, on a server with the
default public origin (the bound `http://host:port`) and on one with a configured `public_origin`; the
configured origin and the listed ones are accepted, and so is a client that sends no Origin."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest

from service.web.context import WebSettings
from tests.security.conftest import DESK_ORIGIN
from tests.web.conftest import Served, served_at

PUBLIC = "https://monitor.example"
EVIL = "http://evil.example"


@pytest.fixture
def public(tmp_path) -> Iterator[Served]:
    """A service reached by browsers at PUBLIC (a proxy in front), also allowing DESK_ORIGIN."""
    settings = WebSettings(public_origin=PUBLIC, allowed_origins=(DESK_ORIGIN,))
    with served_at(f"sqlite:///{tmp_path / 'public.db'}", settings) as running:
        yield running


def upgrade_status(running: Served, token: str, headers: dict[str, str]) -> int:
    async def attempt() -> int:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(f"{running.url}/ws?token={token}", headers=headers) as ws:
                    assert (await ws.receive_json())["type"] == "hello"
                    return 101
            except aiohttp.WSServerHandshakeError as error:
                return error.status
    return running.io.call(attempt())


@pytest.mark.parametrize(("headers", "status"), [
    ({"Origin": EVIL, "Host": "evil.example"}, 403),
    ({"Origin": "http://evil.example:80", "Host": "evil.example:80"}, 403),
    ({"Origin": PUBLIC, "Host": "evil.example"}, 101),  # the origin is what counts, whatever the Host
    ({"Origin": PUBLIC}, 101),
    ({"Origin": DESK_ORIGIN}, 101),
    ({"Origin": PUBLIC + "/"}, 403),  # an origin is compared exactly
    ({"Origin": "https://monitor.example.evil.example"}, 403),
    ({}, 101),  # no Origin: not a browser
])
def test_a_configured_public_origin_is_the_servers_own(public: Served, headers, status):
    _, token, _ = public.user("alice", "A1")
    assert upgrade_status(public, token, headers) == status


def test_with_a_public_origin_set_the_bound_address_is_no_longer_an_allowed_origin(public: Served):
    _, token, _ = public.user("alice", "A1")
    assert upgrade_status(public, token, {"Origin": public.url}) == 403


@pytest.mark.parametrize(("headers", "status"), [
    ({"Origin": EVIL, "Host": "evil.example"}, 403),
    ({"Origin": "own"}, 101),  # replaced by the bound http://127.0.0.1:<port>
    ({"Origin": "own", "Host": "evil.example"}, 101),
    ({}, 101),
])
def test_by_default_the_public_origin_is_the_bound_address(guarded: Served, headers, status):
    user_id, token, _ = guarded.user("alice", "A1")
    headers = {name: guarded.url if value == "own" else value for name, value in headers.items()}
    assert upgrade_status(guarded, token, headers) == status
    if status == 403:  # refused before anything started
        assert user_id not in guarded.service.runtime.system.registry.user_ids()
