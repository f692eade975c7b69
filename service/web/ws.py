"""`GET /ws`: a user's live connection. Authenticated before the upgrade; the first connection of a user
starts the user's monitor, the last one to close stops it (through the Supervisor). Client frames are
validated; a malformed one is answered with an `error` frame and the connection stays up. A user already
holding `max_connections_per_user` connections gets 429 (JSON) before the upgrade. A failure once
upgraded closes the connection with 1011 (`database unavailable` or `internal error`), logged.

With the fan-out, a connection follows its user's frames from whichever replica monitors the user; on a replica
that does not, its `hello` comes from the holder's state and its `run_cycle`, `pause` and `resume` go to the
holder (service/web/forward.py)."""

from __future__ import annotations

import logging
import uuid

import msgspec
from aiohttp import WSMsgType, web

from adapters.store.tokens import hash_token
from domain.errors import DatabaseError
from messages.frames import (
    ClientFrame,
    ErrorFrame,
    FanOutFrame,
    Hello,
    Pause,
    Ping,
    Pong,
    Resume,
    RunCycle,
    ServerFrame,
    Subscribe,
)
from service.fanout.frames import LINK_DOWN
from service.snapshots import state_frames
from service.web import forward, kill_switch
from service.web.auth import authenticated_user, bearer_token
from service.web.context import CONTEXT, WebContext
from service.web.manual_cycle import start_manual_cycle

log = logging.getLogger(__name__)
_decoder = msgspec.json.Decoder(ClientFrame)
_encoder = msgspec.json.Encoder()


async def websocket(request: web.Request) -> web.WebSocketResponse:
    context = request.app[CONTEXT]
    user_id = await authenticated_user(request, context.store)
    context.origins.check(request)
    if not context.hub.reserve(user_id):
        raise web.HTTPTooManyRequests(
            text=_encoder.encode({"error": f"too many connections: at most {context.hub.max_connections_per_user} "
                                           "WebSockets per user; close one first"}).decode(),
            content_type="application/json")
    socket = web.WebSocketResponse(heartbeat=context.settings.heartbeat_s,
                                   max_msg_size=context.settings.max_frame_bytes)
    try:
        await socket.prepare(request)
    finally:
        context.hub.unreserve(user_id)
    connection_id = uuid.uuid4().hex
    context.hub.add(user_id, connection_id, socket, hash_token(bearer_token(request) or ""), held=True,
                    transport=request.transport)
    log.info("client connected", extra={"user_id": user_id, "connection_id": connection_id})
    try:
        monitoring = await context.leases.client_joined(user_id)
        if context.fanout is not None:
            await context.fanout.frames.follow(user_id)
        await _greet(context, socket, user_id, monitoring)
        await context.hub.release(user_id, connection_id)
        await _send_snapshots(context, socket, user_id)
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                await _on_frame(context, socket, user_id, message.data)
            elif message.type == WSMsgType.BINARY:
                await _send(socket, ErrorFrame(message="binary frames are not accepted; send JSON text"))
    except DatabaseError as error:  # after the upgrade: a close code, not the middleware's HTTP answer
        log.warning("closing a client, the database failed: %s", error.message,
                    extra={"user_id": user_id, "connection_id": connection_id, "error_kind": error.kind.value})
        await socket.close(code=1011, message=b"database unavailable")
    except Exception:
        log.exception("closing a client after an unexpected error",
                      extra={"user_id": user_id, "connection_id": connection_id})
        await socket.close(code=1011, message=b"internal error")
    finally:
        context.hub.remove(user_id, connection_id)
        await context.leases.client_left(user_id)
        if context.fanout is not None:
            await context.fanout.frames.forget_if_idle(user_id)
        log.info("client disconnected", extra={"user_id": user_id, "connection_id": connection_id})
    return socket


async def _on_frame(context: WebContext, socket: web.WebSocketResponse, user_id: int, data: str) -> None:
    try:
        frame = _decoder.decode(data)
    except msgspec.DecodeError as error:
        await _send(socket, ErrorFrame(message=f"not a valid frame: {error}"))
        return
    match frame:
        case Ping():
            await _send(socket, Pong())
        case RunCycle():
            if context.leases.monitors(user_id):
                refused = start_manual_cycle(context, user_id)
            elif context.fanout is not None:
                refused = await forward.run_cycle(context, context.fanout, user_id)
            else:
                refused = ("run_cycle refused: another replica monitors you and runs your cycles; "
                           "its clients can ask it for one")
            if refused is not None:
                await _send(socket, ErrorFrame(message=refused))
        case Subscribe():
            await _send_snapshots(context, socket, user_id)
        case Pause(reason=reason):
            await _turn_kill_switch(context, socket, user_id, True, reason)
        case Resume():
            await _turn_kill_switch(context, socket, user_id, False)


async def _greet(context: WebContext, socket: web.WebSocketResponse, user_id: int, monitoring: bool) -> None:
    """`hello`: this replica's state when it monitors the user (or has no fan-out), else the holder's; and, when
    the link to the holder is down, a `fanout` frame saying so."""
    fanout = context.fanout
    state = await forward.holder_state(context, fanout, user_id) if fanout is not None and not monitoring else None
    now = context.clock.now()
    if state is not None:
        hello = Hello(user_id=user_id, server_time=now, monitoring=True, relayed=True, paused=state.paused,
                      pause_reason=state.pause_reason, interval_s=state.interval_s)
    else:
        cycle_context = await context.store.load_cycle_context(user_id)
        hello = Hello(user_id=user_id, server_time=now, monitoring=monitoring, paused=cycle_context.paused,
                      pause_reason=cycle_context.pause_reason, interval_s=context.interval_s)
    await _send(socket, hello)
    if fanout is not None and not monitoring and not fanout.bus.up:
        await _send(socket, FanOutFrame(up=False, message=LINK_DOWN))


async def _turn_kill_switch(context: WebContext, socket: web.WebSocketResponse, user_id: int, paused: bool,
                            reason: str = "") -> None:
    try:
        await kill_switch.turn(context, user_id, paused, reason)
    except kill_switch.SwitchFailed as failure:
        await _send(socket, ErrorFrame(message=failure.message))


async def _send_snapshots(context: WebContext, socket: web.WebSocketResponse, user_id: int) -> None:
    for frame in await state_frames(context.store, context.event_log, user_id, context.clock.now(),
                                    fair_price_max_age=context.fair_price_max_age):
        await _send(socket, frame)


async def _send(socket: web.WebSocketResponse, frame: ServerFrame) -> None:
    if not socket.closed:
        await socket.send_str(_encoder.encode(frame).decode())
