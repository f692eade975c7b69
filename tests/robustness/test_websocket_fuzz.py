"""Fuzzed WebSocket frames (hypothesis): invalid JSON, wrong types, unknown frame types, binary frames — each is
answered with an `error` frame and the connection stays up (a `ping` after it still gets its `pong`); a frame
over the size limit closes only that connection (1009) while another user's connection goes on being served."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messages.frames import ClientFrame
from tests.web.conftest import Served

JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                           max_leaves=12)
WRONG_FRAMES = st.one_of(
    st.text(max_size=200).filter(lambda t: not _is_valid_frame(t)),
    JSON_VALUES.map(json.dumps).filter(lambda t: not _is_valid_frame(t)),
    st.fixed_dictionaries({"type": st.sampled_from(["pause", "ping", "run_cycle", "subscribe", "resume"])},
                          optional={"reason": JSON_VALUES}).map(json.dumps).filter(lambda t: not _is_valid_frame(t)),
)


def _is_valid_frame(text: str) -> bool:
    try:
        msgspec.json.decode(text, type=ClientFrame)
    except msgspec.DecodeError:
        return False
    return True


async def send_and_ping(url: str, token: str, frames: list[str | bytes]) -> list[dict]:
    """Send the frames, then a ping; return every frame received up to the pong."""
    seen: list[dict] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{url}/ws?token={token}") as ws:
        for frame in frames:
            await (ws.send_bytes(frame) if isinstance(frame, bytes) else ws.send_str(frame))
        await ws.send_str('{"type": "ping"}')
        async with asyncio.timeout(10):
            async for message in ws:
                seen.append(json.loads(message.data))
                if seen[-1]["type"] == "pong":
                    break
    return seen


def test_fuzzed_frames_each_get_an_error_and_the_connection_stays_up(served: Served):
    _, token, _ = served.user("fuzz", "F1")

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(frames=st.lists(WRONG_FRAMES | st.binary(min_size=1, max_size=64), min_size=1, max_size=5))
    def check(frames: list[str | bytes]) -> None:
        seen = served.io.call(send_and_ping(served.url, token, frames))
        errors = [f for f in seen if f["type"] == "error"]
        assert len(errors) == len(frames) and seen[-1]["type"] == "pong"

    check()


def test_a_huge_frame_closes_only_its_connection_and_other_users_are_still_served(served: Served):
    _, big, _ = served.user("big", "G1")
    _, other, _ = served.user("other", "O1")

    async def run() -> tuple[int | None, list[dict]]:
        async with aiohttp.ClientSession() as session, \
                session.ws_connect(f"{served.url}/ws?token={other}") as bystander, \
                session.ws_connect(f"{served.url}/ws?token={big}") as ws:
            await ws.send_str(json.dumps({"type": "pause", "reason": "x" * 200_000}))
            async with asyncio.timeout(10):
                while (await ws.receive()).type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    pass
            await bystander.send_str('{"type": "ping"}')
            frames = []
            async with asyncio.timeout(10):
                async for message in bystander:
                    frames.append(json.loads(message.data))
                    if frames[-1]["type"] == "pong":
                        break
            return ws.close_code, frames
    close_code, frames = served.io.call(run())
    assert close_code == 1009
    assert frames[-1]["type"] == "pong"
    assert not served.io.call(served.store.load_cycle_context(served.io.call(served.store.user_id("big")))).paused
    assert served.io.call(send_and_ping(served.url, big, []))[-1]["type"] == "pong"
