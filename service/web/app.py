"""The aiohttp application: routes of the WebSocket, the API, operations and the dashboard's static files."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from service.web import api, openapi
from service.web.context import CONTEXT, WebContext
from service.web.error_answers import json_errors
from service.web.idempotency import IDEMPOTENCY, IdempotencyKeys
from service.web.readiness import READINESS, Readiness
from service.web.ws import websocket

STATIC = Path(__file__).parent / "static"


async def dashboard(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def favicon(request: web.Request) -> web.FileResponse:
    """The icon browsers ask for at /favicon.ico, without a token: the dashboard's SVG icon."""
    return web.FileResponse(STATIC / "favicon.svg",
                            headers={"Content-Type": "image/svg+xml", "Cache-Control": "max-age=86400"})


def create_app(context: WebContext) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024, middlewares=[json_errors])
    app[CONTEXT] = context
    app[IDEMPOTENCY] = IdempotencyKeys(context.store)
    app[READINESS] = Readiness(context.settings.readiness_cache_s)
    app.router.add_get("/", dashboard)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_static("/static/", STATIC, append_version=True)
    app.router.add_get("/ws", websocket)
    app.router.add_post("/api/algo-place-batch-orders", api.place_batch_orders)
    app.router.add_get("/api/orders", api.list_orders)
    app.router.add_get("/api/pnl", api.list_pnl)
    app.router.add_get("/api/pnl/history", api.pnl_history)
    app.router.add_get("/api/accounts", api.list_accounts)
    app.router.add_get("/api/cycles", api.list_cycles)
    app.router.add_get("/api/cycles/{cycle_id}", api.cycle_detail)
    app.router.add_post("/api/accounts/{account_id}/session", api.renew_session)
    app.router.add_post("/api/pause", api.pause)
    app.router.add_post("/api/resume", api.resume)
    app.router.add_post("/api/fair-prices", api.set_fair_prices)
    app.router.add_delete("/api/fair-prices/{symbol}", api.clear_fair_price)
    app.router.add_get("/api/openapi.json", openapi.serve_document)
    app.router.add_get("/healthz", api.healthz)
    app.router.add_get("/readyz", api.readyz)
    app.router.add_get("/metrics", api.metrics)
    return app
