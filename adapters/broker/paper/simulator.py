"""The paper broker's matching engine: sessions, instruments with a last-traded price and a best bid and ask
around it, per-account order books, fills, trade books and positions. Plain Python, no I/O, deterministic
given its seed and clock.

The rules of a small exchange-plus-broker, with no HTTP (`server.py` renders its rows). Every change stamps the
account's book anew (stamps never repeat), so a reader may keep what it rendered until `book_stamp` or
`positions_stamp` moves. Orders match on the last traded price only; the bid and ask are what the market data
face publishes, and every quote change is told to `quote_listeners`.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec

from domain.status import OPEN_STATUSES

EXCHANGE_TZ = ZoneInfo("Asia/Kolkata")
SEGMENT_CODES: Mapping[str, int] = {"NSECM": 1, "NSEFO": 2, "NSECD": 3, "BSECM": 11, "BSEFO": 12, "MCXFO": 51}
"""The segments the paper broker trades, with XTS's numeric code of each (as the `xts-api-client` SDK lists
them: 1 = NSECM, 2 = NSEFO, ...)."""
SEGMENTS = frozenset(SEGMENT_CODES)
PRODUCT_TYPES = frozenset({"MIS", "NRML", "CNC"})
ORDER_TYPES = frozenset({"MARKET", "LIMIT", "STOPLIMIT", "STOPMARKET"})
STOP_TYPES = frozenset({"STOPLIMIT", "STOPMARKET"})
TICK = Decimal("0.05")
PAISE = Decimal("0.01")
MAX_TAG_LENGTH = 20  # the broker's own limit, modelled apart from the adapter's (domain.broker)
DEFAULT_SPREAD_TICKS = 1
"""How far the best bid and ask sit from the last price, in ticks each side, unless a price move sets them."""

DEFAULT_INSTRUMENTS: tuple[tuple[str, int, str, str], ...] = (
    ("NSECM", 2885, "RELIANCE", "2900.00"),
    ("NSECM", 3045, "SBIN", "800.00"),
    ("NSECM", 11536, "TCS", "4000.00"),
    ("NSECM", 1594, "INFY", "1500.00"),
    ("NSECM", 1333, "HDFCBANK", "1600.00"),
)
"""(segment, instrument id, trading symbol, starting last price) the paper broker knows at start."""


class OrderInvalid(Exception):
    """A request the broker refuses outright (XTS answers HTTP 400 "Bad Request"); nothing is recorded."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LoginRefused(Exception):
    """Unknown app key or wrong secret key."""


class MaxQuantityRule(msgspec.Struct, frozen=True, tag="max_quantity", tag_field="rule"):
    """Reject any order for more than `quantity`."""

    quantity: int
    reason: str = "RMS:Rule: Quantity exceeds the maximum order quantity"


class SymbolRule(msgspec.Struct, frozen=True, tag="symbol", tag_field="rule"):
    """Reject every order on `symbol`."""

    symbol: str
    reason: str = "RMS:Rule: Trading in this scrip is blocked"


RejectRule = MaxQuantityRule | SymbolRule


@dataclass
class Instrument:
    segment: str
    instrument_id: int
    symbol: str
    ltp: Decimal | None
    bid: Decimal | None = None
    ask: Decimal | None = None
    close: Decimal | None = None
    """The previous day's last price: the first price the paper knew of it, then the last of each day."""
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    traded_at: datetime | None = None
    """When the last price last moved."""
    quoted_at: datetime | None = None
    """When the last price, bid or ask last changed."""
    sequence: int = 0
    """Counts the instrument's quote changes."""


@dataclass
class OrderTicket:
    """What a place request asks for, already in the engine's vocabulary."""

    client_id: str
    segment: str
    instrument_id: int
    side: str
    order_type: str
    product_type: str
    quantity: int
    limit_price: Decimal
    stop_price: Decimal
    tag: str
    time_in_force: str = "DAY"
    disclosed_qty: int = 0


@dataclass
class Amendment:
    """What a modify request asks for."""

    app_order_id: int
    order_type: str
    product_type: str
    quantity: int
    limit_price: Decimal
    stop_price: Decimal
    time_in_force: str = "DAY"
    disclosed_qty: int = 0


