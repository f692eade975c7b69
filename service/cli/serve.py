"""`run.py serve --config monitor.toml`: the production service. A config that cannot be used exits 2
with the field and the reason; SIGTERM (or Ctrl-C) stops taking ticks, lets running cycles finish up to
the configured deadline, flushes the event log, closes the pools and exits 0."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from actors.pnl_calculator import fifo
from adapters.errors import AdapterError
from adapters.web.context import WebSettings
from service import garbage_collector
from service.cli.stop_signal import StopSignal
from service.config import ConfigError, load_config
from service.logs import configure_logging
from service.server import Service

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the service from a TOML config (production)")
    parser.add_argument("--config", required=True, help="the TOML config file (see monitor.example.toml)")
    parser.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config, dict(os.environ))
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    configure_logging(config.logging.level, config.logging.json)
    server = config.server
    garbage_collector.tune_for_service()
    stop = StopSignal()
    try:
        service = Service(
            database_url=config.database_url, host=server.host, port=server.port, cycle=config.cycle,
            rules=config.rules, broker=config.broker, database=config.database,
            web_settings=WebSettings(heartbeat_s=server.heartbeat_s, max_frame_bytes=server.max_frame_bytes,
                                     allowed_origins=server.allowed_origins,
                                     batch_requests_per_minute=server.batch_requests_per_minute,
                                     manual_cycle_every_s=server.manual_cycle_every_s),
            alerts=config.alerts)
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
    service.close(drain_deadline_s=config.shutdown_deadline_s)
    log.info("stopped")
    return 0
