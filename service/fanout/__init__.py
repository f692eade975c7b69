"""Clients on any replica (README, *Replicas*): each user's frames, and the orders of a client connected to a
replica that does not hold the user's lease, travel between replicas over NATS. `bus.py` is the link,
`frames.py` the frames; the orders are forwarded by service/web/forward.py and answered by
service/web/holder.py."""

from __future__ import annotations

from dataclasses import dataclass

from service.fanout.bus import ReplicaBus
from service.fanout.frames import FrameRelay


@dataclass(frozen=True)
class FanOut:
    bus: ReplicaBus
    frames: FrameRelay
