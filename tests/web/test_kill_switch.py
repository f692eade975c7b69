"""The kill switch over real sockets: a pause is applied whatever its reason's length (cut to the stored
column), the answer and the `paused` frame carry the reason as stored, and the socket stays up. A real
aiohttp server, real actors, the paper broker, SQLite and MariaDB."""

import asyncio
import json
import logging
from collections.abc import Callable

import aiohttp
import pytest

from adapters.store.repository import PAUSE_REASON_MAX_CHARS
from tests.web.conftest import Served

LONG_REASON = "".join(chr(ord("a") + i % 26) for i in range(300))


def converse(served: Served, token: str, send: list[dict], done: Callable[[list[dict]], bool],
             timeout: float = 20.0) -> list[dict]:
    """Connect, send `send` one by one, and collect frames until `done(frames so far)`."""
    async def run() -> list[dict]:
        seen: list[dict] = []
        async with aiohttp.ClientSession() as session, \
                session.ws_connect(f"{served.url}/ws", headers={"Authorization": f"Bearer {token}"}) as ws:
            for frame in send:
                await ws.send_str(json.dumps(frame))
            async with asyncio.timeout(timeout):
                async for message in ws:
                    seen.append(json.loads(message.data))
                    if done(seen):
                        return seen
        return seen
    return served.io.call(run())


def having(kind: str, count: int = 1) -> Callable[[list[dict]], bool]:
    return lambda frames: sum(1 for f in frames if f["type"] == kind) >= count


def stored_pause(served: Served, user_id: int) -> tuple[bool, str]:
    context = served.io.call(served.store.load_cycle_context(user_id))
    return context.paused, context.pause_reason


def test_a_pause_frame_with_a_reason_longer_than_the_column_pauses_with_the_reason_cut_to_it(served: Served):
    user_id, token, _ = served.user("alice", "PAPER1")

    frames = converse(served, token, [{"type": "pause", "reason": LONG_REASON}, {"type": "ping"}], having("pong"))

    [paused] = [f for f in frames if f["type"] == "paused"]
    assert paused == {"type": "paused", "paused": True, "reason": LONG_REASON[:PAUSE_REASON_MAX_CHARS]}
    assert not [f for f in frames if f["type"] == "error"], "the socket stayed up and answered the ping"
    assert stored_pause(served, user_id) == (True, LONG_REASON[:PAUSE_REASON_MAX_CHARS])


def test_a_pause_reason_as_long_as_the_column_is_stored_whole(served: Served):
    user_id, token, _ = served.user("alice", "PAPER1")
    reason = LONG_REASON[:PAUSE_REASON_MAX_CHARS]

    frames = converse(served, token, [{"type": "pause", "reason": reason}], having("paused"))

    assert frames[-1]["reason"] == reason
    assert stored_pause(served, user_id) == (True, reason)


def test_the_pause_route_takes_a_reason_longer_than_the_column_and_answers_it_as_stored(served: Served):
    user_id, token, _ = served.user("alice", "PAPER1")

    status, body = served.request("POST", "/api/pause", token, json={"reason": LONG_REASON})

    assert (status, body) == (200, {"paused": True, "reason": LONG_REASON[:PAUSE_REASON_MAX_CHARS]})
    assert stored_pause(served, user_id) == (True, LONG_REASON[:PAUSE_REASON_MAX_CHARS])


def test_a_resume_frame_after_a_long_pause_runs_automation_again(served: Served):
    user_id, token, _ = served.user("alice", "PAPER1")

    converse(served, token, [{"type": "pause", "reason": LONG_REASON}, {"type": "resume"}], having("paused", 2))

    assert stored_pause(served, user_id) == (False, "")


def test_a_pause_frame_the_database_refuses_is_answered_as_not_applied_and_the_socket_stays_up(served: Served):
    user_id, token, _ = served.user("alice", "PAPER1")
    served.refuse_writes("refuse_pause", "BEFORE UPDATE ON users", "NEW.paused = 1")

    frames = converse(served, token, [{"type": "pause", "reason": "stop"}, {"type": "ping"}], having("pong"))

    [error] = [f for f in frames if f["type"] == "error"]
    assert error["message"].startswith("pause not applied: ")
    assert "refused by the test trigger" in error["message"]
    assert not [f for f in frames if f["type"] == "paused"], "no client is told of a pause that did not happen"
    assert stored_pause(served, user_id) == (False, "")


def test_a_pause_the_database_refuses_over_the_api_is_a_503_saying_it_was_not_applied_and_logged(
        served: Served, caplog: pytest.LogCaptureFixture):
    user_id, token, _ = served.user("alice", "PAPER1")
    served.refuse_writes("refuse_pause", "BEFORE UPDATE ON users", "NEW.paused = 1")
    caplog.set_level(logging.WARNING, logger="service.web.kill_switch")

    status, body = served.request("POST", "/api/pause", token, json={"reason": "stop"})

    assert status == 503
    assert body["error"].startswith("pause not applied: ") and "refused by the test trigger" in body["error"]
    assert stored_pause(served, user_id) == (False, "")
    [logged] = [r for r in caplog.records if r.name == "service.web.kill_switch"]
    assert logged.levelno == logging.WARNING and logged.user_id == user_id and logged.step == "pause"
