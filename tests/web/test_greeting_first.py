"""`hello` is the first frame every connection receives, and nothing sent to the user while it was being greeted
is lost: the hub holds a new connection's frames until it is greeted. A connection that takes the user's
monitoring back starts a cycle at once, labelled `connect`. Real aiohttp servers; the service on SQLite and
MariaDB."""

import asyncio
import json
from datetime import UTC, datetime

import aiohttp
from aiohttp import web

from messages.frames import CycleStartedFrame, ErrorFrame
from service.web.hub import Hub
from tests.cycle.conftest import wait_for
from tests.web.conftest import Served
from tests.web.test_manual_cycles import logged
from tests.web.test_service_over_sockets import frames_until

AT = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)


def test_a_connect_that_takes_the_monitoring_back_starts_a_cycle_whose_frames_follow_hello(served: Served):
    user_id, token, _ = served.user("alice", "PAPER1")
    frames_until(served, token, "hello")
    wait_for(lambda: not served.service.leases.monitors(user_id))

    frames = frames_until(served, token, "cycle_summary")

    assert frames[0]["type"] == "hello" and frames[0]["monitoring"] is True
    [started] = [f for f in frames if f["type"] == "cycle_started"]
    assert started["trigger"] == "connect"
    assert frames[-1]["summary"]["cycle_id"] == started["cycle_id"]
    assert [e.trigger for e in logged(served, user_id) if type(e).__name__ == "CycleStarted"] == ["connect"]


def test_a_cycle_a_client_asks_for_is_labelled_manual(served: Served):
    _, token, _ = served.user("bob", "PAPER2")

    frames = frames_until(served, token, "cycle_summary", send=[{"type": "run_cycle"}])

    assert [f["trigger"] for f in frames if f["type"] == "cycle_started"] == ["manual"]


async def test_a_held_connection_gets_its_greeting_first_then_every_frame_sent_meanwhile_in_order():
    hub, greet, connected = Hub(), asyncio.Event(), asyncio.Event()

    async def websocket(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        hub.add(1, "c1", socket, held=True)
        connected.set()
        await greet.wait()
        await socket.send_str(json.dumps({"type": "hello"}))
        await hub.release(1, "c1")
        async for _ in socket:
            pass
        hub.remove(1, "c1")
        return socket

    app = web.Application()
    app.router.add_get("/ws", websocket)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session, session.ws_connect(f"http://127.0.0.1:{port}/ws") as ws:
            await connected.wait()
            held = [await hub.send(1, CycleStartedFrame(cycle_id=f"c-{n}", at=AT, trigger="connect"))
                    for n in (1, 2)]
            greet.set()
            after = await hub.send(1, ErrorFrame(message="after the greeting"))
            received = [json.loads((await ws.receive()).data) for _ in range(4)]
    finally:
        await runner.cleanup()

    assert held == [1, 1] and after == 1, "a held connection counts as one the frame goes to"
    assert [(f["type"], f.get("cycle_id") or f.get("message")) for f in received] == [
        ("hello", None), ("cycle_started", "c-1"), ("cycle_started", "c-2"), ("error", "after the greeting")]

