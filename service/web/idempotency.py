"""`Idempotency-Key` on the batch API: the first request with a key claims it in the database before it writes
or sends anything, and its answer is kept; a repeat within a day gets that answer and sends nothing, and one
that arrives while the first still runs waits for it. The same key with a different request is refused (422).
A first request refused before it wrote anything (any answer but 200) frees its key, so a retry runs anew.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal

import msgspec
from aiohttp import web

from adapters.store.port import IdempotencyKey, Store
from domain.errors import AdapterError

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
KEY_MAX_CHARS = 128
KEPT_FOR = timedelta(days=1)
WAIT_FOR_FIRST_S = 60.0
"""How long a repeat waits for the first request's answer before it is told the first has not answered."""
POLL_S = 0.25
"""How often a repeat looks for the answer of a first request that another process is running."""

_encoder = msgspec.json.Encoder()
_exact = msgspec.json.Decoder(float_hook=Decimal)


def key_of(request: web.Request) -> str | None:
    """The request's key: 1 to 128 visible ASCII characters; HTTPBadRequest for anything else."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= KEY_MAX_CHARS or not all("!" <= char <= "~" for char in key):
        raise _refusal(web.HTTPBadRequest, f"{HEADER} must be 1 to {KEY_MAX_CHARS} visible ASCII characters")
    return key


def request_digest(body: bytes) -> str:
    """The SHA-256 of a JSON body written canonically: key order and spacing do not matter, and numbers keep
    every digit they were written with."""
    return hashlib.sha256(msgspec.json.encode(_exact.decode(body), order="sorted")).hexdigest()


class IdempotencyKeys:
    """Runs requests under their keys; wakes this process's waiters as soon as a first request answers."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._answered: dict[tuple[int, str], asyncio.Event] = {}

    async def run(self, user_id: int, key: str, digest: str, now: datetime,
                  handle: Callable[[], Awaitable[web.Response]]) -> web.Response:
        deadline = time.monotonic() + WAIT_FOR_FIRST_S
        while True:
            record: IdempotencyKey | None = await self._store.claim_idempotency_key(
                user_id, key, digest, now - KEPT_FOR)
            if record.claimed:
                return await self._first(user_id, record, handle)
            if record.request_sha256 != digest:
                raise _refusal(web.HTTPUnprocessableEntity,
                               f"{HEADER} {key!r} was used for a different request; use a new key")
            while record is not None and record.answer is None:
                if time.monotonic() >= deadline:
                    raise _refusal(web.HTTPConflict,
                                   f"the request with {HEADER} {key!r} has not answered yet (it is still running, "
                                   "or its process stopped); see GET /api/orders, or retry later")
                await self._wait(user_id, key, deadline)
                record = await self._store.idempotency_key(user_id, key)
            if record is not None:
                return web.Response(body=record.answer, status=record.answer_status or 200,
                                    content_type="application/json", headers={"Idempotent-Replayed": "true"})

    async def _first(self, user_id: int, claim: IdempotencyKey,
                     handle: Callable[[], Awaitable[web.Response]]) -> web.Response:
        answered = self._answered[(user_id, claim.key)] = asyncio.Event()
        try:
            try:
                response = await handle()
            except web.HTTPException:
                await self._keep(self._store.release_idempotency_key(user_id, claim), user_id, claim)
                raise
            if response.status == 200:
                await self._keep(self._store.answer_idempotency_key(user_id, claim, response.status, response.body),
                                 user_id, claim)
            else:
                await self._keep(self._store.release_idempotency_key(user_id, claim), user_id, claim)
            return response
        finally:
            answered.set()
            del self._answered[(user_id, claim.key)]

    async def _keep(self, write: Awaitable[None], user_id: int, claim: IdempotencyKey) -> None:
        """The write of the key's outcome; a failure is logged, never turned into another answer."""
        try:
            await write
        except AdapterError as error:
            log.warning("%s %r: its outcome could not be written: %s", HEADER, claim.key, error.message,
                        extra={"user_id": user_id, "step": "place_batch"})

    async def _wait(self, user_id: int, key: str, deadline: float) -> None:
        """Until this process's first request answers, or one poll for another process's."""
        answered = self._answered.get((user_id, key))
        left = max(0.0, deadline - time.monotonic())
        if answered is None:
            await asyncio.sleep(min(POLL_S, left))
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(answered.wait(), timeout=left)


def _refusal(kind: type[web.HTTPException], message: str) -> web.HTTPException:
    return kind(text=_encoder.encode({"error": message}).decode(), content_type="application/json")


IDEMPOTENCY = web.AppKey("idempotency", IdempotencyKeys)
