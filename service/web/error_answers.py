"""The aiohttp middleware that turns a failure no handler answered into JSON: a database that refused or
lost a statement (`DatabaseError`) is a 503 `{"error", "request_id"}`, logged at WARNING with the database's
message; any other unexpected exception a 500 of the same shape, logged at ERROR with its traceback. The
request id is also the answer's `X-Request-Id` header and the log line's `request_id`, so a caller's report
finds its log line. Answers a handler chose (its HTTP errors included) pass unchanged."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

import msgspec
from aiohttp import web

from domain.errors import DatabaseError

log = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()

DATABASE_UNAVAILABLE = "the database is unavailable; try again later"
INTERNAL_ERROR = "internal error"


def _answer(status: int, message: str, request_id: str) -> web.Response:
    return web.Response(body=_encoder.encode({"error": message, "request_id": request_id}), status=status,
                        content_type="application/json", headers={"X-Request-Id": request_id})


@web.middleware
async def json_errors(request: web.Request,
                      handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except DatabaseError as error:
        request_id = uuid.uuid4().hex
        log.warning("%s %s: %s", request.method, request.path, error.message,
                    extra={"request_id": request_id, "error_kind": error.kind.value})
        return _answer(503, DATABASE_UNAVAILABLE, request_id)
    except Exception:
        request_id = uuid.uuid4().hex
        log.exception("%s %s failed", request.method, request.path, extra={"request_id": request_id})
        return _answer(500, INTERNAL_ERROR, request_id)
