"""The command line: one module per sub-command, each exposing `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib

SUBCOMMAND_MODULES: tuple[str, ...] = (
    "service.cli.test",
    "service.cli.paper_broker",
    "service.cli.demo",
    "service.cli.serve",
    "service.cli.migrate",
    "service.cli.users",
    "service.cli.accounts",
    "service.cli.admin_tokens",
    "service.cli.fair_prices",
    "service.cli.secrets",
    "service.cli.permissions",
    "service.cli.replay",
    "service.cli.audit",
    "service.cli.mutation",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py",
        description="Trading monitoring loop: per-user cycles that keep orders, PnL and stops in step "
        "with the broker.",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser
