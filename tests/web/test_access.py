"""Who may stay connected, and the admin commands that decide it, on a real server over SQLite and MariaDB:
disabling a user or rotating its token closes its open sockets within one heartbeat and stops its monitor;
`users list`/`accounts list` never print a secret; a disabled account leaves the cycle."""

import argparse
import asyncio
import json
import time
from collections.abc import Iterator

import aiohttp
import pytest

from adapters.store.tokens import hash_token
from service.cli import accounts as accounts_cli
from service.cli import users as users_cli
from service.cli.database_option import guarded
from service.web.access import REVOKED_CODE
from service.web.context import WebSettings
from tests.web.conftest import Served, running_service

HEARTBEAT_S = 2.0


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def served(request: pytest.FixtureRequest, tmp_path) -> Iterator[Served]:
    """A served service whose heartbeat is `HEARTBEAT_S`."""
    yield from running_service(request, tmp_path, WebSettings(heartbeat_s=HEARTBEAT_S))


def cli(served: Served, handler, **arguments) -> int:
    return handler(argparse.Namespace(database=served.database_url, **arguments))


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Client:
    """A WebSocket client of the served service, open until closed by the server or the test."""

    def __init__(self, served: Served, token: str) -> None:
        self._served = served
        self._session = served.io.call(self._open_session())
        self.socket = served.io.call(self._session.ws_connect(f"{served.url}/ws",
                                                              headers={"Authorization": f"Bearer {token}"}))
        assert self.next_frame()["type"] == "hello"

    @staticmethod
    async def _open_session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    def next_frame(self, timeout: float = 10.0) -> dict:
        message = self._served.io.call(asyncio.wait_for(self.socket.receive(), timeout))
        return json.loads(message.data)

    def closed_by_server(self, timeout: float) -> tuple[int, str, float]:
        """Wait for the server's close: (code, reason, seconds waited); frames before it are skipped."""
        async def until_closed() -> tuple[int, str]:
            while True:
                message = await self.socket.receive()
                if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                    return self.socket.close_code, message.extra or ""
        started = time.monotonic()
        code, reason = self._served.io.call(asyncio.wait_for(until_closed(), timeout))
        return code, reason, time.monotonic() - started

    def ping(self) -> str:
        self._served.io.call(self.socket.send_str(json.dumps({"type": "ping"})))
        while (frame := self.next_frame())["type"] != "pong":
            pass
        return frame["type"]

    def close(self) -> None:
        self._served.io.call(self.socket.close())
        self._served.io.call(self._session.close())


def monitored(served: Served, user_id: int) -> bool:
    return user_id in served.service.runtime.system.registry.user_ids()


def refused(served: Served, token: str) -> int:
    return served.upgrade_status(headers={"Authorization": f"Bearer {token}"})


def test_disabling_a_user_closes_its_open_socket_within_one_heartbeat_and_stops_its_monitor(served: Served):
    user_id, token, _ = served.user("alice", "PAPER1")
    client = Client(served, token)
    wait_for(lambda: monitored(served, user_id))

    assert cli(served, users_cli.disable_user, name="alice") == 0
    code, reason, waited = client.closed_by_server(timeout=3 * HEARTBEAT_S)

    assert (code, reason) == (REVOKED_CODE, "access revoked: the user was disabled or its API token replaced")
    assert waited <= HEARTBEAT_S
    wait_for(lambda: not monitored(served, user_id))
    assert refused(served, token) == 401
    client.close()


def test_another_users_socket_stays_open_when_a_user_is_disabled(served: Served):
    _, alice, _ = served.user("alice", "PAPER1")
    bob_id, bob, _ = served.user("bob", "PAPER2")
    alices, bobs = Client(served, alice), Client(served, bob)

    cli(served, users_cli.disable_user, name="alice")
    alices.closed_by_server(timeout=3 * HEARTBEAT_S)

    assert bobs.ping() == "pong" and monitored(served, bob_id)
    alices.close()
    bobs.close()


