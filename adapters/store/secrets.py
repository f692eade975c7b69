"""Broker secrets at rest: AES-256-GCM sealing of one text value, and the keyring that opens it.

A sealed value is `enc:v1:<key_id>:<base64(nonce + ciphertext + tag)>` with a fresh 96-bit nonce and associated
data `<account id>:<column>`, so a value copied to another row or column fails to open; `key_id` is the first 8
hex digits of the key's SHA-256. Keys come from the environment (README.md, Broker secrets). Nothing is logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.errors import AdapterError, ErrorKind

SEALED_PREFIX = "enc:v1:"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ENV = "MONITOR_SECRET_KEY"
KEY_FILE_ENV = "MONITOR_SECRET_KEY_FILE"
OLD_KEYS_ENV = "MONITOR_SECRET_OLD_KEYS"
OLD_KEYS_FILE_ENV = "MONITOR_SECRET_OLD_KEYS_FILE"


NO_KEY = (f"no secret key: set {KEY_ENV} (base64 of 32 bytes; `run.py secrets new-key` prints one) "
          f"or {KEY_FILE_ENV}")


class SecretKeyError(AdapterError):
    """A key is missing, malformed or not in the keyring, or a sealed value does not open."""

    kind = ErrorKind.DB


def key_id(key: bytes) -> str:
    """The first 8 hex digits of the key's SHA-256: names the key in every value it seals."""
    return hashlib.sha256(key).hexdigest()[:8]


def decode_key(text: str) -> bytes:
    """A key from its base64 text; exactly 32 bytes or SecretKeyError (the text is never echoed)."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SecretKeyError("a secret key must be base64 text (e.g. from `run.py secrets new-key`)") from None
    if len(key) != KEY_BYTES:
        raise SecretKeyError(f"a secret key must decode to {KEY_BYTES} bytes, this one has {len(key)}")
    return key


def new_key_text() -> str:
    """A fresh random key as base64 text (what MONITOR_SECRET_KEY holds)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def is_sealed(value: str) -> bool:
    return value.startswith(SEALED_PREFIX)


def sealed_key_id(value: str) -> str:
    """The key id a sealed value names (SecretKeyError when it is not a sealed value)."""
    parts = value.split(":", 3)
    if len(parts) != 4 or not is_sealed(value):
        raise SecretKeyError("not a sealed value")
    return parts[2]


def _associated_data(account_id: int, column: str) -> bytes:
    return f"{account_id}:{column}".encode()


@dataclass(frozen=True)
class Keyring:
    """The current key (seals and opens) and older keys (open only), by key id."""

    current: bytes
    older: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        for key in (self.current, *self.older):
            if len(key) != KEY_BYTES:
                raise SecretKeyError(f"a secret key must be {KEY_BYTES} bytes, one has {len(key)}")

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    @property
    def keys(self) -> Mapping[str, bytes]:
        return {key_id(key): key for key in (*self.older, self.current)}

    def seal(self, plaintext: str, account_id: int, column: str) -> str:
        """`plaintext` sealed under the current key for this account's column; "" stays "" (no secret)."""
        if not plaintext:
            return ""
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(self.current).encrypt(nonce, plaintext.encode(), _associated_data(account_id, column))
        return f"{SEALED_PREFIX}{self.current_id}:{base64.b64encode(nonce + ciphertext).decode('ascii')}"

    def open(self, sealed: str, account_id: int, column: str) -> str:
        """The plaintext of a value sealed for this account's column; "" stays "". SecretKeyError when its
        key is not in the keyring or it was altered, or sealed for another account or column."""
        if not sealed:
            return ""
        wanted = sealed_key_id(sealed)
        key = self.keys.get(wanted)
        if key is None:
            raise SecretKeyError(
                f"account {account_id} {column} is sealed under key {wanted}, which is not in the keyring "
                f"(keys given: {', '.join(sorted(self.keys))})"
            )
        try:
            blob = base64.b64decode(sealed.split(":", 3)[3], validate=True)
            plaintext = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:],
                                            _associated_data(account_id, column))
        except (binascii.Error, ValueError, InvalidTag):
            raise SecretKeyError(
                f"account {account_id} {column} does not open under key {wanted}: altered, or copied from "
                "another account or column"
            ) from None
        return plaintext.decode()


def _keys_from_lines(lines: Iterable[str]) -> tuple[bytes, ...]:
    return tuple(decode_key(line) for line in lines if line.strip())


def _read_file(path: str, variable: str) -> str:
    try:
        with open(path, encoding="ascii") as file:
            return file.read()
    except OSError as error:
        raise SecretKeyError(f"{variable}={path}: cannot read it ({error.strerror})") from None


def keyring_from_env(environ: Mapping[str, str] | None = None) -> Keyring | None:
    """The keyring the environment gives, or None when it names no current key. Old keys without a
    current key are refused: rotation needs the key to seal under."""
    env = os.environ if environ is None else environ
    text = env.get(KEY_ENV, "")
    if not text and env.get(KEY_FILE_ENV):
        text = _read_file(env[KEY_FILE_ENV], KEY_FILE_ENV)
    old_lines = env.get(OLD_KEYS_ENV, "").split(",")
    if env.get(OLD_KEYS_FILE_ENV):
        old_lines += _read_file(env[OLD_KEYS_FILE_ENV], OLD_KEYS_FILE_ENV).splitlines()
    older = _keys_from_lines(old_lines)
    if not text.strip():
        if older:
            raise SecretKeyError(f"old keys are given but no current key: set {KEY_ENV} or {KEY_FILE_ENV}")
        return None
    return Keyring(current=decode_key(text), older=older)
