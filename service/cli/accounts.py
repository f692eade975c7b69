"""`run.py accounts add --user NAME --broker xts|paper --base-url URL --client-id ID [--app-key K
--secret-key S]`: attach a broker account to a user. The keys are stored, never printed back."""

from __future__ import annotations

import argparse

from adapters.store.repository import SqlStore
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
