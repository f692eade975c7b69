"""A background loop runs until stopped; one that ends with an error is logged when it ends, and stopping it
afterwards raises nothing, so a shutdown that stops it goes on."""

from __future__ import annotations

import asyncio
import logging

from service.background import BackgroundLoop


async def test_a_running_loop_is_cancelled_by_stop():
    ticks: list[int] = []

    async def run() -> None:
        while True:
            ticks.append(1)
            await asyncio.sleep(0.01)

    loop = BackgroundLoop(run)
    loop.start()
    await asyncio.sleep(0.05)
    await loop.stop()
    counted = len(ticks)
    await asyncio.sleep(0.05)
    assert counted > 0 and len(ticks) == counted


async def test_a_loop_that_failed_is_logged_and_stopping_it_raises_nothing(caplog):
    async def run() -> None:
        raise KeyError("NSEXX")

    loop = BackgroundLoop(run)
    with caplog.at_level(logging.ERROR, logger="service.background"):
        loop.start()
        await asyncio.sleep(0.01)
        await loop.stop()
    [record] = [r for r in caplog.records if r.name == "service.background"]
    assert "ended with an error" in record.getMessage() and record.exc_info[0] is KeyError
