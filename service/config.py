"""Service configuration as msgspec Structs, decoded from TOML. Defaults are documented next to each field."""

from __future__ import annotations

import msgspec

from actors.user_monitor.config import CycleConfig
from adapters.store.url import DATABASE_URL_ENV
from domain.quotes import FairModels
from service.send_guard import lease_length_s


def _require_positive(config: msgspec.Struct, *fields: str) -> None:
    for field in fields:
        value = getattr(config, field)
        if value <= 0:
            raise ValueError(f"{field} must be positive, got {value}")


class OrderRulesConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    fair_price_max_age_s: float = 120.0
    """A fair price older than this is not used: its orders are left alone and counted in the summary."""
    max_entry_modifications: int = 3
    """The modify-entries step converts one entry at most this many times."""
    inflight_settle_s: float = 30.0
    """An order request whose answer was lost is judged (absent: sent again under its tag) only on an order
    book fetched this long after it was sent, when it can no longer reach the broker. Keep it above twice
    the broker call timeout."""
    max_leg_attempts: int = 3
    """A stop-loss or take-profit that ends without filling (rejected, cancelled, expired, dropped) is placed
    again under a new tag until the broker has rejected this many of its attempts (at most 20 placements a
    day in all); then the trade is reported as unprotected every cycle."""
    max_regenerations: int = 2
    """A rejected entry is regenerated at most this many times."""
    regeneration_backoff_s: float = 30.0
    """Wait before regenerating a rejected entry, doubled for each earlier attempt (30 s, 60 s, ...), so a
    steady reject reason (no margin) never becomes a placement storm."""


class BrokerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    call_timeout_s: float = 10.0
    """Each broker HTTP call's deadline; an order call past it is ambiguous and left to the next order book."""
    pacing: bool = True
    """Pace calls to the XTS limits per session (order book and positions 1/s, orders 10/s)."""
    connection_limit: int = 200
    """Broker HTTP connections open at once, over every broker; a call past it waits for a free one."""
    connections_per_host: int = 20
    """Of those, connections open at once to one broker host; a call past it waits for a free one."""
    read_cache_accounts: int = 20_000
    """Accounts whose last order book, trade book and positions answers are kept, so an answer unchanged
    byte for byte is not decoded again. About 1.6 KB per kept row: ~9 KB for an account with 4 orders and a
    position (~180 MB for 20,000 such accounts), ~1.6 MB for one with 1,000 orders. Below the number of
    active accounts, answers are dropped before they are read again and every read is decoded."""
    session_renewal: bool = True
    """An account whose session the broker calls expired, with its app key and secret key stored, is logged in
    again (once per expiry, by the fetch or a batch placement) and fetched, or its refused orders sent again,
    with the new session; false leaves every expiry to a human."""
    session_renewal_backoff_s: float = 900.0
    """After the broker refused such a login (wrong keys), the account's next login waits this long."""

    def __post_init__(self) -> None:
        _require_positive(self, "connection_limit", "connections_per_host", "read_cache_accounts",
                          "session_renewal_backoff_s")


class DatabaseConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Connections to the database of `database_url` (MySQL; SQLite has one connection, shared by all)."""

    pool_size: int = 10
    """MySQL connections shared by the cycles, the API and the leases."""
    event_log_pool_size: int = 2
    """MySQL connections of the event log, apart from the pool above, so cycles holding every pooled
    connection never hold up the event log's writes."""

    def __post_init__(self) -> None:
        _require_positive(self, "pool_size", "event_log_pool_size")


class LeaseConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Replica leases and the send guard (README, Production: replicas)."""

    lease_s: float = 0.0
    """How long a replica's hold of a user lasts unrenewed (it is renewed every third of it): another replica
    takes over a user whose replica stopped on another host about this long after its last renewal. 0: one
    cycle interval, lengthened to 3 s and to the shortest lease the send guard allows, 2 x ([broker]
    call_timeout_s + 2 x clock_drift_margin_s). A lease set shorter than that is refused at start."""
    clock_drift_margin_s: float = 0.5
    """The most any replica's clock may be ahead of another's. A replica counts its lease as ending this much
    before it does by its own clock, and sends an order request only while the lease has the call timeout plus
    this much left."""

    def __post_init__(self) -> None:
        _require_positive(self, "clock_drift_margin_s")
        if self.lease_s < 0:
            raise ValueError(f"lease_s must not be negative, got {self.lease_s}")


class ServerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    """Interface to listen on; 0.0.0.0 in a container."""
    port: int = 8080
    allowed_origins: tuple[str, ...] = ()
    """Browser origins allowed to open the WebSocket besides `public_origin`; "*" allows any."""
    public_origin: str = ""
    """The origin browsers reach the server at, e.g. "https://monitor.example" behind a proxy; empty: the
    bound "http://host:port". A request's Host header is never trusted for it."""
    heartbeat_s: float = 30.0
    """A WebSocket client that answers no ping for this long is dropped."""
    max_frame_bytes: int = 64 * 1024
    """Largest client frame accepted."""
    batch_requests_per_minute: int = 30
    """Batch order requests allowed per user per minute."""
    batch_deadline_s: float = 60.0
    """How long a batch request waits for its orders' placement at each account; orders not answered by then
    are answered `in_flight` (their placement goes on, and `GET /api/orders` shows how it ended)."""
    manual_cycle_every_s: float = 10.0
    """A user's `run_cycle` frames start at most one cycle this often; one sooner gets an error frame and
    writes nothing."""
    max_connections_per_user: int = 10
    """WebSocket connections one user may hold; one more gets HTTP 429 before the upgrade."""
    max_send_buffer_bytes: int = 1024 * 1024
    """Bytes a WebSocket connection may leave unsent (a client not reading); a frame that would pass it
    closes that connection with code 4408."""
    readiness_cache_s: float = 5.0
    """`/readyz` checks the database and every broker in use at most this often; calls between share the
    answer."""

    def __post_init__(self) -> None:
        _require_positive(self, "manual_cycle_every_s", "readiness_cache_s", "max_connections_per_user",
                          "max_send_buffer_bytes", "batch_deadline_s")


class LoggingConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    level: str = "INFO"
    json: bool = False
    """One JSON object per line (with user_id, cycle_id, step, account_id when known) instead of text."""


class AlertsConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Alerts by webhook and Telegram (README, *Alerts*); both channels are off by default."""

    webhook_url: str = ""
    """Each alert is POSTed here as JSON (Slack's `text`, Discord's `content`, and the alert's fields); empty:
    off. MONITOR_ALERT_WEBHOOK_URL overrides it (a webhook URL is a secret: keep it out of the file)."""
    telegram_bot_token: str = ""
    """The Telegram bot's token; empty: Telegram off. MONITOR_TELEGRAM_BOT_TOKEN overrides it (keep it out of
    the file). Set with `telegram_chat_id`, or neither."""
    telegram_chat_id: str = ""
    """The chat the bot writes to (its id, or @channel)."""
    telegram_base_url: str = "https://api.telegram.org"
    """The Bot API's address; alerts go to {telegram_base_url}/bot{token}/sendMessage."""
    realert_after_s: float = 0.0
    """An alert whose condition persists (an account still waiting for a session, a trade still without a
    stop-loss) is sent again once this long has passed since it was; 0: only once until the condition clears."""
    per_user_per_minute: int = 10
    """Messages sent about one user in any 60 s, the note of alerts held back over it included."""
    monitor_stopped_after_s: float = 60.0
    """A monitor stopped for want of a client is alerted only if none started again for the user within this
    long, so a dashboard reload alerts nothing."""
    timeout_s: float = 10.0
    """Each delivery's deadline; a delivery that fails is logged at WARNING and not sent again."""

    def __post_init__(self) -> None:
        _require_positive(self, "per_user_per_minute", "timeout_s")
        for field in ("realert_after_s", "monitor_stopped_after_s"):
            if getattr(self, field) < 0:
                raise ValueError(f"{field} must not be negative, got {getattr(self, field)}")
        for field in ("webhook_url", "telegram_base_url"):
            value = getattr(self, field)
            if value and not value.startswith(("http://", "https://")):
                raise ValueError(f"{field} must be an http:// or https:// URL")  # never echoed: it may be secret
        if self.telegram_bot_token and not self.telegram_chat_id:
            raise ValueError("a Telegram bot token needs telegram_chat_id")

    @property
    def enabled(self) -> bool:
        """Whether any channel is on."""
        return bool(self.webhook_url or self.telegram_bot_token)


class MarketDataConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The fair-price feed (README, *Fair prices from the market*): XTS Market Data streams the quotes of every
    instrument a monitored user holds into `mainapp_fairprice`. Off by default."""

    enabled: bool = False
    base_url: str = ""
    """The broker's XTS host, as for its Interactive API (the feed adds `/apimarketdata`)."""
    app_key: str = ""
    secret_key: str = ""
    """Market data's own app key and secret key (not the Interactive ones). MONITOR_MARKET_DATA_APP_KEY and
    MONITOR_MARKET_DATA_SECRET_KEY override them: keep the secret out of the file."""
    brokers: tuple[str, ...] = ("xts", "paper")
    """The brokers whose accounts' instrument ids are XTS's: the feed watches only their instruments."""
    flush_interval_s: float = 0.2
    """How often the latest quotes are written, in one batch."""
    refresh_s: float = 5.0
    """How often the watched instruments are read again (new orders and positions, closed ones)."""
    reconnect_s: float = 2.0
    """How long after the stream drops the feed connects again; it polls REST quotes meanwhile."""
    poll_s: float = 5.0
    """How often REST quotes are read: of every watched instrument while the stream is down, and of those the
    broker would not subscribe (its subscription cap) while it is up."""
    models: FairModels = FairModels()
    """The fair-price model: `[market_data.models.default]`, per segment `[market_data.models.segments.NSEFO]`,
    per trading symbol `[market_data.models.instruments.SBIN]` (kind `touch`, `mid` with `ticks`, or `ltp`)."""

    def __post_init__(self) -> None:
        _require_positive(self, "flush_interval_s", "refresh_s", "reconnect_s", "poll_s")

    @property
    def missing(self) -> list[str]:
        """What an enabled feed lacks to start (the keys may come from the environment)."""
        return [f for f in ("base_url", "app_key", "secret_key") if self.enabled and not getattr(self, f)]

    def __repr__(self) -> str:
        return f"MarketDataConfig(enabled={self.enabled}, base_url={self.base_url!r}, brokers={self.brokers})"


class FanOutConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Clients on any replica (README, *Replicas*): each user's frames and orders travel between replicas over
    NATS. Off by default: a single replica needs nothing."""

    nats_url: str = ""
    """The NATS server every replica connects to, e.g. "nats://127.0.0.1:4222" (several: comma-separated);
    empty: off. MONITOR_NATS_URL overrides it (credentials in the URL are a secret: keep them out of the file)."""
    subject_prefix: str = "monitor"
    """The first token(s) of every subject the replicas use, so that deployments sharing one NATS stay apart."""
    request_timeout_s: float = 5.0
    """How long a replica waits for the holder's answer to a client's greeting, `run_cycle`, pause or resume;
    a forwarded batch waits for its placement (`batch_deadline_s`, or an Idempotency-Key's first request)
    plus this."""
    connect_timeout_s: float = 2.0
    """Each attempt to connect to NATS; the service runs meanwhile, and tries again every `reconnect_wait_s`."""
    reconnect_wait_s: float = 2.0
    ping_interval_s: float = 5.0
    """A link that answers no ping for twice this long is taken as down (its frames stop, clients are told)."""

    def __post_init__(self) -> None:
        _require_positive(self, "request_timeout_s", "connect_timeout_s", "reconnect_wait_s", "ping_interval_s")
        tokens = self.subject_prefix.split(".")
        if not all(token and not set(token) & set("*> \t\r\n") for token in tokens):
            raise ValueError("subject_prefix must be dot-separated NATS tokens, without wildcards or spaces")
        for server in filter(None, (part.strip() for part in self.nats_url.split(","))):
            if not server.startswith(("nats://", "tls://")):
                raise ValueError("nats_url must be nats:// or tls:// URLs")  # never echoed: it may hold a password

    @property
    def enabled(self) -> bool:
        return bool(self.nats_url.strip())

    @property
    def servers(self) -> list[str]:
        return [part.strip() for part in self.nats_url.split(",") if part.strip()]

    def __repr__(self) -> str:
        return f"FanOutConfig(enabled={self.enabled}, subject_prefix={self.subject_prefix!r})"


class ServiceConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    database_url: str = "sqlite:///monitor.db"
    """mysql://user:pass@host:port/db or sqlite:///path; MONITOR_DATABASE_URL overrides it (keep passwords
    out of the file)."""
    shutdown_deadline_s: float = 30.0
    """On SIGTERM, how long running cycles may take to finish."""
    server: ServerConfig = ServerConfig()
    cycle: CycleConfig = CycleConfig()
    rules: OrderRulesConfig = OrderRulesConfig()
    broker: BrokerConfig = BrokerConfig()
    database: DatabaseConfig = DatabaseConfig()
    logging: LoggingConfig = LoggingConfig()
    alerts: AlertsConfig = AlertsConfig()
    market_data: MarketDataConfig = MarketDataConfig()
    fanout: FanOutConfig = FanOutConfig()
    leases: LeaseConfig = LeaseConfig()

    def __post_init__(self) -> None:
        lease_length_s(self.leases.lease_s, self.cycle.interval_s, self.broker.call_timeout_s,
                       self.leases.clock_drift_margin_s)


class ConfigError(Exception):
    """A config file that cannot be used; the message names the field and the reason."""


ENVIRONMENT_OVERRIDES = {DATABASE_URL_ENV: "database_url"}


def load_config(path: str, environ: dict[str, str]) -> ServiceConfig:
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    try:
        config = msgspec.toml.decode(raw, type=ServiceConfig)
    except msgspec.ValidationError as error:
        raise ConfigError(f"{path}: {error}") from None
    except msgspec.DecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    except ValueError as error:
        raise ConfigError(f"{path}: {error}") from None
    overrides = {field: environ[name] for name, field in ENVIRONMENT_OVERRIDES.items() if environ.get(name)}
    try:
        overrides["alerts"] = alerts_with_environment(config.alerts, environ)
    except ValueError as error:
        raise ConfigError(f"{path}: {error} - at `$.alerts`") from None
    keys = {field: environ[name] for name, field in MARKET_DATA_ENVIRONMENT_OVERRIDES.items() if environ.get(name)}
    overrides["market_data"] = market_data = msgspec.structs.replace(config.market_data, **keys)
    if market_data.missing:
        raise ConfigError(f"{path}: the enabled fair-price feed needs {', '.join(market_data.missing)} - at "
                          f"`$.market_data` (the keys may be set by MONITOR_MARKET_DATA_APP_KEY and "
                          f"MONITOR_MARKET_DATA_SECRET_KEY)")
    if environ.get(NATS_URL_ENV):
        try:
            overrides["fanout"] = msgspec.structs.replace(config.fanout, nats_url=environ[NATS_URL_ENV])
        except ValueError as error:
            raise ConfigError(f"{NATS_URL_ENV}: {error}") from None
    return msgspec.structs.replace(config, **overrides)


NATS_URL_ENV = "MONITOR_NATS_URL"

MARKET_DATA_ENVIRONMENT_OVERRIDES = {"MONITOR_MARKET_DATA_APP_KEY": "app_key",
                                     "MONITOR_MARKET_DATA_SECRET_KEY": "secret_key"}

ALERT_ENVIRONMENT_OVERRIDES = {"MONITOR_ALERT_WEBHOOK_URL": "webhook_url",
                               "MONITOR_TELEGRAM_BOT_TOKEN": "telegram_bot_token"}


def alerts_with_environment(alerts: AlertsConfig, environ: dict[str, str]) -> AlertsConfig:
    """The alerts config with its secrets taken from the environment where set there; a Telegram chat with no
    bot token from either is refused."""
    overrides = {field: environ[name] for name, field in ALERT_ENVIRONMENT_OVERRIDES.items() if environ.get(name)}
    alerts = msgspec.structs.replace(alerts, **overrides)
    if alerts.telegram_chat_id and not alerts.telegram_bot_token:
        raise ValueError("telegram_chat_id is set but there is no bot token (telegram_bot_token or "
                         "MONITOR_TELEGRAM_BOT_TOKEN)")
    return alerts
