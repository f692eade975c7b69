"""The HTTP API, every route behind the user's API token: place a batch of entries, read orders, PnL and
cycles, renew a broker session, pause and resume; the desk's fair prices, behind an admin token; plus health,
readiness and metrics. A user only ever reaches their own accounts and orders."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from aiohttp import web

from domain.broker_errors import BrokerError, BrokerRejected, SessionExpired
from messages.api import (
    BIGINT_MAX,
    BatchAnswer,
    DeskFairPriceCleared,
    DeskFairPricesAnswer,
    LoginNeededAnswer,
    PauseRequest,
    SessionAnswer,
    SessionRequest,
)
from replay.timeline import cycle_timeline
from service import recent
from service.account_view import accounts_frame
from service.desk_prices import DeskPricesRefused, desk_prices
from service.metrics import CONTENT_TYPE
from service.snapshots import orders_frame, pnl_frame
from service.web import forward, idempotency, kill_switch, replica
from service.web.auth import authenticated_admin, authenticated_user
from service.web.batch import RawBatch, place_batch
from service.web.context import CONTEXT, WebContext
from service.web.readiness import READINESS

log = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()


def _json(value: Any, status: int = 200) -> web.Response:
    return web.Response(body=_encoder.encode(value), status=status, content_type="application/json")


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


async def _body(request: web.Request, schema: type) -> Any:
    return decoded_body(await request.read(), schema)


def decoded_body(raw: bytes, schema: type) -> Any:
    """The body as `schema`; HTTPBadRequest (JSON) when it is not one."""
    try:
        return msgspec.json.decode(raw or b"{}", type=schema)
    except msgspec.DecodeError as error:
        raise web.HTTPBadRequest(text=_encoder.encode({"error": f"invalid request: {error}"}).decode(),
                                 content_type="application/json") from None


async def _user(request: web.Request) -> tuple[WebContext, int]:
    context = request.app[CONTEXT]
    return context, await authenticated_user(request, context.store)


async def _all_accounts(context: WebContext, user_id: int) -> tuple[int, ...]:
    cycle_context = await context.store.load_cycle_context(user_id)
    return cycle_context.account_ids + cycle_context.awaiting_session


# --- orders -----------------------------------------------------------------------------------------


async def place_batch_orders(request: web.Request) -> web.Response:
    """Placed here when no other live replica holds the user's lease; else refused (503), or with the fan-out
    forwarded to that replica, whose answer it is."""
    context, user_id = await _user(request)
    holder = await replica.writer_elsewhere(context, user_id)
    if holder is not None and context.fanout is None:
        return replica.refusal(context, holder)
    key = idempotency.key_of(request)
    body = await request.read()
    batch: RawBatch = decoded_body(body, RawBatch)
    if holder is not None and context.fanout is not None:
        return await forward.batch(context, context.fanout, holder, user_id, key, body)
    return await batch_answer(context, request.app[idempotency.IDEMPOTENCY], user_id, key, body, batch)


async def batch_answer(context: WebContext, keys: idempotency.IdempotencyKeys, user_id: int, key: str | None,
                       body: bytes, batch: RawBatch) -> web.Response:
    """Place `batch` (sent as `body`), under its Idempotency-Key `key` when it has one."""
    if key is None:
        return await _place_batch(context, user_id, batch)
    return await keys.run(user_id, key, idempotency.request_digest(body), context.clock.now(),
                          lambda: _place_batch(context, user_id, batch))


async def _place_batch(context: WebContext, user_id: int, batch: RawBatch) -> web.Response:
    """Refused whole (nothing written) when over the rate limit, paused, or when this replica cannot hold the
    user's lease for the placement; else one result per order."""
    if not context.batch_limiter.allow(user_id):
        return _error(429, "too many batch requests; try again in a minute")
    cycle_context = await context.store.load_cycle_context(user_id)
    if cycle_context.paused:
        return _error(409, f"automation is paused ({cycle_context.pause_reason}); resume before placing orders")
    async with context.leases.placing(user_id) as held:
        if not held:
            holder = await replica.writer_elsewhere(context, user_id)
            return replica.refusal(context, holder) if holder is not None else _error(
                503, "this replica could not take your lease to place the orders (the database did not answer in "
                     "time); nothing was written or sent; try again")
        results = await place_batch(context, user_id, batch.orders, cycle_context)
    return _json(BatchAnswer(results=tuple(results)))


async def list_orders(request: web.Request) -> web.Response:
    context, user_id = await _user(request)
    frame = await orders_frame(context.store, user_id, await _all_accounts(context, user_id))
    return _json({"orders": frame.orders})


async def list_pnl(request: web.Request) -> web.Response:
    context, user_id = await _user(request)
    frame = await pnl_frame(context.store, user_id, await _all_accounts(context, user_id), context.clock.now(),
                            context.fair_price_max_age)
    return _json({"rows": frame.rows})