def test_rotating_a_token_closes_the_sockets_of_the_old_one_and_keeps_those_of_the_new_one(served: Served, capsys):
    user_id, old_token, _ = served.user("alice", "PAPER1")
    old = Client(served, old_token)

    assert cli(served, users_cli.rotate_token, name="alice") == 0
    new_token = capsys.readouterr().out.split("new API token (shown once, only its hash is stored): ")[1].strip()
    new = Client(served, new_token)
    code, _, waited = old.closed_by_server(timeout=3 * HEARTBEAT_S)

    assert code == REVOKED_CODE and waited <= HEARTBEAT_S
    assert new.ping() == "pong" and monitored(served, user_id)
    assert refused(served, old_token) == 401
    old.close()
    new.close()


def test_a_disabled_user_enabled_again_is_let_in_with_its_token(served: Served):
    _, token, _ = served.user("alice", "PAPER1")
    cli(served, users_cli.disable_user, name="alice")
    assert refused(served, token) == 401

    assert cli(served, users_cli.enable_user, name="alice") == 0

    assert refused(served, token) == 101


def test_a_disabled_users_cycle_finds_no_account_to_trade(served: Served):
    user_id, _, [account] = served.user("alice", "PAPER1")
    assert served.io.call(served.store.load_cycle_context(user_id)).account_ids == (account,)

    cli(served, users_cli.disable_user, name="alice")

    assert served.io.call(served.store.load_cycle_context(user_id)).account_ids == ()


def test_users_list_shows_each_user_and_its_accounts_but_never_a_token_or_its_hash(served: Served, capsys):
    _, alice, _ = served.user("alice", "PAPER1", "PAPER2")
    _, bob, _ = served.user("bob")
    cli(served, users_cli.disable_user, name="bob")
    capsys.readouterr()

    assert cli(served, users_cli.list_users) == 0

    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines()[1:]]
    assert [line[1:] for line in lines] == [["alice", "yes", "no", "2", "(2)"], ["bob", "no", "no", "0", "(0)"]]
    for secret in (alice, bob, hash_token(alice), hash_token(bob)):
        assert secret not in out


def test_an_unknown_user_is_an_error_that_changes_nothing(served: Served, capsys):
    for handler in (users_cli.disable_user, users_cli.enable_user, users_cli.rotate_token):
        assert cli(served, handler, name="nobody") == 1
        assert capsys.readouterr().err == "error: no user named 'nobody'\n"


def test_accounts_list_shows_accounts_but_never_their_keys_or_session_tokens(served: Served, capsys):
    user_id, _, [account] = served.user("alice", "PAPER1")
    served.io.call(served.store.set_account_token(user_id, account, "session-token-xyz"))
    served.user("bob", "PAPER2")

    assert cli(served, accounts_cli.list_accounts, user="alice") == 0

    out = capsys.readouterr().out
    [row] = [line.split() for line in out.splitlines()[1:]]
    assert row == [str(account), "alice", "paper", "PAPER1", "yes", "ok", served.paper.url]
    for secret in ("session-token-xyz", "s3cret"):
        assert secret not in out


def test_a_disabled_account_leaves_the_cycle_and_comes_back_when_enabled(served: Served, capsys):
    user_id, _, [first, second] = served.user("alice", "PAPER1", "PAPER2")

    assert cli(served, accounts_cli.disable_account, account_id=first) == 0
    assert served.io.call(served.store.load_cycle_context(user_id)).account_ids == (second,)

    assert cli(served, accounts_cli.enable_account, account_id=first) == 0
    assert served.io.call(served.store.load_cycle_context(user_id)).account_ids == (first, second)


def test_disabling_an_unknown_account_is_an_error(served: Served, capsys):
    assert cli(served, guarded(accounts_cli.disable_account), account_id=999) == 1
    assert capsys.readouterr().err == "error: account 999 does not exist\n"
