"""Fixtures of the soak suite: quick mode by default (CI), long mode with MONITOR_SOAK=long; MySQL databases
come from the storage suite's `fresh_mysql_url`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.storage.conftest import fresh_mysql_url  # noqa: F401 - fixture used by the soak tests

LONG = os.environ.get("MONITOR_SOAK") == "long"
FIGURES_DIR = Path(__file__).resolve().parents[2] / "test-output"


@pytest.fixture
def record_figures(request: pytest.FixtureRequest):
    """Write a run's figures to test-output/<test>.json (and print them), for docs/RELIABILITY.md."""
    def record(figures: dict) -> None:
        FIGURES_DIR.mkdir(exist_ok=True)
        text = json.dumps({"mode": "long" if LONG else "quick", **figures}, indent=2, default=str)
        (FIGURES_DIR / f"{request.node.name}.json").write_text(text)
        print(text)
    return record
