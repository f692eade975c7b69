"""`run.py serve --config monitor.toml [--database URL]`: the production service. A config that cannot be used
exits 2 with the field and the reason. It logs, at start, the database it uses (password masked) and where
that came from: --database, else $MONITOR_DATABASE_URL, else the config's database_url, else the default
./monitor.db. SIGTERM (or Ctrl-C) stops taking ticks, lets running cycles finish up to
the configured deadline, flushes the event log, closes the pools and exits 0. A stop that is not done 15 s past
that deadline writes every thread's stack to stderr and exits 1. SIGUSR1 writes every thread's stack to
stderr (to see what a service that does not answer is doing) and changes nothing."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

from actors.pnl_calculator import fifo
from adapters.store.url import DATABASE_URL_ENV, DatabaseUrl, DatabaseUrlError, parse_database_url
from domain.errors import AdapterError
from service import garbage_collector
from service.cli.stop_signal import StopSignal
from service.config import ConfigError, load_config
from service.logs import configure_logging
from service.server import Service
from service.web.context import WebSettings

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_S = 15.0
"""Past the drain deadline, how long closing the server, actors and pools may take before serve writes every
thread's stack to stderr and exits 1: a stop that hangs is reported with where it hung, never waited on forever."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the service from a TOML config (production)")
    parser.add_argument("--config", required=True, help="the TOML config file (see monitor.example.toml)")
    parser.add_argument("--database", metavar="URL",
                        help=f"the database; overrides ${DATABASE_URL_ENV} and the config's database_url")
    parser.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config, dict(os.environ))
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    database_url, origin = chosen_database(args.database, args.config, config.database_url, os.environ)
    try:
        database = parse_database_url(database_url)
    except DatabaseUrlError as error:
        print(f"config error: the database URL from {origin}: {error}", file=sys.stderr)
        return 2
    configure_logging(config.logging.level, config.logging.json)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    log.info("database %s, from %s", described(database), origin)
    server = config.server
    garbage_collector.tune_for_service()
    stop = StopSignal()
    try:
        service = Service(
            database_url=database_url, host=server.host, port=server.port, cycle=config.cycle,
            rules=config.rules, broker=config.broker, database=config.database,
            web_settings=WebSettings(heartbeat_s=server.heartbeat_s, max_frame_bytes=server.max_frame_bytes,
                                     allowed_origins=server.allowed_origins, public_origin=server.public_origin,
                                     batch_requests_per_minute=server.batch_requests_per_minute,
                                     batch_deadline_s=server.batch_deadline_s,
                                     manual_cycle_every_s=server.manual_cycle_every_s,
                                     readiness_cache_s=server.readiness_cache_s,
                                     max_connections_per_user=server.max_connections_per_user,
                                     max_send_buffer_bytes=server.max_send_buffer_bytes),
            alerts=config.alerts, market_data=config.market_data, fanout=config.fanout, leases=config.leases)
    except OSError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 1
    except AdapterError as error:
        print(f"cannot start: {error.message}", file=sys.stderr)
        return 1
    garbage_collector.freeze_startup_objects()
    if fifo.COMPILED:
        log.info("FIFO matching: the compiled loop")
    else:
        log.warning("FIFO matching: the Python loop, about 2x slower; the compiled one was not built "
                    "(no C compiler at install time)")
    stop.started()
    print(f"Serving on {service.url}", flush=True)
    stop.wait()
    log.info("stopping: finishing running cycles (up to %s s)", config.shutdown_deadline_s)
    faulthandler.dump_traceback_later(config.shutdown_deadline_s + SHUTDOWN_GRACE_S, exit=True)
    service.close(drain_deadline_s=config.shutdown_deadline_s)
    faulthandler.cancel_dump_traceback_later()
    log.info("stopped")
    return 0


def chosen_database(option: str | None, config_path: str, config_url: str,
                    environ: Mapping[str, str]) -> tuple[str, str]:
    """The database URL serve uses and where it came from, the first of: the --database option,
    $MONITOR_DATABASE_URL, the config file's database_url (`config_url` holds the last two), the default."""
    if option:
        return option, "the --database option"
    if environ.get(DATABASE_URL_ENV):
        return config_url, f"${DATABASE_URL_ENV}"
    with open(config_path, "rb") as file:
        if "database_url" in tomllib.load(file):
            return config_url, f"database_url in {config_path}"
    return config_url, f"the default (no --database, no ${DATABASE_URL_ENV}, no database_url in {config_path})"


def described(database: DatabaseUrl) -> str:
    """The URL with its password masked; a SQLite file also by its absolute path."""
    if database.dialect == "sqlite" and database.database != ":memory:":
        return f"{database.redacted()} (the file {Path(database.database).resolve()})"
    return database.redacted()
