"""`run.py users add NAME`: create a user and print its API token once (only its SHA-256 is stored).
`run.py users limit NAME --daily-loss AMOUNT | --off`: the loss at which the user's automation pauses.
`run.py users list | disable NAME | enable NAME | rotate-token NAME`: see and control who may use the
service; a disabled user's or an old token's open sockets are closed by the server within one heartbeat.
Nothing here prints a token, except a new one, once."""

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
    listing = actions.add_parser("list", help="every user: id, name, active, paused, accounts (no tokens)")
    add_database_argument(listing)
    listing.set_defaults(handler=guarded(list_users))
    for action, help_text, handler in (
            ("disable", "refuse the user's token and close its open sockets (monitoring stops)", disable_user),
            ("enable", "let the user in again with its current token", enable_user),
            ("rotate-token", "replace the user's API token (printed once) and close sockets opened with the old one",
             rotate_token)):
        command = actions.add_parser(action, help=help_text)
        command.add_argument("name")
        add_database_argument(command)
        command.set_defaults(handler=guarded(handler))


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


def list_users(args: argparse.Namespace) -> int:
    users = run_with_store(args.database, lambda store: store.list_users())
    print(f"{'id':>6}  {'name':<24} {'active':<6}  {'paused':<6}  accounts (active)")
    for user in users:
        print(f"{user.id:>6}  {user.name:<24} {_yes(user.active):<6}  {_yes(user.paused):<6}  "
              f"{user.accounts} ({user.active_accounts})")
    return 0


def disable_user(args: argparse.Namespace) -> int:
    return _set_active(args.database, args.name, False)


def enable_user(args: argparse.Namespace) -> int:
    return _set_active(args.database, args.name, True)


def _set_active(database: str, name: str, active: bool) -> int:
    if not run_for_user(database, name, lambda store, user_id: store.set_user_active(user_id, active)):
        return fail(f"no user named {name!r}")
    print(f"user {name!r} " + ("enabled" if active else
                                "disabled: its token is refused and the server closes its open sockets"))
    return 0


def rotate_token(args: argparse.Namespace) -> int:
    tokens: list[str] = []

    async def rotate(store, user_id: int) -> None:
        tokens.append(await store.rotate_token(user_id))

    if not run_for_user(args.database, args.name, rotate):
        return fail(f"no user named {args.name!r}")
    print(f"API token of {args.name!r} replaced; the old one no longer works and its sockets are closed")
    print(f"new API token (shown once, only its hash is stored): {tokens[0]}")
    return 0


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
