"""The replica rule of the order API: a replica places a user's orders only when no other live replica holds
the user's lease (the one holding it monitors the user and alone may write for them). Anywhere else, without
the fan-out, a request that would place orders is refused before anything is read from its body: HTTP 503, a
`Retry-After` of the seconds left on the holder's lease (at least 1) and a JSON reason; nothing is written and
nothing is sent. With the fan-out the request goes to the holder instead (service/web/forward.py), and is
refused the same way, with its own reason, only when it surely did not reach it. It only reads the lease; it
never takes one.
"""

from __future__ import annotations

import math

import msgspec
from aiohttp import web

from adapters.store.port import Lease
from service.web.context import WebContext

NOT_THE_WRITER = "lease_held_elsewhere"
"""The machine-readable `reason` of the refusal without the fan-out."""


async def writer_elsewhere(context: WebContext, user_id: int) -> Lease | None:
    """The lease of the other live replica that alone may place the user's orders; None when this one may."""
    return await context.store.lease_elsewhere(user_id)


def refusal(context: WebContext, lease: Lease, reason: str = NOT_THE_WRITER,
            why: str = "another replica monitors this user and alone places their orders") -> web.Response:
    """The 503 answer to a request this replica may not place, nothing written and nothing sent: `why`."""
    left_s = (lease.expires_at - context.clock.now()).total_seconds() if lease.expires_at else 1.0
    retry_after_s = max(1, math.ceil(left_s))
    body = {"error": f"{why}; nothing was written or sent. Send the request to that replica, or retry here in "
                     f"{retry_after_s} s (accepted then if that replica has stopped)",
            "reason": reason, "retry_after_s": retry_after_s}
    return web.Response(body=msgspec.json.encode(body), status=503, content_type="application/json",
                        headers={"Retry-After": str(retry_after_s)})
