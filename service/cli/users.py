"""`run.py users add NAME`: create a user and print its API token once (only its SHA-256 is stored).
`run.py users limit NAME --daily-loss AMOUNT | --off`: the loss at which the user's automation pauses."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation

from service.cli.database_option import add_database_argument, fail, guarded, run_for_user, run_with_store


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("users", help="manage users")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="create a user and print its API token (shown only this once)")
    add.add_argument("name")
    add_database_argument(add)
    add.set_defaults(handler=guarded(add_user))
    limit = actions.add_parser("limit", help="set the daily loss at which automation pauses by itself")
    limit.add_argument("name")
    which = limit.add_mutually_exclusive_group(required=True)
    which.add_argument("--daily-loss", metavar="AMOUNT", help="a positive amount in INR, e.g. 5000")
    which.add_argument("--off", action="store_true", help="remove the limit")
    add_database_argument(limit)
    limit.set_defaults(handler=guarded(set_limit))


def add_user(args: argparse.Namespace) -> int:
    user_id, token = run_with_store(args.database, lambda store: store.add_user(args.name))
    print(f"user {args.name!r} created (id {user_id})")
    print(f"API token (shown once, only its hash is stored): {token}")
    return 0


def set_limit(args: argparse.Namespace) -> int:
    amount: Decimal | None = None
    if not args.off:
        try:
            amount = Decimal(args.daily_loss)
        except InvalidOperation:
            return fail(f"--daily-loss must be an amount, got {args.daily_loss!r}")
        if not amount.is_finite() or amount <= 0:
            return fail("--daily-loss must be a positive amount")

    if not run_for_user(args.database, args.name, lambda store, user_id: store.set_daily_loss_limit(user_id, amount)):
        return fail(f"no user named {args.name!r}")
    print(f"daily loss limit of {args.name!r}: " + (f"{amount} INR" if amount is not None else "none"))
    return 0
