"""`run.py accounts add --user NAME --broker xts|paper --base-url URL --client-id ID [--app-key K
--secret-key S]`: attach a broker account to a user. The keys are stored, never printed back.
`run.py accounts list [--user NAME] | disable ID | enable ID`: see accounts (never their keys or session
tokens) and take one out of, or back into, monitoring and the batch API."""

from __future__ import annotations

import argparse

from adapters.store.repository import SqlStore
from adapters.store.rows import AccountListing
from service.cli.database_option import add_database_argument, fail, guarded, run_with_store


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("accounts", help="manage broker accounts")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="attach a broker account to a user")
    add.add_argument("--user", required=True, metavar="NAME")
    add.add_argument("--broker", required=True, choices=("xts", "paper"))
    add.add_argument("--base-url", required=True, metavar="URL", help="e.g. https://ttblaze.iifl.com")
    add.add_argument("--client-id", required=True, metavar="ID")
    add.add_argument("--app-key", default="", metavar="K", help="XTS app key (secret, stored, never printed)")
    add.add_argument("--secret-key", default="", metavar="S", help="XTS secret key (stored, never printed)")
    add_database_argument(add)
    add.set_defaults(handler=guarded(add_account))
    listing = actions.add_parser("list", help="accounts: id, user, broker, client id, state (no keys or tokens)")
    listing.add_argument("--user", metavar="NAME", help="only this user's")
    add_database_argument(listing)
    listing.set_defaults(handler=guarded(list_accounts))
    for action, help_text, handler in (
            ("disable", "leave the account out of every cycle and refuse it in batches", disable_account),
            ("enable", "monitor the account again", enable_account)):
        command = actions.add_parser(action, help=help_text)
        command.add_argument("account_id", type=int, metavar="ID")
        add_database_argument(command)
        command.set_defaults(handler=guarded(handler))


def add_account(args: argparse.Namespace) -> int:
    async def work(store: SqlStore) -> int | None:
        user_id = await store.user_id(args.user)
        if user_id is None:
            return None
        return await store.add_account(
            user_id,
            args.broker,
            args.base_url,
            args.client_id,
            app_key=args.app_key,
            secret_key=args.secret_key,
        )

    account_id = run_with_store(args.database, work)
    if account_id is None:
        return fail(f"no user named {args.user!r}")
    keys = "with app and secret keys" if args.app_key or args.secret_key else "without keys"
    print(f"account {account_id} added for {args.user!r}: {args.broker} client {args.client_id!r} ({keys})")
    return 0


def list_accounts(args: argparse.Namespace) -> int:
    async def work(store: SqlStore) -> list[AccountListing] | None:
        user_id = None
        if args.user is not None:
            user_id = await store.user_id(args.user)
            if user_id is None:
                return None
        return await store.list_accounts(user_id)

    accounts = run_with_store(args.database, work)
    if accounts is None:
        return fail(f"no user named {args.user!r}")
    print(f"{'id':>6}  {'user':<24} {'broker':<6}  {'client id':<16} {'active':<6}  {'session':<7}  base url")
    for account in accounts:
        session = "needed" if account.session_needed else "ok"
        print(f"{account.id:>6}  {account.user_name:<24} {account.broker:<6}  {account.client_id:<16} "
              f"{'yes' if account.active else 'no':<6}  {session:<7}  {account.base_url}")
    return 0


def disable_account(args: argparse.Namespace) -> int:
    run_with_store(args.database, lambda store: store.set_account_active(args.account_id, False))
    print(f"account {args.account_id} disabled: left out of every cycle from the next one, refused in batches")
    return 0


def enable_account(args: argparse.Namespace) -> int:
    run_with_store(args.database, lambda store: store.set_account_active(args.account_id, True))
    print(f"account {args.account_id} enabled: monitored from the next cycle")
    return 0
