"""`run.py accounts add --user NAME --broker BROKER --base-url URL --client-id ID [--app-key-env NAME
--secret-key-env NAME | --keys-stdin]`: attach a broker account to a user. The keys come from environment
variables or stdin, never from the command line (where the process list shows them); they are stored sealed
(MONITOR_SECRET_KEY), never printed back. BROKER is a name of the broker registry (`BROKER_NAMES`).
`run.py accounts list [--user NAME] | disable ID | enable ID`: see accounts (never their keys or session
tokens) and take one out of, or back into, monitoring and the batch API."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from adapters.broker.registry import BROKER_NAMES
from adapters.store.repository import SqlStore
from domain.records import AccountListing
from service.cli.database_option import add_database_argument, fail, guarded, run_with_store


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("accounts", help="manage broker accounts")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="attach a broker account to a user")
    add.add_argument("--user", required=True, metavar="NAME")
    add.add_argument("--broker", required=True, choices=BROKER_NAMES)
    add.add_argument("--base-url", required=True, metavar="URL", help="e.g. https://ttblaze.iifl.com")
    add.add_argument("--client-id", required=True, metavar="ID")
    add.add_argument("--app-key-env", metavar="NAME", help="the environment variable holding the XTS app key")
    add.add_argument("--secret-key-env", metavar="NAME",
                     help="the environment variable holding the XTS secret key")
    add.add_argument("--keys-stdin", action="store_true",
                     help="read the app key, then the secret key, from stdin (prompted on a terminal, not echoed)")
    add.add_argument("--app-key", "--secret-key", dest="key_in_argv", help=argparse.SUPPRESS)
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


class KeysRefused(ValueError):
    """The keys were given in a way `accounts add` does not take; the message says which way to use."""


def _from_env(name: str | None) -> str:
    if name is None:
        return ""
    value = os.environ.get(name, "")
    if not value:
        raise KeysRefused(f"the environment variable {name} is not set or empty")
    return value


def _from_stdin(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\r\n")


def given_keys(args: argparse.Namespace) -> tuple[str, str]:
    """The app key and secret key from the environment variables named, or stdin; ("", "") when none."""
    if args.key_in_argv is not None:
        raise KeysRefused("keys on the command line show in the process list and shell history: pass "
                          "--app-key-env NAME / --secret-key-env NAME, or --keys-stdin")
    if args.keys_stdin:
        if args.app_key_env or args.secret_key_env:
            raise KeysRefused("--keys-stdin reads both keys: leave out --app-key-env and --secret-key-env")
        return _from_stdin("app key: "), _from_stdin("secret key: ")
    return _from_env(args.app_key_env), _from_env(args.secret_key_env)


def add_account(args: argparse.Namespace) -> int:
    try:
        app_key, secret_key = given_keys(args)
    except KeysRefused as refused:
        return fail(str(refused))

    async def work(store: SqlStore) -> int | None:
        user_id = await store.user_id(args.user)
        if user_id is None:
            return None
        return await store.add_account(
            user_id,
            args.broker,
            args.base_url,
            args.client_id,
            app_key=app_key,
            secret_key=secret_key,
        )

    account_id = run_with_store(args.database, work)
    if account_id is None:
        return fail(f"no user named {args.user!r}")
    given = " and ".join(name for name, value in (("app key", app_key), ("secret key", secret_key)) if value)
    keys = f"with {given}, sealed" if given else "without keys"
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
