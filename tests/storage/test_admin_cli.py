"""The admin commands, run as a person would (`python3 run.py ...`): the API token is printed once and
only its hash stored; app and secret keys (from environment variables) are stored but never printed back;
on a database without the schema (or part of it) each says to run `migrate` first, exits 1 and writes
nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.store.factory import migrate_url, open_database
from adapters.store.sql_loader import load_migrations
from adapters.store.tokens import hash_token
from adapters.store.url import parse_database_url
from tests.storage.conftest import opened_store
from tests.storage.test_migrations import tables_of

ROOT = Path(__file__).resolve().parents[2]
APP_KEY = "app-key-7f3a9c"
SECRET_KEY = "s3cr3t-'; DROP TABLE accounts; --"
KEYS_FROM_ENV = ("--app-key-env", "XTS_APP_KEY", "--secret-key-env", "XTS_SECRET_KEY")
"""Where `accounts add` reads the app and secret keys: the variables `run_py` sets to APP_KEY and SECRET_KEY."""


def run_py(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "MONITOR_NO_BOOTSTRAP": "1", "XTS_APP_KEY": APP_KEY, "XTS_SECRET_KEY": SECRET_KEY},
    )


async def test_users_accounts_and_permissions_from_the_command_line(database_url):
    await migrate_url(database_url)

    user = run_py("users", "add", "alice", "--database", database_url)
    account = run_py("accounts", "add", "--user", "alice", "--broker", "xts", "--base-url", "https://ttblaze.example",
                     "--client-id", "CL1", *KEYS_FROM_ENV, "--database", database_url)
    permissions = run_py(
        "permissions", "set", "alice", "--strategies", "breakout,momentum", "--database", database_url
    )

    assert user.returncode == 0, user.stderr
    assert account.returncode == 0, account.stderr
    assert permissions.returncode == 0, permissions.stderr
    token = user.stdout.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    printed = (
        user.stdout + user.stderr + account.stdout + account.stderr + permissions.stdout + permissions.stderr
    )
    assert APP_KEY not in printed and SECRET_KEY not in printed
    assert printed.count(token) == 1

    async with opened_store(database_url) as store:
        user_id = await store.user_for_token(token)
        assert user_id == await store.user_id("alice")
        context = await store.load_cycle_context(user_id)
        assert context.regeneration_strategies == ("breakout", "momentum")
        [stored] = await store.broker_accounts(user_id, context.account_ids)
        assert (stored.client_id, stored.app_key, stored.secret_key) == ("CL1", APP_KEY, SECRET_KEY)
        async with store.transaction() as tx:
            [row] = await tx.fetch_all("users/by_token_hash", (hash_token(token),))
        assert token not in row.values()

    off = run_py("permissions", "set", "alice", "--off", "--database", database_url)
    assert off.returncode == 0, off.stderr
    async with opened_store(database_url) as store:
        assert (await store.load_cycle_context(user_id)).regeneration_strategies == ()


async def test_an_account_for_an_unknown_user_is_refused_without_echoing_its_keys(database_url):
    await migrate_url(database_url)

    result = run_py("accounts", "add", "--user", "nobody", "--broker", "paper", "--base-url", "http://127.0.0.1:1",
                    "--client-id", "X", *KEYS_FROM_ENV, "--database", database_url)

    assert result.returncode == 1
    assert "no user named 'nobody'" in result.stderr
    assert APP_KEY not in result.stdout + result.stderr and SECRET_KEY not in result.stdout + result.stderr


MIGRATE_FIRST = "run `python3 run.py migrate` first (with the same --database or $MONITOR_DATABASE_URL)"
ADMIN_COMMANDS = [
    ("users", "add", "alice"),
    ("users", "list"),
    ("users", "disable", "alice"),
    ("accounts", "add", "--user", "alice", "--broker", "paper", "--base-url", "http://127.0.0.1:1",
     "--client-id", "X", *KEYS_FROM_ENV),
    ("accounts", "list"),
    ("permissions", "set", "alice", "--off"),
    ("admin-tokens", "add", "desk"),
    ("admin-tokens", "list"),
    ("admin-tokens", "remove", "desk"),
    ("fair-prices", "set", "SBIN", "800.10", "799.90"),
    ("fair-prices", "clear", "SBIN"),
    ("fair-prices", "list"),
]


@pytest.mark.parametrize("command", ADMIN_COMMANDS, ids=" ".join)
async def test_an_admin_command_on_a_database_without_the_schema_says_to_run_migrate_and_writes_nothing(
        database_url, command):
    await (await open_database(database_url)).close()

    result = run_py(*command, "--database", database_url)

    assert result.returncode == 1
    assert (result.stdout, result.stderr) == (
        "", f"error: {parse_database_url(database_url).redacted()} has no schema yet (no migration applied): "
            f"{MIGRATE_FIRST}\n")
    assert tables_of(database_url) == set()


async def test_an_admin_command_on_a_database_without_the_last_migration_names_it(database_url):
    database = await open_database(database_url)
    try:
        *earlier, last = load_migrations(database.dialect)
        async with database.transaction() as tx:
            await tx.execute("migrations/create_schema_version")
            for migration in earlier:
                for number, statement in enumerate(migration.statements, start=1):
                    await tx.execute_ddl(statement, f"{migration.name} statement {number}")
                await tx.execute("migrations/record", (migration.version, migration.name, datetime.now(UTC)))
    finally:
        await database.close()

    result = run_py("users", "add", "alice", "--database", database_url)

    assert result.returncode == 1
    assert result.stderr == (f"error: {parse_database_url(database_url).redacted()} lacks the migrations "
                             f"{last.name}: {MIGRATE_FIRST}\n")
    async with opened_store(database_url) as store:
        assert await store.user_id("alice") is None


def test_an_admin_command_on_a_sqlite_file_that_does_not_exist_says_to_run_migrate_and_creates_no_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'typo.db'}"

    result = run_py("users", "add", "alice", "--database", url)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {url}: no such file; {MIGRATE_FIRST}\n"
    assert list(tmp_path.iterdir()) == []

