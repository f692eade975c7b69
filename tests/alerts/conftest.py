"""Fixtures of the alerts suite: the local stand-ins for the webhook and the Telegram Bot API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alerts.endpoints import AlertEndpoints


@pytest.fixture
def endpoints() -> Iterator[AlertEndpoints]:
    running = AlertEndpoints()
    try:
        yield running
    finally:
        running.close()
