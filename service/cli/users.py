"""`run.py users add NAME`: create a user and print its API token once (only its SHA-256 is stored)."""

from __future__ import annotations

import argparse

from service.cli.database_option import add_database_argument, guarded, run_with_store


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("users", help="manage users")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="create a user and print its API token (shown only this once)")
    add.add_argument("name")
    add_database_argument(add)
    add.set_defaults(handler=guarded(add_user))


def add_user(args: argparse.Namespace) -> int:
    user_id, token = run_with_store(args.database, lambda store: store.add_user(args.name))
    print(f"user {args.name!r} created (id {user_id})")
    print(f"API token (shown once, only its hash is stored): {token}")
    return 0
