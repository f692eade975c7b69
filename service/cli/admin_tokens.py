"""`run.py admin-tokens add NAME`: create an admin token, printed once (only its SHA-256 is stored), for a desk's
pricing to send to `POST /api/fair-prices` and `DELETE /api/fair-prices/{symbol}`. `run.py admin-tokens list |
remove NAME`: see them (names and creation times, never a token) and revoke one at once. An admin token is not a
user's: neither opens the other's routes."""

from __future__ import annotations

import argparse

from service.cli.database_option import add_action, fail, run_with_store

NAME_MAX_CHARS = 64
"""`admin_tokens.name` is VARCHAR(64)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("admin-tokens", help="manage the admin tokens of a desk's pricing")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    add_action(actions, "add", "create an admin token and print it (shown only this once)", add_admin_token, "name")
    add_action(actions, "list", "every admin token's name and creation time (never a token)", list_admin_tokens)
    add_action(actions, "remove", "revoke an admin token: refused from the next request on", remove_admin_token,
               "name")


def add_admin_token(args: argparse.Namespace) -> int:
    if not 1 <= len(args.name) <= NAME_MAX_CHARS:
        return fail(f"an admin token's name has 1 to {NAME_MAX_CHARS} characters")
    token = run_with_store(args.database, lambda store: store.add_admin_token(args.name))
    print(f"admin token {args.name!r} created")
    print(f"admin token (shown once, only its hash is stored): {token}")
    return 0


def list_admin_tokens(args: argparse.Namespace) -> int:
    tokens = run_with_store(args.database, lambda store: store.list_admin_tokens())
    print(f"{'name':<24} created (UTC)")
    for token in tokens:
        print(f"{token.name:<24} {token.created_at:%Y-%m-%d %H:%M:%S}")
    return 0


def remove_admin_token(args: argparse.Namespace) -> int:
    if not run_with_store(args.database, lambda store: store.remove_admin_token(args.name)):
        return fail(f"no admin token named {args.name!r}")
    print(f"admin token {args.name!r} removed: it is refused from the next request on")
    return 0
