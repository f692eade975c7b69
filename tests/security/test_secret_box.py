"""adapters/store/secrets.py: AES-GCM sealing round trips, and every way a value must refuse to open
(altered, another account or column, a key the keyring lacks) fails with SecretKeyError; rotation keeps
old values readable while sealing only under the new key; keys from the environment or a file."""

from __future__ import annotations

import base64
import hashlib

import pytest

from adapters.store.secrets import (
    SEALED_PREFIX,
    Keyring,
    SecretKeyError,
    decode_key,
    key_id,
    keyring_from_env,
    new_key_text,
    sealed_key_id,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


def test_round_trip_with_key_id_and_fresh_nonce() -> None:
    ring = Keyring(current=KEY_A)
    first = ring.seal("my-secret-key", 7, "secret_key")
    second = ring.seal("my-secret-key", 7, "secret_key")
    assert first.startswith(f"{SEALED_PREFIX}{key_id(KEY_A)}:")
    assert "my-secret-key" not in first
    assert first != second  # a fresh nonce each time
    assert ring.open(first, 7, "secret_key") == "my-secret-key"
    assert ring.open(second, 7, "secret_key") == "my-secret-key"
    assert ring.seal("", 7, "secret_key") == "" and ring.open("", 7, "secret_key") == ""


def test_key_id_is_first_8_hex_of_sha256() -> None:
    assert key_id(KEY_A) == hashlib.sha256(KEY_A).hexdigest()[:8]
    assert len(key_id(KEY_A)) == 8 and key_id(KEY_A) != key_id(KEY_B)


def test_tampered_value_does_not_open() -> None:
    ring = Keyring(current=KEY_A)
    sealed = ring.seal("token-value", 1, "token")
    blob = bytearray(base64.b64decode(sealed.split(":", 3)[3]))
    blob[-1] ^= 1
    altered = sealed.rsplit(":", 1)[0] + ":" + base64.b64encode(bytes(blob)).decode()
    with pytest.raises(SecretKeyError, match="does not open"):
        ring.open(altered, 1, "token")
    with pytest.raises(SecretKeyError, match="does not open"):
        ring.open(sealed[:-4], 1, "token")


@pytest.mark.parametrize(("account_id", "column"), [(2, "token"), (1, "app_key")])
def test_other_row_or_column_does_not_open(account_id: int, column: str) -> None:
    ring = Keyring(current=KEY_A)
    sealed = ring.seal("token-value", 1, "token")
    with pytest.raises(SecretKeyError, match="does not open"):
        ring.open(sealed, account_id, column)


def test_unknown_key_id_is_named() -> None:
    sealed = Keyring(current=KEY_A).seal("x", 1, "app_key")
    with pytest.raises(SecretKeyError, match=f"sealed under key {key_id(KEY_A)}, which is not in the keyring"):
        Keyring(current=KEY_B).open(sealed, 1, "app_key")


def test_rotation_opens_old_seals_new() -> None:
    old_value = Keyring(current=KEY_A).seal("s", 3, "secret_key")
    rotated = Keyring(current=KEY_B, older=(KEY_A,))
    assert rotated.open(old_value, 3, "secret_key") == "s"
    new_value = rotated.seal("s", 3, "secret_key")
    assert sealed_key_id(new_value) == key_id(KEY_B)
    assert Keyring(current=KEY_B).open(new_value, 3, "secret_key") == "s"


def test_keys_decode_only_32_bytes_of_base64() -> None:
    assert len(decode_key(new_key_text())) == 32
    with pytest.raises(SecretKeyError, match="32 bytes, this one has 31"):
        decode_key(base64.b64encode(bytes(31)).decode())
    with pytest.raises(SecretKeyError, match="base64"):
        decode_key("not base64 !")
    with pytest.raises(SecretKeyError):
        Keyring(current=bytes(16))


def test_keyring_from_environment_and_files(tmp_path) -> None:
    a, b = base64.b64encode(KEY_A).decode(), base64.b64encode(KEY_B).decode()
    assert keyring_from_env({}) is None
    assert keyring_from_env({"MONITOR_SECRET_KEY": a}) == Keyring(current=KEY_A)
    key_file = tmp_path / "key"
    key_file.write_text(b + "\n")
    old_file = tmp_path / "old"
    old_file.write_text(a + "\n\n")
    ring = keyring_from_env({"MONITOR_SECRET_KEY_FILE": str(key_file), "MONITOR_SECRET_OLD_KEYS_FILE": str(old_file)})
    assert ring == Keyring(current=KEY_B, older=(KEY_A,))
    assert keyring_from_env({"MONITOR_SECRET_KEY": b, "MONITOR_SECRET_OLD_KEYS": a}) == ring
    with pytest.raises(SecretKeyError, match="no current key"):
        keyring_from_env({"MONITOR_SECRET_OLD_KEYS": a})
    with pytest.raises(SecretKeyError, match="cannot read"):
        keyring_from_env({"MONITOR_SECRET_KEY_FILE": str(tmp_path / "missing")})
