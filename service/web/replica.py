"""The replica rule of the order API: a replica places a user's orders only when no other live replica holds
the user's lease (the one holding it monitors the user and alone may write for them). Anywhere else a
request that would place orders is refused before anything is read from its body: HTTP 503, a
`Retry-After` of the seconds left on the holder's lease (at least 1) and a JSON reason; nothing is
written and nothing is sent. It only reads the lease; it never takes one.
"""

from __future__ import annotations

import math

import msgspec
from aiohttp import web

from service.web.context import WebContext

NOT_THE_WRITER = "lease_held_elsewhere"
"""The machine-readable `reason` of the refusal."""


async def refusal_unless_writer(context: WebContext, user_id: int) -> web.Response | None:
    """None when this replica may place the user's orders; else the 503 answer to send."""
    lease = await context.store.lease_elsewhere(user_id)
    if lease is None:
        return None
    left_s = (lease.expires_at - context.clock.now()).total_seconds() if lease.expires_at else 1.0
    retry_after_s = max(1, math.ceil(left_s))
    body = {"error": "another replica monitors this user and alone places their orders; nothing was written or "
                     f"sent. Send the request to that replica, or retry here in {retry_after_s} s (accepted then "
                     "if that replica has stopped)",
            "reason": NOT_THE_WRITER, "retry_after_s": retry_after_s}
    return web.Response(body=msgspec.json.encode(body), status=503, content_type="application/json",
                        headers={"Retry-After": str(retry_after_s)})
