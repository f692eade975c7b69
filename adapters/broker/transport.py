"""The HTTP exchange every broker adapter makes, whatever its wire format: one request over the service's one
`aiohttp.ClientSession` within the call's timeout, made in the pacer's turn, told to `observe`, its transport
failures raised as the port's typed errors (ambiguous only for a request that may have reached the broker).
A request that changes orders is first put to the send guard, in its turn, right before it goes out.
Also what adapters share around it: a wire decoding failure as `BrokerProtocolError`, and a batch of
placements sent one by one. Knows no route, header or body format.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import aiohttp
import msgspec

from adapters.broker.json_rows import WireError
from domain.broker import BrokerAccount, OrderRequest, PlaceAck
from domain.broker_errors import BrokerError, BrokerProtocolError, BrokerTimeout, BrokerUnavailable
from domain.ports.send_guard import SendGuard

log = logging.getLogger(__name__)
Decoded = TypeVar("Decoded")


class HttpRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One request as sent, for an account of user `user_id`. `where` ("{what} for {client_id}") starts every
    message; `endpoint` ("METHOD /path", no id or query) names it to `observe`; a `mutating` request (one that
    changes the user's orders) is ambiguous when unanswered, and goes out only when the send guard lets it."""

    where: str
    endpoint: str
    method: str
    url: str
    headers: dict[str, str]
    user_id: int
    params: dict[str, str] | None = None
    data: Any = None
    mutating: bool = False

    def __repr__(self) -> str:
        """Never the headers (a session token), the query or the body (keys, a request token, a checksum)."""
        return f"HttpRequest(where={self.where!r}, endpoint={self.endpoint!r}, mutating={self.mutating})"


class Transport:
    """Sends requests; `observe(endpoint, outcome, seconds)` is told every call's outcome (metrics). With a
    `send_guard`, a mutating request goes out only if the guard lets it (`SendWithheld` otherwise); without one
    (a process that holds no leases) every request goes out."""

    def __init__(self, session: aiohttp.ClientSession, *, timeout_s: float,
                 observe: Callable[[str, str, float], None] | None, send_guard: SendGuard | None = None) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._observe = observe
        self._send_guard = send_guard

    async def exchange(self, request: HttpRequest, turn: AbstractAsyncContextManager[None],
                       known: bytes = b"") -> tuple[int, bytes]:
        """Make the request in `turn`; the answer's HTTP status and body (`known` itself when the body is the
        same bytes), or the transport's typed failure. The guard is asked after the turn's wait, with nothing
        awaited between its answer and the request's start (whose timeout starts then too)."""
        maybe = " (it may have reached the broker)" if request.mutating else ""
        started, outcome = None, "error"
        try:
            async with turn:
                if request.mutating and self._send_guard is not None:
                    self._send_guard.check(request.user_id, request.where)
                started = time.monotonic()
                async with self._session.request(
                    request.method, request.url, params=request.params, data=request.data,
                    headers=request.headers, timeout=self._timeout,
                ) as response:
                    status = response.status
                    raw = await _body(response, known)
                    outcome = str(status)
        except TimeoutError:
            outcome = "timeout"
            raise BrokerTimeout(f"{request.where}: no answer within {self._timeout.total:g} s{maybe}",
                                ambiguous=request.mutating) from None
        except aiohttp.ClientConnectorError:
            raise BrokerUnavailable(f"{request.where}: cannot connect to the broker") from None
        except aiohttp.ClientError as exc:
            raise BrokerUnavailable(f"{request.where}: connection failed ({type(exc).__name__}){maybe}",
                                    ambiguous=request.mutating) from None
        finally:
            if self._observe is not None and started is not None:
                self._observe(request.endpoint, outcome, time.monotonic() - started)
        return status, raw


async def _body(response: aiohttp.ClientResponse, known: bytes) -> bytes:
    """The response's body, or `known` itself when it is the same bytes: compared chunk by chunk as it
    arrives, so an unchanged body is never joined into a copy."""
    chunks: list[bytes] = []
    offset = 0
    async for chunk, _ in response.content.iter_chunks():
        if offset >= 0 and known.startswith(chunk, offset):
            offset += len(chunk)
        else:
            offset = -1
        chunks.append(chunk)
    return known if offset == len(known) and known else b"".join(chunks)


def decoded(decode: Callable[[], Decoded], where: str, *, mutating: bool) -> Decoded:
    """`decode()`, its `WireError` raised as the `BrokerProtocolError` naming the field."""
    try:
        return decode()
    except WireError as exc:
        raise BrokerProtocolError(f"{where}: field {exc.field} does not decode ({exc.detail})", field=exc.field,
                                  ambiguous=mutating) from None


async def place_each(place: Callable[[BrokerAccount, OrderRequest], Awaitable[PlaceAck]], account: BrokerAccount,
                     requests: Sequence[OrderRequest]) -> list[PlaceAck | BrokerError]:
    """The port's `place_batch` for a broker that places one order a request: all sent concurrently (the
    adapter's pacer spaces them), one result per request in request order, a failure as its `BrokerError`."""
    outcomes = await asyncio.gather(*(place(account, r) for r in requests), return_exceptions=True)
    results: list[PlaceAck | BrokerError] = []
    for request, outcome in zip(requests, outcomes, strict=True):
        if isinstance(outcome, PlaceAck | BrokerError):
            results.append(outcome)
        elif isinstance(outcome, Exception):
            log.error("place %s for %s failed unexpectedly", request.tag, account.client_id, exc_info=outcome)
            results.append(BrokerError(
                f"place {request.tag} for {account.client_id}: unexpected failure "
                f"({type(outcome).__name__}); the order may exist at the broker",
                ambiguous=True,
            ))
        else:
            raise outcome
    return results
