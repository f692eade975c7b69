"""`run.py permissions set NAME --strategies a,b` / `--off`: which strategies' rejected entries are
regenerated for a user."""

from __future__ import annotations

import argparse

from service.cli.database_option import add_database_argument, fail, guarded, run_for_user


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("permissions", help="entry regeneration permissions")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    set_parser = actions.add_parser("set", help="set or clear a user's regeneration strategies")
    set_parser.add_argument("name")
    choice = set_parser.add_mutually_exclusive_group(required=True)
    choice.add_argument("--strategies", metavar="A,B", help="comma-separated strategy names")
    choice.add_argument("--off", action="store_true", help="turn regeneration off for the user")
    add_database_argument(set_parser)
    set_parser.set_defaults(handler=guarded(set_permissions))


def set_permissions(args: argparse.Namespace) -> int:
    strategies = [] if args.off else [s.strip() for s in args.strategies.split(",") if s.strip()]
    if not args.off and not strategies:
        return fail("--strategies needs at least one name (use --off to turn regeneration off)")

    if not run_for_user(args.database, args.name, lambda store, user_id: store.set_permissions(user_id, strategies)):
        return fail(f"no user named {args.name!r}")
    print(f"regeneration for {args.name!r}: " + (", ".join(sorted(set(strategies))) if strategies else "off"))
    return 0
