"""The broker secrets from the command line, run as a person would (`python3 run.py ...`), on SQLite and
MariaDB: `accounts add` takes the keys from environment variables or stdin and never from argv (a key on
the command line is refused; the process list of a running `accounts add` holds none); values left in clear
are sealed by `migrate` with a key, by `serve` as it migrates and by `secrets encrypt`; `secrets rotate`
moves every value to a new key; `serve` refuses to start with a clear message without a key or with a key
that did not seal the values."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.store.factory import connect_store, migrate_url, open_database
from adapters.store.migrations import migrate
from adapters.store.secrets import Keyring, key_id
from tests.storage.test_migrations import migrate_up_to
from tests.storage.test_sealed_secrets import dump

ROOT = Path(__file__).resolve().parents[2]
APP_KEY = "app-key-7f3a9c"
SECRET_KEY = "s3cr3t-'; DROP TABLE accounts; --"
KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(50, 82))).decode()
BASE = {"PATH": "/usr/bin:/bin", "MONITOR_NO_BOOTSTRAP": "1"}
ADD = ("accounts", "add", "--user", "alice", "--broker", "xts", "--base-url", "https://ttblaze.example",
       "--client-id", "CL1")


def run_py(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**BASE, **env}, input=stdin)


async def stored_keys(url: str, key: str) -> list[tuple[str, str, str]]:
    store = await connect_store(url, keyring=Keyring(current=base64.b64decode(key)))
    try:
        user_id = await store.user_id("alice")
        ids = [a.id for a in await store.list_accounts(user_id)]
        return [(a.client_id, a.app_key, a.secret_key) for a in await store.broker_accounts(user_id, ids)]
    finally:
        await store.close()


def clear_in(url: str) -> list[str]:
    text = "\n".join(dump(url))
    return [secret for secret in (APP_KEY, SECRET_KEY) if secret in text]


@pytest.fixture
async def with_alice(database_url: str) -> str:
    await migrate_url(database_url)
    assert run_py("users", "add", "alice", "--database", database_url, env={}).returncode == 0
    return database_url


async def test_accounts_add_takes_the_keys_from_named_environment_variables(with_alice):
    env = {"MONITOR_SECRET_KEY": KEY_A, "XTS_APP": APP_KEY, "XTS_SECRET": SECRET_KEY}
    args = (*ADD, "--app-key-env", "XTS_APP", "--secret-key-env", "XTS_SECRET", "--database", with_alice)

    result = run_py(*args, env=env)

    assert result.returncode == 0, result.stderr
    assert "with app key and secret key, sealed" in result.stdout
    assert APP_KEY not in result.stdout + result.stderr + " ".join(args)
    assert SECRET_KEY not in result.stdout + result.stderr + " ".join(args)
    assert await stored_keys(with_alice, KEY_A) == [("CL1", APP_KEY, SECRET_KEY)]
    assert clear_in(with_alice) == []


async def test_accounts_add_reads_the_keys_from_stdin_and_its_process_list_holds_none(with_alice):
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), *ADD, "--keys-stdin", "--database", with_alice],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=ROOT, env={**BASE, "MONITOR_SECRET_KEY": KEY_A})
    cmdline: list[str] = []
    while "--keys-stdin" not in cmdline and process.poll() is None:  # until the child has exec'd run.py
        time.sleep(0.01)
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode().split("\0")
    out, err = process.communicate(f"{APP_KEY}\n{SECRET_KEY}\n", timeout=120)

    assert process.returncode == 0, err
    assert "--keys-stdin" in cmdline
    assert not any(APP_KEY in part or SECRET_KEY in part for part in cmdline)
    assert APP_KEY not in out + err and SECRET_KEY not in out + err
    assert await stored_keys(with_alice, KEY_A) == [("CL1", APP_KEY, SECRET_KEY)]
    assert clear_in(with_alice) == []


@pytest.mark.parametrize(("args", "env", "message"), [
    (("--secret-key", SECRET_KEY), {"MONITOR_SECRET_KEY": KEY_A},
     "error: keys on the command line show in the process list and shell history"),
    (("--app-key", APP_KEY), {"MONITOR_SECRET_KEY": KEY_A},
     "error: keys on the command line show in the process list and shell history"),
    (("--secret-key-env", "XTS_SECRET"), {"MONITOR_SECRET_KEY": KEY_A},
     "error: the environment variable XTS_SECRET is not set or empty"),
    (("--secret-key-env", "XTS_SECRET"), {"XTS_SECRET": SECRET_KEY}, "error: no secret key: set MONITOR_SECRET_KEY"),
    (("--keys-stdin", "--app-key-env", "XTS_SECRET"), {"MONITOR_SECRET_KEY": KEY_A, "XTS_SECRET": SECRET_KEY},
     "error: --keys-stdin reads both keys"),
], ids=["secret-key argv", "app-key argv", "unset variable", "no MONITOR_SECRET_KEY", "stdin and env"])
async def test_accounts_add_refuses_keys_it_does_not_take_and_stores_nothing(with_alice, args, env, message):
    result = run_py(*ADD, *args, "--database", with_alice, env=env, stdin="")

    assert result.returncode == 1
    assert result.stderr.startswith(message), result.stderr
    assert APP_KEY not in result.stdout + result.stderr and SECRET_KEY not in result.stdout + result.stderr
    assert await stored_keys(with_alice, KEY_A) == []


async def seed_in_clear(url: str) -> None:
    """An account written before migration 010, its keys and token in clear, then migrated."""
    database = await open_database(url)
    try:
        await migrate_up_to(database, 9)
        async with database.transaction() as tx:
            await tx.execute_ddl("INSERT INTO users (id, name, token_hash, created_at) VALUES "
                                 f"(1, 'alice', '{'0' * 64}', '2026-01-05 04:00:00')", "a user of 009")
            await tx.execute_ddl(
                "INSERT INTO accounts (user_id, broker, base_url, client_id, app_key, secret_key, token, "
                "created_at, updated_at) VALUES (1, 'xts', 'https://ttblaze.example', 'CL1', "
                f"'{APP_KEY}', '{SECRET_KEY.replace(chr(39), chr(39) * 2)}', 'token-in-clear', "
                "'2026-01-05 04:00:00', '2026-01-05 04:00:00')", "an account of 009")
        await migrate(database)
    finally:
        await database.close()


async def test_encrypt_then_rotate_from_the_command_line(database_url):
    await seed_in_clear(database_url)
    assert clear_in(database_url) == [APP_KEY, SECRET_KEY]
    status = run_py("secrets", "status", "--database", database_url, env={"MONITOR_SECRET_KEY": KEY_A})
    assert (status.returncode, status.stdout) == (0, "1 account(s); 3 secret(s) in clear; none sealed\nserve would "
                                                  "seal the 3 secret(s) in clear under the key given as it migrates, "
                                                  "then start\n")
    keyless = run_py("secrets", "status", "--database", database_url, env={})
    assert (keyless.returncode, keyless.stdout.splitlines()[1]) == (
        1, "serve would refuse to start: 1 broker account(s) are stored and no secret key: set MONITOR_SECRET_KEY "
           "(base64 of 32 bytes; `run.py secrets new-key` prints one) or MONITOR_SECRET_KEY_FILE")

    no_key = run_py("secrets", "encrypt", "--database", database_url, env={})
    assert (no_key.returncode, no_key.stderr.split(":")[:2]) == (1, ["error", " no secret key"])
    encrypted = run_py("secrets", "encrypt", "--database", database_url, env={"MONITOR_SECRET_KEY": KEY_A})
    assert encrypted.returncode == 0, encrypted.stderr
    id_a, id_b = key_id(base64.b64decode(KEY_A)), key_id(base64.b64decode(KEY_B))
    assert encrypted.stdout == f"3 secret(s) sealed under key {id_a}; every stored secret is now sealed under it\n"
    assert clear_in(database_url) == [] and "token-in-clear" not in "\n".join(dump(database_url))
    assert await stored_keys(database_url, KEY_A) == [("CL1", APP_KEY, SECRET_KEY)]

    without_old = run_py("secrets", "rotate", "--database", database_url, env={"MONITOR_SECRET_KEY": KEY_B})
    assert (without_old.returncode, without_old.stderr.startswith("error: rotate needs the previous key(s)")) == (
        1, True)
    rotated = run_py("secrets", "rotate", "--database", database_url,
                     env={"MONITOR_SECRET_KEY": KEY_B, "MONITOR_SECRET_OLD_KEYS": KEY_A})
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.startswith(f"3 secret(s) sealed under key {id_b};")
    status = run_py("secrets", "status", "--database", database_url, env={"MONITOR_SECRET_KEY": KEY_B})
    assert (status.returncode, status.stdout) == (
        0, f"1 account(s); 0 secret(s) in clear; 3 under key {id_b}\nserve would start with the key given\n")
    assert await stored_keys(database_url, KEY_B) == [("CL1", APP_KEY, SECRET_KEY)]
    assert clear_in(database_url) == [] and "token-in-clear" not in "\n".join(dump(database_url))


def test_new_key_prints_a_fresh_32_byte_key():
    first, second = (run_py("secrets", "new-key", env={}).stdout.strip() for _ in range(2))
    assert len(base64.b64decode(first, validate=True)) == 32 and first != second


def serve_refusal(tmp_path: Path, url: str, env: dict[str, str]) -> tuple[int, str]:
    config = tmp_path / "monitor.toml"
    config.write_text("[server]\nport = 0\n")
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "serve", "--config", str(config),
                                "--database", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=tmp_path, env={**BASE, **env})
    try:
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert "Serving on" not in out
    return process.returncode, err


async def test_serve_refuses_to_start_without_the_key_that_sealed_the_secrets(with_alice, tmp_path):
    added = run_py(*ADD, "--secret-key-env", "XTS_SECRET", "--database", with_alice,
                   env={"MONITOR_SECRET_KEY": KEY_A, "XTS_SECRET": SECRET_KEY})
    assert added.returncode == 0, added.stderr
    id_a, id_b = key_id(base64.b64decode(KEY_A)), key_id(base64.b64decode(KEY_B))

    code, err = serve_refusal(tmp_path, with_alice, {})
    assert code == 1
    assert "cannot start: 1 broker account(s) are stored and no secret key: set MONITOR_SECRET_KEY" in err
    code, err = serve_refusal(tmp_path, with_alice, {"MONITOR_SECRET_KEY": KEY_B})
    assert code == 1
    assert (f"cannot start: stored secrets are sealed under key(s) {id_a}, not in the keyring (given: {id_b})"
            in err)
    code, err = serve_refusal(tmp_path, with_alice, {"MONITOR_SECRET_KEY": "too-short"})
    assert code == 1 and "cannot start: a secret key must be base64 text" in err
    assert SECRET_KEY not in err and KEY_A not in err and KEY_B not in err


async def test_migrate_seals_the_values_in_clear_when_a_key_is_given_and_says_what_is_left_without_one(
        database_url):
    await seed_in_clear(database_url)

    keyless = run_py("migrate", "--database", database_url, env={})
    assert keyless.returncode == 0, keyless.stderr
    assert keyless.stdout.endswith(": schema is up to date\n")
    assert ("3 broker secret(s) are stored in clear; run migrate again with MONITOR_SECRET_KEY set to seal them "
            "(serve refuses to start until they are)") in keyless.stderr
    assert clear_in(database_url) == [APP_KEY, SECRET_KEY]

    keyed = run_py("migrate", "--database", database_url, env={"MONITOR_SECRET_KEY": KEY_A})
    assert keyed.returncode == 0, keyed.stderr
    assert f"sealed 3 broker secret(s) stored in clear under key {key_id(base64.b64decode(KEY_A))}" in keyed.stdout
    assert keyed.stderr == ""
    assert clear_in(database_url) == [] and "token-in-clear" not in "\n".join(dump(database_url))
    assert await stored_keys(database_url, KEY_A) == [("CL1", APP_KEY, SECRET_KEY)]
    again = run_py("migrate", "--database", database_url, env={"MONITOR_SECRET_KEY": KEY_A})
    assert "sealed" not in again.stdout and again.stderr == ""


async def test_serve_with_the_key_seals_the_values_in_clear_as_it_migrates_and_starts(database_url, tmp_path):
    await seed_in_clear(database_url)
    config = tmp_path / "monitor.toml"
    config.write_text("[server]\nport = 0\n")
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "serve", "--config", str(config),
                                "--database", database_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=tmp_path, env={**BASE, "MONITOR_SECRET_KEY": KEY_A})
    try:
        started = process.stdout.readline()
        process.terminate()
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()

    assert started.startswith("Serving on "), err
    assert f"sealed 3 broker secret(s) stored in clear under key {key_id(base64.b64decode(KEY_A))}" in err
    assert clear_in(database_url) == [] and "token-in-clear" not in "\n".join(dump(database_url))
    assert await stored_keys(database_url, KEY_A) == [("CL1", APP_KEY, SECRET_KEY)]
    assert APP_KEY not in err and SECRET_KEY not in err and KEY_A not in err

