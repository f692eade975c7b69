"""Manual cycles are rate-limited per user: one `run_cycle` per `manual_cycle_every_s` starts a cycle; the
others get an error frame and write nothing to the event log. A real server on SQLite and MariaDB."""

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from messages.events import CycleStarted, TickSkipped
from service.web.context import WebSettings
from tests.web.conftest import Served, running_service
from tests.web.test_kill_switch import converse, having

WINDOW_S = 1.0


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def served_fast(request: pytest.FixtureRequest, tmp_path) -> Iterator[Served]:
    """A served service whose manual-cycle limit is one per `WINDOW_S`."""
    yield from running_service(request, tmp_path, WebSettings(manual_cycle_every_s=WINDOW_S))


def logged(served: Served, user_id: int) -> list:
    runtime = served.service.runtime
    served.io.call(runtime.event_log.flush())
    now = datetime.now(UTC)
    return [e.event for e in served.io.call(runtime.event_log.read_events(user_id, now - timedelta(hours=1),
                                                                         now + timedelta(hours=1)))]


def test_a_burst_of_run_cycle_frames_runs_one_cycle_and_refuses_the_rest_without_an_event(served: Served):
    user_id, token, _ = served.user("alice", "PAPER1")

    frames = converse(served, token, [{"type": "run_cycle"}] * 20,
                      lambda seen: having("cycle_summary")(seen) and having("error", 19)(seen))

    errors = [f["message"] for f in frames if f["type"] == "error"]
    assert errors == ["run_cycle refused: one manual cycle per 10 s; the next scheduled cycle runs as usual"] * 19
    events = logged(served, user_id)
    assert [type(e) for e in events if isinstance(e, CycleStarted | TickSkipped)] == [CycleStarted]


def test_the_limit_is_per_user_so_another_users_cycle_still_runs(served: Served):
    _, alice, _ = served.user("alice", "PAPER1")
    _, bob, _ = served.user("bob", "PAPER2")
    converse(served, alice, [{"type": "run_cycle"}], having("cycle_summary"))

    frames = converse(served, bob, [{"type": "run_cycle"}], having("cycle_summary"))

    assert not [f for f in frames if f["type"] == "error"]


def test_a_run_cycle_after_the_limits_window_runs_again(served_fast: Served):
    user_id, token, _ = served_fast.user("alice", "PAPER1")

    async def two_cycles_a_window_apart() -> list[dict]:
        seen: list[dict] = []
        async with aiohttp.ClientSession() as session, \
                session.ws_connect(f"{served_fast.url}/ws", headers={"Authorization": f"Bearer {token}"}) as ws:
            for _ in range(2):
                await ws.send_str(json.dumps({"type": "run_cycle"}))
                async with asyncio.timeout(20):
                    async for message in ws:
                        seen.append(json.loads(message.data))
                        if seen[-1]["type"] == "cycle_summary":
                            break
                await asyncio.sleep(WINDOW_S)  # the behaviour under test: the limit's window passing
        return seen

    frames = served_fast.io.call(two_cycles_a_window_apart())

    assert [f["type"] for f in frames].count("cycle_summary") == 2
    assert not [f for f in frames if f["type"] == "error"]
    assert [type(e) for e in logged(served_fast, user_id) if isinstance(e, CycleStarted)] == [CycleStarted] * 2
