"""The tests' broker-secret key (adapters/store/secrets.py), set for every test process by tests/conftest.py
unless MONITOR_SECRET_KEY is set already, and `SECRET_KEY_ENV` for a `run.py serve` a test starts with an
environment of its own."""

from __future__ import annotations

import os

TEST_SECRET_KEY = "dGVzdC1zZWNyZXQta2V5LW9mLTMyLWJ5dGVzLWxvbmc="
"""base64 of 32 bytes, the tests' own key (never a real one)."""

os.environ.setdefault("MONITOR_SECRET_KEY", TEST_SECRET_KEY)
SECRET_KEY_ENV = {"MONITOR_SECRET_KEY": os.environ["MONITOR_SECRET_KEY"]}
