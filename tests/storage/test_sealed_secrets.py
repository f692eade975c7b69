"""Broker secrets at rest, on SQLite and MariaDB: after accounts are added with known keys and a session
token, no table of the database holds any of them in clear (every row, every column, as text); the store
reads them back; a value copied to another account does not open; values written in clear before migration
010 are sealed by `reseal_all`; rotation to a new key end to end; and the check `serve` makes."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator

import pymysql
import pytest

from adapters.store.account_secrets import SecretsState, refusal, reseal_all, seal_clear, secrets_state
from adapters.store.factory import open_database
from adapters.store.migrations import migrate
from adapters.store.repository import SqlStore
from adapters.store.secrets import Keyring, SecretKeyError, key_id
from adapters.store.url import parse_database_url
from tests.storage.conftest import T0
from tests.storage.test_migrations import MIGRATIONS, migrate_up_to

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
SECRETS = {
    "ALPHA": ("app-key-alpha-1f3e", "secret-key-alpha-9c2d", "session-token-alpha-77aa"),
    "BETA": ("app-key-beta-5b6c", "secret-key-beta-0e1f", "session-token-beta-44bb"),
}


def dump(url: str) -> list[str]:
    """Every value of every row of every table, as text."""
    parsed = parse_database_url(url)
    if parsed.dialect == "sqlite":
        with sqlite3.connect(parsed.database) as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return [str(v) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"') for v in row]
    conn = pymysql.connect(host=parsed.host, port=parsed.port, user=parsed.user, password=parsed.password,
                           database=parsed.database)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW TABLES")
            tables = [r[0] for r in cur.fetchall()]
            values = []
            for table in tables:
                cur.execute(f"SELECT * FROM `{table}`")
                values += [v.decode("latin-1") if isinstance(v, bytes) else str(v) for row in cur.fetchall()
                           for v in row]
            return values
    finally:
        conn.close()


def clear_secrets_in(url: str) -> list[str]:
    text = "\n".join(dump(url))
    return [secret for triple in SECRETS.values() for secret in triple if secret in text]


async def add_accounts(store: SqlStore) -> tuple[int, dict[str, int]]:
    user_id, _ = await store.add_user("alice")
    ids = {}
    for client, (app_key, secret_key, token) in SECRETS.items():
        ids[client] = await store.add_account(user_id, "xts", "http://127.0.0.1:9000", client,
                                              app_key=app_key, secret_key=secret_key)
        await store.set_account_token(user_id, ids[client], token)
    return user_id, ids


async def read_back(store: SqlStore, user_id: int, ids: dict[str, int]) -> dict[str, tuple[str, str, str]]:
    accounts = await store.broker_accounts(user_id, list(ids.values()))
    return {a.client_id: (a.app_key, a.secret_key, a.token) for a in accounts}


async def given_accounts_of_009(store: SqlStore, *clients: str) -> int:
    """Alice on a database at migration 009, with an account of each of `clients` as 009 stored it: keys and
    token in clear. Her user id."""
    await migrate_up_to(store.database, 9)
    user_id, _ = await store.add_user("alice")
    async with store.database.transaction() as tx:
        for client in clients:
            app_key, secret_key, token = SECRETS[client]
            await tx.execute_ddl(
                "INSERT INTO accounts (user_id, broker, base_url, client_id, app_key, secret_key, token, "
                f"created_at, updated_at) VALUES ({user_id}, 'xts', 'http://127.0.0.1:9000', '{client}', "
                f"'{app_key}', '{secret_key}', '{token}', '2026-01-05 04:00:00', '2026-01-05 04:00:00')",
                "an account of 009")
    return user_id


@contextlib.asynccontextmanager
async def store_on(url: str, keyring: Keyring | None) -> AsyncIterator[SqlStore]:
    """A store at T0 on the database at `url` (not migrated), sealing with `keyring`; closed afterwards."""
    store = SqlStore(await open_database(url), now=lambda: T0, keyring=keyring)
    try:
        yield store
    finally:
        await store.close()


async def test_no_table_holds_a_secret_in_clear_and_the_store_reads_them_back(database_url):
    async with store_on(database_url, Keyring(current=KEY_A)) as store:
        database = store.database
        await migrate(database)
        user_id, ids = await add_accounts(store)
        assert await read_back(store, user_id, ids) == SECRETS
        state = await secrets_state(database)
        assert (state.accounts, state.clear, dict(state.sealed_by_key)) == (2, 0, {key_id(KEY_A): 6})
        assert refusal(state, Keyring(current=KEY_A)) is None
    assert clear_secrets_in(database_url) == []
    assert sum(value.startswith(f"enc:v1:{key_id(KEY_A)}:") for value in dump(database_url)) == 6


async def test_a_value_copied_to_another_account_does_not_open(database_url):
    async with store_on(database_url, Keyring(current=KEY_A)) as store:
        database = store.database
        await migrate(database)
        user_id, ids = await add_accounts(store)
        async with database.transaction() as tx:
            alpha = {row["id"]: row for row in await tx.fetch_all("accounts/secrets")}[ids["ALPHA"]]
            await tx.execute_ddl(f"UPDATE accounts SET token_sealed = '{alpha['token_sealed']}' "
                                 f"WHERE id = {ids['BETA']}", "copy a sealed token to another account")
        assert await read_back(store, user_id, {"ALPHA": ids["ALPHA"]}) == {"ALPHA": SECRETS["ALPHA"]}
        with pytest.raises(SecretKeyError, match=f"account {ids['BETA']} token does not open"):
            await store.broker_accounts(user_id, [ids["BETA"]])


async def test_without_a_keyring_keys_are_refused_and_nothing_is_written(database_url):
    async with store_on(database_url, None) as store:
        database = store.database
        await migrate(database)
        user_id, _ = await store.add_user("alice")
        with pytest.raises(SecretKeyError, match="no secret key: set MONITOR_SECRET_KEY"):
            await store.add_account(user_id, "xts", "http://127.0.0.1:9000", "C1", app_key="k", secret_key="s")
        assert await store.list_accounts() == []
        keyless = await store.add_account(user_id, "paper", "http://127.0.0.1:9000", "C2")
        with pytest.raises(SecretKeyError, match="no secret key"):
            await store.set_account_token(user_id, keyless, "session-token")
        state = await secrets_state(database)
        assert refusal(state, None) == "1 broker account(s) are stored and no secret key: set MONITOR_SECRET_KEY " \
            "(base64 of 32 bytes; `run.py secrets new-key` prints one) or MONITOR_SECRET_KEY_FILE"


def test_serve_needs_no_key_before_the_first_account():
    assert refusal(SecretsState(accounts=0, clear=0, sealed_by_key={}), None) is None


async def test_values_in_clear_from_before_010_are_sealed_by_reseal_all(database_url):
    ring = Keyring(current=KEY_A)
    async with store_on(database_url, ring) as store:
        database = store.database
        user_id = await given_accounts_of_009(store, *SECRETS)
        assert await migrate(database) == MIGRATIONS[9:]
        state = await secrets_state(database)
        assert (state.clear, dict(state.sealed_by_key)) == (6, {})
        assert "6 broker secret(s) are stored in clear" in refusal(state, ring)
        assert len(clear_secrets_in(database_url)) == 6

        assert await reseal_all(database, ring, T0) == 6
        assert await reseal_all(database, ring, T0) == 0, "values sealed under the current key stay as they are"

        assert clear_secrets_in(database_url) == []
        assert refusal(await secrets_state(database), ring) is None
        ids = {a.client_id: a.id for a in await store.list_accounts()}
        assert await read_back(store, user_id, ids) == SECRETS


async def test_seal_clear_seals_only_the_accounts_with_values_in_clear_and_fails_whole_on_an_unknown_key(
        database_url):
    ring_a = Keyring(current=KEY_A)
    async with store_on(database_url, Keyring(current=KEY_B)) as store:
        database = store.database
        user_id = await given_accounts_of_009(store, "ALPHA")
        await migrate(database)
        beta = await store.add_account(user_id, "xts", "http://127.0.0.1:9000", "BETA",
                                       app_key=SECRETS["BETA"][0], secret_key=SECRETS["BETA"][1])
        await store.set_account_token(user_id, beta, SECRETS["BETA"][2])

        assert await seal_clear(database, ring_a, T0) == 3, "BETA, sealed under key B, is not opened"
        assert await seal_clear(database, ring_a, T0) == 0
        state = await secrets_state(database)
        assert (state.clear, dict(state.sealed_by_key)) == (0, {key_id(KEY_A): 3, key_id(KEY_B): 3})
        ids = {a.client_id: a.id for a in await store.list_accounts()}
        assert await read_back(SqlStore(database, now=lambda: T0, keyring=ring_a), user_id,
                               {"ALPHA": ids["ALPHA"]}) == {"ALPHA": SECRETS["ALPHA"]}

        async with database.transaction() as tx:
            await tx.execute_ddl(f"UPDATE accounts SET token = 'clear-again' WHERE id = {ids['ALPHA']}",
                                 "a clear value beside values sealed under key A")
        with pytest.raises(SecretKeyError):
            await seal_clear(database, Keyring(current=KEY_B), T0)
        assert (await secrets_state(database)).clear == 1, "nothing written"
        assert (await secrets_state(database)).sealed_by_key == {key_id(KEY_A): 3, key_id(KEY_B): 3}


async def test_rotation_reseals_every_value_under_the_new_key(database_url):
    async with store_on(database_url, Keyring(current=KEY_A)) as old:
        database = old.database
        await migrate(database)
        user_id, ids = await add_accounts(old)
        sealed_before = [v for v in dump(database_url) if v.startswith("enc:")]
        rotating = Keyring(current=KEY_B, older=(KEY_A,))

        assert await reseal_all(database, rotating, T0) == 6

        state = await secrets_state(database)
        assert dict(state.sealed_by_key) == {key_id(KEY_B): 6}
        assert not set(sealed_before) & set(dump(database_url))
        assert clear_secrets_in(database_url) == []
        new = SqlStore(database, keyring=Keyring(current=KEY_B))
        assert await read_back(new, user_id, ids) == SECRETS
        assert refusal(state, Keyring(current=KEY_A)) == (
            f"stored secrets are sealed under key(s) {key_id(KEY_B)}, not in the keyring (given: {key_id(KEY_A)}); "
            "give that key as MONITOR_SECRET_KEY or, while rotating, in MONITOR_SECRET_OLD_KEYS")
        with pytest.raises(SecretKeyError, match=f"sealed under key {key_id(KEY_B)}, which is not in the keyring"):
            await old.broker_accounts(user_id, list(ids.values()))
        with pytest.raises(SecretKeyError, match="not in the keyring"):
            await reseal_all(database, Keyring(current=bytes(32)), T0)
        assert dict((await secrets_state(database)).sealed_by_key) == {key_id(KEY_B): 6}, "a failed run writes nothing"
