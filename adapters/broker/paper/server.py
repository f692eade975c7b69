"""The paper broker as one aiohttp application: its faces (XTS under `/interactive/...`, XTS Market Data under
`/apimarketdata/...` with its Socket.IO stream, Kite at the host root) over one `Simulator`, and the `/_sim/`
control API (README.md, Paper broker).

Owns the control API and the assembly; each face owns its wire (`xts_routes.py`, `market_data.py`,
`kite_routes.py`), `calls.py` what every trading request goes through. Control answers never carry an access
token or a key; `kite_request_token` answers a single-use request token, what a login by hand would show.
"""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from adapters.broker.paper import kite_routes
from adapters.broker.paper.calls import ORDER_ROUTES, STATE, ChaosControl, Face, FaultControl, PaperState, paper_route
from adapters.broker.paper.market_data import MD, DropKind, attach_market_data
from adapters.broker.paper.md_sessions import DEFAULT_SUBSCRIPTION_CAP
from adapters.broker.paper.simulator import Fill, LoginRefused, OrderInvalid, RejectRule, Simulator
from adapters.broker.paper.xts_routes import XTS_ROUTES, XtsFace

# --- control API bodies -------------------------------------------------------------------------------


class PriceControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    symbol: str
    ltp: Decimal
    instrument_id: int | None = None
    segment: str = "NSECM"
    bid: Decimal | None = None
    """The best bid; not given: the default spread below `ltp`."""
    ask: Decimal | None = None
    """The best ask; not given: the default spread above `ltp`."""


class PricesControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    prices: list[PriceControl]
    """Moved in order, each as `/_sim/price` moves one."""


class SpreadControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    ticks: int


class MdDropControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    token: str | None = None
    """End only the sockets of this market data token (default: every socket)."""
    how: DropKind = "lost"


class MdDownControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    seconds: float


class RejectControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    rule: RejectRule | None = None


class LatencyControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    min_ms: int = 0
    max_ms: int = 0


class LiquidityControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    max_fill_qty: int | None = None


class ExpireControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    account: str
    secret_key: str | None = None


class KiteRequestTokenControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    api_key: str


# --- /_sim/ control API ---------------------------------------------------------------------------------


async def _control_body(request: web.Request, body_type: type[Any]) -> Any:
    try:
        return msgspec.json.decode(await request.read() or b"{}", type=body_type)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None


def _control_ok(payload: Any) -> web.Response:
    return web.Response(body=msgspec.json.encode(payload), content_type="application/json")


async def sim_price(request: web.Request) -> web.Response:
    control: PriceControl = await _control_body(request, PriceControl)
    simulator = request.app[STATE].simulator
    try:
        fills = _move(simulator, control)
    except OrderInvalid as exc:
        raise web.HTTPBadRequest(text=exc.reason) from None
    instrument = simulator.instrument_by_symbol(control.segment, control.symbol)
    assert instrument is not None
    return _control_ok({"symbol": control.symbol, "ltp": str(control.ltp), "bid": str(instrument.bid),
                        "ask": str(instrument.ask), "fills": len(fills)})


async def sim_prices(request: web.Request) -> web.Response:
    """Many price moves in one request (a benchmark's market): each applied in order and published as
    `/_sim/price` does; the first one refused stops the rest, and those before it stay moved."""
    control: PricesControl = await _control_body(request, PricesControl)
    simulator = request.app[STATE].simulator
    fills = 0
    for index, price in enumerate(control.prices):
        try:
            fills += len(_move(simulator, price))
        except OrderInvalid as exc:
            raise web.HTTPBadRequest(text=f"prices[{index}] {price.symbol}: {exc.reason}; {index} moved before "
                                          "it") from None
    return _control_ok({"moved": len(control.prices), "fills": fills})


def _move(simulator: Simulator, price: PriceControl) -> list[Fill]:
    """One price move as `/_sim/price` and `/_sim/prices` state it; its fills."""
    return simulator.set_price(price.symbol, price.ltp, instrument_id=price.instrument_id, segment=price.segment,
                               bid=price.bid, ask=price.ask)


async def sim_spread(request: web.Request) -> web.Response:
    """The default spread, in ticks each side of the last price; every instrument is quoted at it anew."""
    control: SpreadControl = await _control_body(request, SpreadControl)
    try:
        request.app[STATE].simulator.set_spread(control.ticks)
    except OrderInvalid as exc:
        raise web.HTTPBadRequest(text=exc.reason) from None
    return _control_ok({"ticks": control.ticks})


async def sim_md_drop(request: web.Request) -> web.Response:
    control: MdDropControl = await _control_body(request, MdDropControl)
    return _control_ok({"dropped": await request.app[MD].drop(control.token, control.how)})


async def sim_md_down(request: web.Request) -> web.Response:
    """Close every market data socket and refuse new ones for `seconds` (REST stays up)."""
    control: MdDownControl = await _control_body(request, MdDownControl)
    if control.seconds < 0:
        raise web.HTTPBadRequest(text="seconds must not be negative")
    return _control_ok({"dropped": await request.app[MD].down_for(control.seconds), "seconds": control.seconds})


async def sim_faults(request: web.Request) -> web.Response:
    control: FaultControl = await _control_body(request, FaultControl)
    if control.kind == "accept_then_500" and control.route not in (*ORDER_ROUTES, "*"):
        raise web.HTTPBadRequest(text="accept_then_500 applies to place, modify and cancel")
    return _control_ok({"pending_faults": request.app[STATE].add_fault(control)})