@dataclass
class SimOrder:
    app_order_id: int
    exchange_order_id: str
    client_id: str
    instrument: Instrument
    side: str
    order_type: str
    product_type: str
    time_in_force: str
    quantity: int
    disclosed_qty: int
    limit_price: Decimal
    stop_price: Decimal
    tag: str
    status: str
    created_at: datetime
    updated_at: datetime
    modified_at: datetime | None = None
    """When the order was last modified (None: never)."""
    triggered: bool = False
    filled_qty: int = 0
    filled_value: Decimal = Decimal(0)
    reject_reason: str = ""

    @property
    def avg_price(self) -> Decimal | None:
        if not self.filled_qty:
            return None
        return (self.filled_value / self.filled_qty).quantize(PAISE, ROUND_HALF_UP)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class Fill:
    execution_id: str
    order: SimOrder
    quantity: int
    price: Decimal
    at: datetime


@dataclass(frozen=True)
class Position:
    """One (account, instrument, product) position computed from fills."""

    client_id: str
    instrument: Instrument
    product_type: str
    net_qty: int
    buy_qty: int
    sell_qty: int
    buy_avg: Decimal
    sell_avg: Decimal
    buy_value: Decimal
    sell_value: Decimal
    net_amount: Decimal
    realized: Decimal
    unrealized: Decimal
    break_even: Decimal

    @property
    def mtm(self) -> Decimal:
        return self.realized + self.unrealized


