"""A user's frames on every replica that has clients of the user (README, *Replicas*).

Every frame the hub sends its own clients is published on the user's subject (`<prefix>.user.<id>.frames`):
in practice by the replica holding the user's lease, which alone runs the user's cycles and turns the kill
switch. Each replica subscribes to a user's subject while it has clients of that user (the holder too, so that
a take-over by another replica reaches them), and hands what arrives to those clients only; the bus's no_echo
keeps a replica's own frames from coming back to it. A frame larger than the bus carries travels as a
`Resync`, and so does the holder's word, when its link comes back, that frames were lost meanwhile: the
receivers send their clients the current state read from the database instead. When this replica's link goes
down, its clients of users another replica monitors are told with a `fanout` frame; when it comes back,
again, followed by the current state.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import Union

import msgspec
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from domain.errors import AdapterError
from messages.frames import FanOutFrame, ServerFrame
from messages.replicas import Resync
from service.fanout.bus import ReplicaBus
from service.user_turns import UserTurns
from service.web.hub import Hub

log = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()
_relayed = msgspec.json.Decoder(Union[ServerFrame, Resync])  # noqa: UP007 - a union of a union alias

StateFrames = Callable[[int], Awaitable[Sequence[ServerFrame]]]
"""user_id -> everything the page shows, as it is now, read from the database."""

LINK_DOWN = ("the link to the replica monitoring you (the fan-out) is down: its frames do not reach this "
             "connection until it is back (a connection to that replica gets them)")
LINK_BACK = ("the link to the replica monitoring you is back; frames sent while it was down are not sent again, "
             "the current state is")
HOLDER_BACK = ("the replica monitoring you was cut off from the others; frames it sent meanwhile did not reach "
               "this connection, the current state does")


class FrameRelay:
    def __init__(self, bus: ReplicaBus, hub: Hub, state_frames: StateFrames, monitors: Callable[[int], bool],
                 monitored_users: Callable[[], Iterable[int]]) -> None:
        self._bus = bus
        self._hub = hub
        self._state_frames = state_frames
        self._monitors = monitors
        self._monitored_users = monitored_users
        self._subscriptions: dict[int, Subscription] = {}
        self._turns = UserTurns()
        bus.on_link(self._on_link)

    async def publish(self, user_id: int, frame: ServerFrame, payload: str) -> None:
        """The hub's relay: the frame to the user's clients on other replicas (a `Resync` if it is too large)."""
        data = payload.encode()
        if len(data) > self._bus.max_payload:
            kind = type(frame).__struct_config__.tag
            log.warning("fan-out: a %s frame of %d bytes is over the bus's %d; sent as a resync", kind, len(data),
                        self._bus.max_payload, extra={"user_id": user_id})
            data = _encoder.encode(Resync(message=(
                f"a {kind} frame of {len(data)} bytes was larger than the replicas' link carries "
                f"({self._bus.max_payload} bytes); the current state, read from the database, is sent instead")))
        await self._bus.publish(self._bus.subjects.frames(user_id), data)

    async def follow(self, user_id: int) -> None:
        """Subscribe to the user's frames if this replica has clients of the user; return once the server has the
        subscription (or the link is down: it subscribes when the link comes up)."""
        await self._settle(user_id)

    async def forget_if_idle(self, user_id: int) -> None:
        """Unsubscribe from the user's frames if this replica has no client of the user left."""
        await self._settle(user_id)

    async def close(self) -> None:
        for subscription in list(self._subscriptions.values()):
            await self._bus.unsubscribe(subscription)
        self._subscriptions.clear()

    async def _settle(self, user_id: int) -> None:
        async with self._turn(user_id):
            wanted = self._hub.connections(user_id) > 0
            subscription = self._subscriptions.get(user_id)
            if wanted and subscription is None:
                subscription = await self._bus.subscribe(self._bus.subjects.frames(user_id),
                                                         partial(self._on_message, user_id))
                if subscription is not None:
                    self._subscriptions[user_id] = subscription
            elif not wanted and subscription is not None:
                del self._subscriptions[user_id]
                await self._bus.unsubscribe(subscription)

    def _turn(self, user_id: int) -> contextlib.AbstractAsyncContextManager[None]:
        """One subscribe or unsubscribe of a user at a time, so the last one settles it."""
        return self._turns.turn(user_id)

    async def _on_message(self, user_id: int, message: Msg) -> None:
        try:
            frame = _relayed.decode(message.data)
        except msgspec.DecodeError as error:
            log.warning("fan-out: a message for user %s is not a frame, dropped: %s", user_id, error,
                        extra={"user_id": user_id})
            return
        if isinstance(frame, Resync):
            await self._send_state(user_id, frame.message)
        else:
            await self._hub.send_relayed(user_id, message.data.decode())

    async def _on_link(self, up: bool) -> None:
        relayed_users = [user_id for user_id in self._hub.users() if not self._monitors(user_id)]
        if not up:
            notice = _encoder.encode(FanOutFrame(up=False, message=LINK_DOWN)).decode()
            for user_id in relayed_users:
                await self._hub.send_relayed(user_id, notice)
            return
        for user_id in self._hub.users():
            await self._settle(user_id)
        for user_id in relayed_users:
            await self._send_state(user_id, LINK_BACK)
        resync = _encoder.encode(Resync(message=HOLDER_BACK))
        for user_id in self._monitored_users():
            await self._bus.publish(self._bus.subjects.frames(user_id), resync)

    async def _send_state(self, user_id: int, why: str) -> None:
        """A `fanout` frame saying `why`, then the user's current state, to the user's clients here."""
        try:
            frames = await self._state_frames(user_id)
            notice = FanOutFrame(up=True, message=f"{why}: it follows")
        except AdapterError as error:
            log.warning("fan-out: the state of user %s not read for its clients: %s", user_id, error.message,
                        extra={"user_id": user_id})
            frames = ()
            notice = FanOutFrame(up=True, message=f"{why}, but it could not be read now ({error.message}): "
                                                  "send subscribe for it")
        for frame in (notice, *frames):
            await self._hub.send_relayed(user_id, _encoder.encode(frame).decode())