async def sim_chaos(request: web.Request) -> web.Response:
    """POST sets the chaos mode; GET (and POST) answer it with the faults it has injected so far, by kind."""
    state = request.app[STATE]
    if request.method == "POST":
        control: ChaosControl = await _control_body(request, ChaosControl)
        if not 0 <= control.rate <= 1:
            raise web.HTTPBadRequest(text="rate must be between 0 and 1")
        state.chaos = control
    return _control_ok({"chaos": state.chaos, "injected": state.chaos_injected})


async def sim_reject(request: web.Request) -> web.Response:
    control: RejectControl = await _control_body(request, RejectControl)
    simulator = request.app[STATE].simulator
    if control.rule is None:
        simulator.reject_rules.clear()
    else:
        simulator.reject_rules.append(control.rule)
    return _control_ok({"rules": simulator.reject_rules})


async def sim_latency(request: web.Request) -> web.Response:
    control: LatencyControl = await _control_body(request, LatencyControl)
    if not 0 <= control.min_ms <= control.max_ms:
        raise web.HTTPBadRequest(text="need 0 <= min_ms <= max_ms")
    request.app[STATE].latency_ms = (control.min_ms, control.max_ms)
    return _control_ok({"min_ms": control.min_ms, "max_ms": control.max_ms})


async def sim_liquidity(request: web.Request) -> web.Response:
    control: LiquidityControl = await _control_body(request, LiquidityControl)
    request.app[STATE].simulator.max_fill_qty = control.max_fill_qty
    return _control_ok({"max_fill_qty": control.max_fill_qty})


async def sim_expire(request: web.Request) -> web.Response:
    control: ExpireControl = await _control_body(request, ExpireControl)
    return _control_ok({"account": control.account,
                        "sessions_ended": request.app[STATE].simulator.expire(control.account, control.secret_key)})


async def sim_kite_request_token(request: web.Request) -> web.Response:
    """A fresh single-use Kite request token of `api_key`, as the login page shows it (tests, the demo)."""
    control: KiteRequestTokenControl = await _control_body(request, KiteRequestTokenControl)
    try:
        request_token = request.app[STATE].simulator.issue_request_token(control.api_key)
    except LoginRefused:
        raise web.HTTPBadRequest(text="unknown api_key") from None
    return _control_ok({"request_token": request_token})


async def sim_orders(request: web.Request) -> web.Response:
    state = request.app[STATE]
    account = request.query.get("account")
    entries = [e for e in state.journal if account is None or e.account == account]
    rows = []
    for entry in entries:
        order = state.simulator.find_order(entry.account, entry.app_order_id) if entry.app_order_id else None
        rows.append({**msgspec.to_builtins(entry), "status": order.status if order else None})
    return _control_ok(rows)


async def sim_reset(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.simulator.reset()
    state.kept_reads.clear()
    state.faults.clear()
    state.journal.clear()
    state.chaos = ChaosControl()
    state.chaos_injected.clear()
    state.latency_ms = (0, 0)
    return _control_ok({"reset": True})


async def sim_new_day(request: web.Request) -> web.Response:
    request.app[STATE].simulator.new_day()
    return _control_ok({"new_day": True})


async def _price_walk(app: web.Application, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        app[STATE].simulator.random_walk_step()


def build_app(simulator: Simulator, *, seed: int = 0, walk_interval_s: float | None = None,
              md_subscription_cap: int = DEFAULT_SUBSCRIPTION_CAP) -> web.Application:
    """The paper broker as one aiohttp application; `walk_interval_s` starts a random walk of prices,
    `md_subscription_cap` is how many subscriptions a market data token may hold."""
    app = web.Application()
    app[STATE] = PaperState(simulator=simulator, rng=random.Random(seed))
    attach_market_data(app, simulator, md_subscription_cap)
    faces: tuple[tuple[Face, Any], ...] = ((XtsFace(), XTS_ROUTES), (kite_routes.KiteFace(), kite_routes.KITE_ROUTES))
    for face, routes in faces:
        for method, path, route, handler in routes:
            app.router.add_route(method, path, paper_route(face, route, handler))
    app.router.add_get("/connect/login", kite_routes.login_page)
    app.router.add_post("/_sim/price", sim_price)
    app.router.add_post("/_sim/prices", sim_prices)
    app.router.add_post("/_sim/spread", sim_spread)
    app.router.add_post("/_sim/md_drop", sim_md_drop)
    app.router.add_post("/_sim/md_down", sim_md_down)
    app.router.add_post("/_sim/faults", sim_faults)
    app.router.add_post("/_sim/chaos", sim_chaos)
    app.router.add_get("/_sim/chaos", sim_chaos)
    app.router.add_post("/_sim/reject", sim_reject)
    app.router.add_post("/_sim/latency", sim_latency)
    app.router.add_post("/_sim/liquidity", sim_liquidity)
    app.router.add_post("/_sim/expire", sim_expire)
    app.router.add_post("/_sim/kite_request_token", sim_kite_request_token)
    app.router.add_get("/_sim/orders", sim_orders)
    app.router.add_post("/_sim/reset", sim_reset)
    app.router.add_post("/_sim/new_day", sim_new_day)

    async def announce_shutdown(app: web.Application) -> None:
        app[STATE].shutting_down.set()

    app.on_shutdown.append(announce_shutdown)
    if walk_interval_s:
        async def walk_prices(app: web.Application):  # type: ignore[no-untyped-def]
            task = asyncio.create_task(_price_walk(app, walk_interval_s))
            yield
            task.cancel()

        app.cleanup_ctx.append(walk_prices)
    return app