@dataclass
class _Book:
    stamp: int
    orders: dict[int, SimOrder] = field(default_factory=dict)
    trails: dict[int, list[SimOrder]] = field(default_factory=dict)
    """Each order's states as it went through them, by AppOrderID: copies, the last one its state now."""
    fills: list[Fill] = field(default_factory=list)
    carried: list[Fill] = field(default_factory=list)
    """Fills of earlier trading days (`new_day`): in the NetWise positions only."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Simulator:
    """The whole paper market and every paper account. Not thread-safe: drive it from one event loop."""

    def __init__(
        self,
        *,
        seed: int = 0,
        now: Callable[[], datetime] = _utc_now,
        credentials: Mapping[str, str] | None = None,
        spread_ticks: int = DEFAULT_SPREAD_TICKS,
    ) -> None:
        if spread_ticks < 0:
            raise OrderInvalid("spread_ticks must not be negative")
        self._rng = random.Random(seed)
        self._now = now
        self._credentials = dict(credentials) if credentials is not None else None
        self._regenerated: dict[str, str] = {}
        self._tokens: dict[str, str] = {}
        self._request_tokens: dict[str, str] = {}
        self.spread_ticks = spread_ticks
        self.quote_listeners: list[Callable[[Instrument], None]] = []
        """Called with each instrument whose last price, bid or ask has just changed."""
        self._instruments: dict[tuple[str, int], Instrument] = {}
        for segment, instrument_id, symbol, ltp in DEFAULT_INSTRUMENTS:
            instrument = self._instruments[(segment, instrument_id)] = Instrument(segment, instrument_id, symbol, None)
            self._trade(instrument, Decimal(ltp), self._spread_around(Decimal(ltp)))
        self._first_order_id = self._rng.randrange(10**8, 9 * 10**8) * 10
        self._stamps = itertools.count(1)
        self._market_stamp = next(self._stamps)
        self.reset()

    def reset(self) -> None:
        """Forget every order, fill and rule; sessions and prices stay."""
        self._books: dict[str, _Book] = {}
        self._next_order_id = self._first_order_id
        self._next_execution_id = 1
        self.reject_rules: list[RejectRule] = []
        self.max_fill_qty: int | None = None

    def new_day(self) -> None:
        """Start the next trading day: every account's order book and trade book start empty (an order ends
        with its day: the paper broker knows DAY validity only), its NetWise positions keep every earlier
        fill, and AppOrderIDs go on from where they were, never reused."""
        for client_id in list(self._books):
            book = self._changed(client_id)
            book.carried.extend(book.fills)
            book.fills = []
            book.orders = {}
            book.trails = {}
        for instrument in self._instruments.values():
            instrument.close = instrument.open = instrument.high = instrument.low = instrument.ltp

    def now(self) -> datetime:
        return self._now()

    # --- sessions ---------------------------------------------------------------------------------

    def login(self, app_key: str, secret_key: str) -> tuple[str, str]:
        """Return (token, client id). With no configured credentials any app key is accepted as the
        client id it logs in; a secret key is always required."""
        self.check_keys(app_key, secret_key)
        return self.open_session(app_key), app_key

    def check_keys(self, app_key: str, secret_key: str) -> None:
        """Raise `LoginRefused` unless a login of `app_key` with `secret_key` may succeed."""
        if not app_key or not secret_key or not self.knows(app_key):
            raise LoginRefused
        if self.secret_of(app_key) not in (None, secret_key):
            raise LoginRefused

    def knows(self, app_key: str) -> bool:
        """Whether `app_key` may log in at all: any non-empty one with no configured credentials."""
        return bool(app_key) and (self._credentials is None or app_key in self._credentials)

    def secret_of(self, app_key: str) -> str | None:
        """The secret key a login of `app_key` must prove: the regenerated one, else the configured one; None
        when the simulator knows none (no configured credentials, never regenerated)."""
        if app_key in self._regenerated:
            return self._regenerated[app_key]
        return None if self._credentials is None else self._credentials.get(app_key)

    def open_session(self, app_key: str) -> str:
        """A new session token of the client id `app_key`; the caller has checked the login."""
        token = secrets.token_urlsafe(24)
        self._tokens[token] = app_key
        return token

    def issue_request_token(self, app_key: str) -> str:
        """A single-use grant to open a session of `app_key` (Kite's request token, from a login by hand)."""
        if not self.knows(app_key):
            raise LoginRefused
        request_token = secrets.token_urlsafe(24)
        self._request_tokens[request_token] = app_key
        return request_token

    def redeem_request_token(self, app_key: str, request_token: str) -> bool:
        """Use up `request_token`; whether it was issued to `app_key` and not used before."""
        return self._request_tokens.pop(request_token, None) == app_key

    def client_for(self, token: str) -> str | None:
        return self._tokens.get(token)

    def logout(self, token: str) -> None:
        self._tokens.pop(token, None)

    def expire(self, client_id: str, secret_key: str | None = None) -> int:
        """End every session of `client_id`; return how many ended. With `secret_key`, its keys were
        regenerated: from now on a login of `client_id` takes only that secret key."""
        if secret_key is not None:
            self._regenerated[client_id] = secret_key
        expired = [token for token, client in self._tokens.items() if client == client_id]
        for token in expired:
            del self._tokens[token]
        return len(expired)

    # --- market -----------------------------------------------------------------------------------

    def instrument(self, segment: str, instrument_id: int) -> Instrument | None:
        return self._instruments.get((segment, instrument_id))

    def instrument_by_symbol(self, segment: str, symbol: str) -> Instrument | None:
        return next((i for i in self._instruments.values() if i.segment == segment and i.symbol == symbol), None)

    def set_price(
        self, symbol: str, ltp: Decimal, *, instrument_id: int | None = None, segment: str = "NSECM",
        bid: Decimal | None = None, ask: Decimal | None = None,
    ) -> list[Fill]:
        """Move `symbol`'s last price (registering it when `instrument_id` is given) and match its orders.

        The best bid and ask become `bid` and `ask`; a side not given sits the default spread from `ltp`.
        Refused, with nothing changed, unless both are positive, on the tick, and the bid is not above the ask.
        """
        if ltp <= 0:
            raise OrderInvalid("a price must be positive")
        default_bid, default_ask = self._spread_around(ltp)
        quote = _checked_quote(default_bid if bid is None else bid, default_ask if ask is None else ask)
        instrument = next((i for i in self._instruments.values() if i.symbol == symbol), None)
        if instrument is None:
            if instrument_id is None:
                raise OrderInvalid(f"unknown symbol {symbol}; give instrument_id to register it")
            instrument = Instrument(segment, instrument_id, symbol, None)
            self._instruments[(segment, instrument_id)] = instrument
        self._trade(instrument, ltp, quote)
        self._market_stamp = next(self._stamps)
        fills = self._match_instrument(instrument)
        self._tell_quote(instrument)
        return fills

    def set_spread(self, ticks: int) -> None:
        """Make `ticks` the default spread and quote every priced instrument at it around its last price (a bid
        and ask set by a price move are replaced)."""
        if ticks < 0:
            raise OrderInvalid("spread ticks must not be negative")
        self.spread_ticks = ticks
        for instrument in self._instruments.values():
            if instrument.ltp is not None:
                instrument.bid, instrument.ask = self._spread_around(instrument.ltp)
                self._quoted(instrument)
                self._tell_quote(instrument)

    def random_walk_step(self) -> list[Fill]:
        """Move every priced instrument by -1, 0 or +1 tick, quoted at the default spread."""
        fills: list[Fill] = []
        self._market_stamp = next(self._stamps)
        for instrument in self._instruments.values():
            if instrument.ltp is not None:
                ltp = max(TICK, instrument.ltp + TICK * self._rng.choice((-1, 0, 1)))
                self._trade(instrument, ltp, self._spread_around(ltp))
                fills += self._match_instrument(instrument)
                self._tell_quote(instrument)
        return fills

    # --- orders -----------------------------------------------------------------------------------

    def place(self, ticket: OrderTicket) -> SimOrder:
        if ticket.segment not in SEGMENTS:
            raise OrderInvalid(f"unknown exchangeSegment {ticket.segment}")
        if ticket.side not in ("BUY", "SELL"):
            raise OrderInvalid(f"unknown orderSide {ticket.side}")
        if len(ticket.tag) > MAX_TAG_LENGTH:
            raise OrderInvalid(f"orderUniqueIdentifier longer than {MAX_TAG_LENGTH} characters")
        _validate(ticket.order_type, ticket.product_type, ticket.quantity, ticket.disclosed_qty,
                  ticket.limit_price, ticket.stop_price)
        instrument = self._instruments.get((ticket.segment, ticket.instrument_id))
        if instrument is None:
            raise OrderInvalid(f"unknown instrument {ticket.segment} {ticket.instrument_id}")
        now = self._now()
        app_order_id = self._next_order_id
        self._next_order_id += 1
        order = SimOrder(
            app_order_id=app_order_id,
            exchange_order_id=str(1_100_000_000_000_000 + app_order_id),
            client_id=ticket.client_id,
            instrument=instrument,
            side=ticket.side,
            order_type=ticket.order_type,
            product_type=ticket.product_type,
            time_in_force=ticket.time_in_force,
            quantity=ticket.quantity,
            disclosed_qty=ticket.disclosed_qty,
            limit_price=ticket.limit_price,
            stop_price=ticket.stop_price,
            tag=ticket.tag,
            status="New",
            created_at=now,
            updated_at=now,
        )
        self._changed(ticket.client_id).orders[app_order_id] = order
        reason = self._rejection(order)
        if reason:
            order.status, order.reject_reason = "Rejected", reason
            self._record(order)
            return order
        self._restate(order)
        self._record(order)
        if instrument.ltp is not None:
            self._match(order, instrument.ltp)
        return order

    def modify(self, client_id: str, amendment: Amendment) -> SimOrder:
        order = self._open_order(client_id, amendment.app_order_id, "modified")
        _validate(amendment.order_type, amendment.product_type, amendment.quantity, amendment.disclosed_qty,
                  amendment.limit_price, amendment.stop_price)
        if amendment.quantity < order.filled_qty:
            raise OrderInvalid(f"quantity {amendment.quantity} is below the filled {order.filled_qty}")
        order.order_type = amendment.order_type
        order.product_type = amendment.product_type
        order.quantity = amendment.quantity
        order.disclosed_qty = amendment.disclosed_qty
        order.limit_price = amendment.limit_price
        order.stop_price = amendment.stop_price
        order.time_in_force = amendment.time_in_force
        order.triggered = False
        order.updated_at = order.modified_at = self._now()
        self._changed(client_id)
        self._restate(order)
        self._record(order)
        if order.instrument.ltp is not None:
            self._match(order, order.instrument.ltp)
        return order

    def cancel(self, client_id: str, app_order_id: int) -> SimOrder:
        order = self._open_order(client_id, app_order_id, "cancelled")
        order.status = "Cancelled"
        order.updated_at = self._now()
        self._changed(client_id)
        self._record(order)
        return order

    def orders_of(self, client_id: str) -> list[SimOrder]:
        return list(self._book(client_id).orders.values())

    def find_order(self, client_id: str, app_order_id: int) -> SimOrder | None:
        return self._book(client_id).orders.get(app_order_id)

    def order_history(self, client_id: str, app_order_id: int) -> list[SimOrder]:
        """The order's states, oldest first, the last its state now; empty for an order the account does not
        have today."""
        return list(self._book(client_id).trails.get(app_order_id, ()))

    def fills_of(self, client_id: str) -> list[Fill]:
        return list(self._book(client_id).fills)

    def positions_of(self, client_id: str, view: Literal["NetWise", "DayWise"]) -> list[Position]:
        """Net positions from every fill, or from today's fills (exchange date, since `new_day`) for `DayWise`."""
        book = self._book(client_id)
        fills = [*book.carried, *book.fills]
        if view == "DayWise":
            today = _exchange_date(self._now())
            fills = [fill for fill in book.fills if _exchange_date(fill.at) == today]
        grouped: dict[tuple[str, int, str], list[Fill]] = {}
        for fill in fills:
            instrument = fill.order.instrument
            key = (instrument.segment, instrument.instrument_id, fill.order.product_type)
            grouped.setdefault(key, []).append(fill)
        return [_position(client_id, group) for group in grouped.values()]

    def book_stamp(self, client_id: str) -> int:
        """Moves whenever `client_id`'s orders or fills change: what `orders_of` and `fills_of` (and every
        order a fill refers to) read is the same while it stays."""
        return self._book(client_id).stamp

    def positions_stamp(self, client_id: str, view: Literal["NetWise", "DayWise"]) -> tuple[int, int, str]:
        """Moves whenever `positions_of(client_id, view)` may change: the account's fills, any last price
        (open lots are marked to it), and for `DayWise` the exchange date."""
        day = _exchange_date(self._now()) if view == "DayWise" else ""
        return self._book(client_id).stamp, self._market_stamp, day

    # --- the exchange's own changes, for load drivers (bench/_churn.py) ------------------------------

    def execute(self, client_id: str, app_order_id: int, quantity: int) -> Fill:
        """A counterparty takes `quantity` more of an open, triggered order: filled at its limit price (LIMIT,
        STOPLIMIT) or the last price (MARKET, STOPMARKET)."""
        order = self._open_order(client_id, app_order_id, "filled")
        if order.order_type in STOP_TYPES and not order.triggered:
            raise OrderInvalid(f"order {app_order_id} is not triggered")
        if not 0 < quantity <= order.quantity - order.filled_qty:
            raise OrderInvalid(f"cannot fill {quantity} of order {app_order_id}: "
                               f"{order.quantity - order.filled_qty} remain")
        price = order.limit_price if order.order_type in ("LIMIT", "STOPLIMIT") else order.instrument.ltp
        assert price is not None
        return self._fill(order, quantity, price)

    def restamp(self, client_id: str, app_order_id: int) -> SimOrder:
        """The exchange re-reports an order as it is: only its update time moves, by at least one second (the
        order book's time has whole seconds), so the row's bytes change and its meaning does not."""
        order = self._book(client_id).orders.get(app_order_id)
        if order is None:
            raise OrderInvalid(f"no order with AppOrderID {app_order_id}")
        order.updated_at = max(self._now(), order.updated_at + timedelta(seconds=1))
        self._changed(client_id)
        self._record(order)
        return order

    def replace_finished(self, client_id: str, app_order_id: int, ticket: OrderTicket) -> SimOrder:
        """A new order (placed as `place` does) takes a finished order's place in the account's listing, the
        finished one dropped with its states and fills as if it were of an earlier day: a load driver keeps a
        book's size, and every other row's place, while new orders arrive."""
        book = self._book(client_id)
        finished = book.orders.get(app_order_id)
        if finished is None:
            raise OrderInvalid(f"no order with AppOrderID {app_order_id}")
        if finished.is_open:
            raise OrderInvalid(f"order {app_order_id} is {finished.status}; only a finished order is replaced")
        if ticket.client_id != client_id:
            raise OrderInvalid(f"the new order is {ticket.client_id}'s, not {client_id}'s")
        order = self.place(ticket)
        listing: dict[int, SimOrder] = {}
        for key, kept in book.orders.items():
            if key == app_order_id:
                listing[order.app_order_id] = order
            elif key != order.app_order_id:
                listing[key] = kept
        book.orders = listing
        book.trails.pop(app_order_id, None)
        book.fills = [fill for fill in book.fills if fill.order is not finished]
        self._changed(client_id)
        return order

    # --- internals --------------------------------------------------------------------------------

    def _spread_around(self, ltp: Decimal) -> tuple[Decimal, Decimal]:
        """The default (bid, ask) around `ltp`: `spread_ticks` ticks each side, on the tick (outward when `ltp`
        is not), the bid never below one tick."""
        away = TICK * self.spread_ticks
        bid = (ltp / TICK).to_integral_value(ROUND_FLOOR) * TICK - away
        ask = (ltp / TICK).to_integral_value(ROUND_CEILING) * TICK + away
        return max(TICK, bid), ask

    def _trade(self, instrument: Instrument, ltp: Decimal, quote: tuple[Decimal, Decimal]) -> None:
        instrument.ltp = ltp
        instrument.bid, instrument.ask = quote
        if instrument.close is None:
            instrument.close = instrument.open = ltp
        instrument.high = ltp if instrument.high is None else max(instrument.high, ltp)
        instrument.low = ltp if instrument.low is None else min(instrument.low, ltp)
        instrument.traded_at = self._now()
        self._quoted(instrument)

    def _quoted(self, instrument: Instrument) -> None:
        instrument.quoted_at = self._now()
        instrument.sequence += 1

    def _tell_quote(self, instrument: Instrument) -> None:
        for listener in self.quote_listeners:
            listener(instrument)

    def _book(self, client_id: str) -> _Book:
        book = self._books.get(client_id)
        if book is None:
            book = self._books[client_id] = _Book(next(self._stamps))
        return book

    def _changed(self, client_id: str) -> _Book:
        """The account's book, stamped anew: the caller is changing its orders or fills."""
        book = self._book(client_id)
        book.stamp = next(self._stamps)
        return book

    def _open_order(self, client_id: str, app_order_id: int, what: str) -> SimOrder:
        order = self._book(client_id).orders.get(app_order_id)
        if order is None:
            raise OrderInvalid(f"no order with AppOrderID {app_order_id}")
        if not order.is_open:
            raise OrderInvalid(f"order {app_order_id} is {order.status} and cannot be {what}")
        return order

    def _record(self, order: SimOrder) -> None:
        """Add the order's state now to its trail (what the order history answers)."""
        self._book(order.client_id).trails.setdefault(order.app_order_id, []).append(dataclasses.replace(order))

    def _rejection(self, order: SimOrder) -> str:
        for rule in self.reject_rules:
            if isinstance(rule, MaxQuantityRule) and order.quantity > rule.quantity:
                return rule.reason
            if isinstance(rule, SymbolRule) and order.instrument.symbol == rule.symbol:
                return rule.reason
        return ""

    def _restate(self, order: SimOrder) -> None:
        """The status of an open order from its fills and trigger state."""
        if order.order_type in STOP_TYPES and not order.triggered:
            order.status = "Trigger Pending"
        else:
            order.status = "PartiallyFilled" if order.filled_qty else "New"

    def _match_instrument(self, instrument: Instrument) -> list[Fill]:
        assert instrument.ltp is not None
        fills: list[Fill] = []
        for book in self._books.values():
            for order in list(book.orders.values()):
                if order.instrument is instrument and order.is_open:
                    fills += self._match(order, instrument.ltp)
        return fills

    def _match(self, order: SimOrder, ltp: Decimal) -> list[Fill]:
        buying = order.side == "BUY"
        if order.order_type in STOP_TYPES and not order.triggered:
            if (buying and ltp < order.stop_price) or (not buying and ltp > order.stop_price):
                return []
            order.triggered = True
            order.updated_at = self._now()
            self._restate(order)
            self._changed(order.client_id)
            self._record(order)
        at_market = order.order_type in ("MARKET", "STOPMARKET")
        limit_reached = ltp <= order.limit_price if buying else ltp >= order.limit_price
        if not (at_market or limit_reached):
            return []
        remaining = order.quantity - order.filled_qty
        quantity = remaining if self.max_fill_qty is None else min(remaining, self.max_fill_qty)
        return [self._fill(order, quantity, ltp)]

    def _fill(self, order: SimOrder, quantity: int, price: Decimal) -> Fill:
        now = self._now()
        fill = Fill(f"E{self._next_execution_id:08d}", order, quantity, price, now)
        self._next_execution_id += 1
        order.filled_qty += quantity
        order.filled_value += price * quantity
        order.updated_at = now
        if order.filled_qty == order.quantity:
            order.status = "Filled"
        else:
            self._restate(order)
        self._changed(order.client_id).fills.append(fill)
        self._record(order)
        return fill


def _validate(order_type: str, product_type: str, quantity: int, disclosed_qty: int,
              limit_price: Decimal, stop_price: Decimal) -> None:
    if order_type not in ORDER_TYPES:
        raise OrderInvalid(f"unknown orderType {order_type}")
    if product_type not in PRODUCT_TYPES:
        raise OrderInvalid(f"unknown productType {product_type}")
    if quantity <= 0:
        raise OrderInvalid("orderQuantity must be positive")
    if not 0 <= disclosed_qty <= quantity:
        raise OrderInvalid("disclosedQuantity must be between 0 and orderQuantity")
    if order_type in ("LIMIT", "STOPLIMIT") and limit_price <= 0:
        raise OrderInvalid(f"limitPrice must be positive for {order_type}")
    if order_type in STOP_TYPES and stop_price <= 0:
        raise OrderInvalid(f"stopPrice must be positive for {order_type}")


def _checked_quote(bid: Decimal, ask: Decimal) -> tuple[Decimal, Decimal]:
    for side, price in (("bid", bid), ("ask", ask)):
        if price <= 0:
            raise OrderInvalid(f"the {side} must be positive")
        if price % TICK:
            raise OrderInvalid(f"the {side} {price} is not on the {TICK} tick")
    if bid > ask:
        raise OrderInvalid(f"the bid {bid} is above the ask {ask}")
    return bid, ask


def _exchange_date(moment: datetime) -> str:
    return moment.astimezone(EXCHANGE_TZ).date().isoformat()


def _position(client_id: str, fills: list[Fill]) -> Position:
    buy_qty = sum(f.quantity for f in fills if f.order.side == "BUY")
    sell_qty = sum(f.quantity for f in fills if f.order.side == "SELL")
    buy_value = sum((f.price * f.quantity for f in fills if f.order.side == "BUY"), Decimal(0))
    sell_value = sum((f.price * f.quantity for f in fills if f.order.side == "SELL"), Decimal(0))
    buy_avg = buy_value / buy_qty if buy_qty else Decimal(0)
    sell_avg = sell_value / sell_qty if sell_qty else Decimal(0)
    net_qty = buy_qty - sell_qty
    instrument = fills[0].order.instrument
    realized = min(buy_qty, sell_qty) * (sell_avg - buy_avg)
    open_avg = buy_avg if net_qty > 0 else sell_avg
    marked = net_qty and instrument.ltp is not None
    unrealized = net_qty * (instrument.ltp - open_avg) if marked else Decimal(0)
    break_even = (buy_value - sell_value) / net_qty if net_qty else Decimal(0)
    return Position(
        client_id=client_id,
        instrument=instrument,
        product_type=fills[0].order.product_type,
        net_qty=net_qty,
        buy_qty=buy_qty,
        sell_qty=sell_qty,
        buy_avg=buy_avg.quantize(PAISE, ROUND_HALF_UP),
        sell_avg=sell_avg.quantize(PAISE, ROUND_HALF_UP),
        buy_value=buy_value,
        sell_value=sell_value,
        net_amount=sell_value - buy_value,
        realized=realized.quantize(PAISE, ROUND_HALF_UP),
        unrealized=unrealized.quantize(PAISE, ROUND_HALF_UP),
        break_even=break_even.quantize(PAISE, ROUND_HALF_UP),
    )
