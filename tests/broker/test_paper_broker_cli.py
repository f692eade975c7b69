"""`run.py paper-broker` as a process: `--spread-ticks` sets the best bid and ask around each last price and
`--md-subscription-cap` how many instruments a market-data session may subscribe (the last allowed and one
over); a value below 1 is refused before it serves."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from tests.broker.market_data import md_call, md_login

ROOT = Path(__file__).resolve().parents[2]
ENV = {"MONITOR_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin"}


@pytest.fixture
def paper_process() -> Iterator[SimpleNamespace]:
    """The paper broker as its own process; `url` is where it listens (all the market-data helpers read)."""
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "paper-broker", "--port", "0",
                                "--spread-ticks", "3", "--md-subscription-cap", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV)
    try:
        yield SimpleNamespace(url=process.stdout.readline().split(" at ")[1].split(" ")[0])
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_the_spread_and_the_subscription_cap_are_the_ones_given(paper_process: SimpleNamespace):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{paper_process.url}/_sim/price", json={"symbol": "SBIN", "ltp": "800"}) as answer:
            quoted = await answer.json()
        assert (Decimal(quoted["bid"]), Decimal(quoted["ask"])) == (Decimal("799.85"), Decimal("800.15"))
        token, _ = await md_login(http, paper_process)
        instruments = [{"exchangeSegment": 1, "exchangeInstrumentID": i} for i in (3045, 1594, 2885)]
        status, _ = await md_call(http, paper_process, "POST", "/instruments/subscription", token,
                                  {"instruments": instruments[:2], "xtsMessageCode": 1501})
        assert status == 200
        status, _ = await md_call(http, paper_process, "POST", "/instruments/subscription", token,
                                  {"instruments": instruments[2:], "xtsMessageCode": 1501})
        assert status == 400


@pytest.mark.parametrize("option", ["--spread-ticks", "--md-subscription-cap"])
def test_a_value_below_one_is_refused_before_it_serves(option):
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "paper-broker", "--port", "0", option, "0"],
                            capture_output=True, text=True, env=ENV, timeout=60)
    assert result.returncode == 2 and "must be 1 or more, not 0" in result.stderr
