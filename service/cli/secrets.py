"""`run.py secrets new-key | status | encrypt | rotate [--database URL]`: the key the broker secrets are
sealed under (adapters/store/secrets.py). `new-key` prints a fresh key for MONITOR_SECRET_KEY; `status`
counts the stored values (in clear, sealed by key id) and says whether `serve` would start with the key
given (sealing any value in clear as it migrates); `encrypt` seals the values left in clear since before
migration 010, as `migrate` with a key does; `rotate` re-seals every value
under MONITOR_SECRET_KEY, the previous key(s) given in MONITOR_SECRET_OLD_KEYS. Run `encrypt` and `rotate`
with the service stopped. No value or key is printed, except the new key `new-key` is asked for."""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import UTC, datetime

from adapters.store.account_secrets import refusal, reseal_all, secrets_state
from adapters.store.repository import SqlStore
from adapters.store.secrets import NO_KEY, OLD_KEYS_ENV, OLD_KEYS_FILE_ENV, SecretKeyError, new_key_text
from service.cli.database_option import add_database_argument, guarded, run_with_store


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("secrets", help="the key broker secrets are sealed under: new, encrypt, rotate")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    actions.add_parser("new-key", help="print a fresh random key (base64 of 32 bytes) for MONITOR_SECRET_KEY") \
        .set_defaults(handler=new_key)
    for action, help_text, handler in (
            ("status", "count the stored secrets (clear, sealed by key id); would serve start?", status),
            ("encrypt", "seal the secrets stored in clear under MONITOR_SECRET_KEY", encrypt),
            ("rotate", f"re-seal every secret under MONITOR_SECRET_KEY; the old key(s) in {OLD_KEYS_ENV}", rotate)):
        command = actions.add_parser(action, help=help_text)
        add_database_argument(command)
        command.set_defaults(handler=guarded(handler))


def new_key(args: argparse.Namespace) -> int:
    print(new_key_text())
    return 0


def status(args: argparse.Namespace) -> int:
    async def work(store: SqlStore) -> tuple[str, str | None, int]:
        state = await secrets_state(store.database)
        by_key = ", ".join(f"{n} under key {k}" for k, n in sorted(state.sealed_by_key.items())) or "none sealed"
        sealed_as_it_migrates = replace(state, clear=0) if store.keyring is not None else state
        return (f"{state.accounts} account(s); {state.clear} secret(s) in clear; {by_key}",
                refusal(sealed_as_it_migrates, store.keyring), state.clear)

    counts, problem, clear = run_with_store(args.database, work)
    print(counts)
    if problem:
        print(f"serve would refuse to start: {problem}")
    elif clear:
        print(f"serve would seal the {clear} secret(s) in clear under the key given as it migrates, then start")
    else:
        print("serve would start with the key given")
    return 1 if problem else 0


def encrypt(args: argparse.Namespace) -> int:
    return _reseal(args, rotating=False)


def rotate(args: argparse.Namespace) -> int:
    return _reseal(args, rotating=True)


def _reseal(args: argparse.Namespace, rotating: bool) -> int:
    async def work(store: SqlStore) -> tuple[int, str]:
        if store.keyring is None:
            raise SecretKeyError(NO_KEY)
        if rotating and not store.keyring.older:
            raise SecretKeyError(f"rotate needs the previous key(s): set {OLD_KEYS_ENV} (comma-separated) or "
                                 f"{OLD_KEYS_FILE_ENV}, and the new key as MONITOR_SECRET_KEY")
        return await reseal_all(store.database, store.keyring, datetime.now(UTC)), store.keyring.current_id

    written, current = run_with_store(args.database, work)
    print(f"{written} secret(s) sealed under key {current}; every stored secret is now sealed under it")
    return 0
