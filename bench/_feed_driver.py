"""The market of `bench/feed.py`: moves the paper broker's prices at a steady rate through `/_sim/prices`, in a
process of its own (its CPU is neither the feed's nor the broker's), and logs when it sent each move.

Run as `python -m bench._feed_driver SPEC.json`; the spec: {"url", "instruments": [[symbol, base]], "ticks_per_s",
"batch_s", "seed", "log_path"}. Every `batch_s` it sends one request of `ticks_per_s * batch_s` moves, each of an
instrument drawn uniformly at random; if a request's answer comes late, the next ones go at once until the rate
is caught up. Move k (1, 2, ...) of an instrument quotes it at bid = base + k ticks, last price a tick above,
ask two ticks above: a price never seen before, so a quote's bid (and a fair-price row's sell price, under the
`touch` model) names the move it came from. It prints "driving" once the first request was answered, and on
SIGTERM writes to `log_path` one [sent, answered, [[instrument index, k], ...]] per request (monotonic
seconds: CLOCK_MONOTONIC, the same clock in every process of the machine), then exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
import sys
import time
from decimal import Decimal
from typing import Any

import aiohttp

TICK = Decimal("0.05")


async def drive(spec: dict[str, Any]) -> list[list[Any]]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    instruments = [(symbol, Decimal(base)) for symbol, base in spec["instruments"]]
    rng = random.Random(spec["seed"])
    moves_made = [0] * len(instruments)
    per_request = max(1, round(spec["ticks_per_s"] * spec["batch_s"]))
    interval = per_request / spec["ticks_per_s"]
    log: list[list[Any]] = []
    async with aiohttp.ClientSession() as http:
        next_at = loop.time()
        while not stop.is_set():
            picked = []
            prices = []
            for _ in range(per_request):
                index = rng.randrange(len(instruments))
                moves_made[index] += 1
                symbol, base = instruments[index]
                bid = base + TICK * moves_made[index]
                picked.append([index, moves_made[index]])
                prices.append({"symbol": symbol, "ltp": str(bid + TICK), "bid": str(bid), "ask": str(bid + 2 * TICK)})
            body = json.dumps({"prices": prices})
            sent = time.monotonic()
            async with http.post(f"{spec['url']}/_sim/prices", data=body,
                                 headers={"Content-Type": "application/json"}) as response:
                if response.status != 200:
                    raise RuntimeError(f"/_sim/prices answered {response.status}: {await response.text()}")
                await response.read()
            log.append([sent, time.monotonic(), picked])
            if len(log) == 1:
                print("driving", flush=True)
            next_at += interval
            delay = next_at - loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
    return log


def main(spec_path: str) -> None:
    from actors.io_loop import new_event_loop

    with open(spec_path) as file:
        spec = json.load(file)
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        log = runner.run(drive(spec))
    with open(spec["log_path"], "w") as out:
        json.dump(log, out)


if __name__ == "__main__":
    main(sys.argv[1])