async def pnl_history(request: web.Request) -> web.Response:
    context, user_id = await _user(request)
    return _json(await recent.pnl_history(context.event_log, user_id, context.clock.now()))


async def list_accounts(request: web.Request) -> web.Response:
    context, user_id = await _user(request)
    return _json(await accounts_frame(context.store, user_id, context.clock.now()))


async def list_cycles(request: web.Request) -> web.Response:
    context, user_id = await _user(request)
    try:
        limit = min(max(int(request.query.get("limit", "20")), 1), 500)
    except ValueError:
        return _error(400, "limit must be a whole number")
    return _json({"cycles": await context.event_log.cycles(user_id, limit=limit)})


async def cycle_detail(request: web.Request) -> web.Response:
    """One of the caller's cycles as a checked timeline; another user's cycle id is simply not found."""
    context, user_id = await _user(request)
    timeline = await cycle_timeline(context.event_log, user_id, request.match_info["cycle_id"], context.clock.now())
    if timeline is None:
        return _error(404, "no such cycle")
    return _json(timeline)


# --- accounts and the kill switch ------------------------------------------------------------------


async def renew_session(request: web.Request) -> web.Response:
    context, user_id = await _user(request)
    try:
        account_id = int(request.match_info["account_id"])
    except ValueError:
        return _error(404, "no such account")
    if not 1 <= account_id <= BIGINT_MAX:
        return _error(404, "no such account")
    body: SessionRequest = await _body(request, SessionRequest)
    accounts = await context.store.broker_accounts(user_id, (account_id,))
    if not accounts:
        return _error(404, "no such account")
    if body.token is not None and body.request_token is not None:
        return _error(400, "give a token or a request_token, not both")
    account = accounts[0]
    token = body.token
    if token is None and body.request_token is None:
        try:
            login_url = context.broker.login_url(account)
        except BrokerError as error:
            return _error(400, error.message)
        if login_url:
            return _json(LoginNeededAnswer(error=f"{account.broker} sessions start with a login by hand: log in at "
                                                 f"login_url, then send the request_token it gives",
                                           login_url=login_url), 409)
    if body.request_token is not None:
        try:
            token = await context.broker.open_session(account, body.request_token)
        except (BrokerRejected, SessionExpired) as error:
            return _error(400, f"the broker refused the request token: {error.message}")
        except BrokerError as error:
            return _error(502, f"broker login failed: {error.message}")
    elif token is None:
        try:
            token = await context.broker.login(account)
        except BrokerError as error:
            return _error(502, f"broker login failed: {error.message}")
    await context.store.set_account_token(user_id, account_id, token, fenced=False)  # the user's own login
    return _json(SessionAnswer(account_id=account_id, session_needed=False))


async def pause(request: web.Request) -> web.Response:
    context, user_id = await _user(request)
    body: PauseRequest = await _body(request, PauseRequest)
    try:
        reason = await kill_switch.turn(context, user_id, True, body.reason)
    except kill_switch.SwitchFailed as failure:
        return _error(503, failure.message)
    return _json({"paused": True, "reason": reason})


async def resume(request: web.Request) -> web.Response:
    context, user_id = await _user(request)
    try:
        await kill_switch.turn(context, user_id, False)
    except kill_switch.SwitchFailed as failure:
        return _error(503, failure.message)
    return _json({"paused": False})


# --- the desk's fair prices (an admin token) -------------------------------------------------------
# Fair prices are no user's, so no user's lease (the replica rule) concerns them: any replica writes them, in
# one transaction, to the one table every replica reads.


async def set_fair_prices(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    admin = await authenticated_admin(request, context.store)
    now = context.clock.now()
    try:
        prices = desk_prices(await request.read(), now)
    except DeskPricesRefused as refused:
        return _error(400, refused.message)
    await context.store.upsert_desk_prices(prices)
    log.info("%d desk fair price(s) written with admin token %r", len(prices), admin, extra={"step": "fair_prices"})
    return _json(DeskFairPricesAnswer(written=len(prices), updated_at=now))


async def clear_fair_price(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    admin = await authenticated_admin(request, context.store)
    symbol = request.match_info["symbol"]
    if not await context.store.clear_desk_price(symbol):
        return _error(404, f"the desk has no fair price of {symbol!r}")
    log.info("desk fair price of %r handed back to the feed with admin token %r", symbol, admin,
             extra={"step": "fair_prices"})
    return _json(DeskFairPriceCleared(symbol=symbol))


# --- operations -------------------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """`{"ready": bool}` only, 503 when not ready (see service/web/readiness.py)."""
    ready = await request.app[READINESS].ready(request.app[CONTEXT])
    return _json({"ready": ready}, 200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    return web.Response(body=context.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})
