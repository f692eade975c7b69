"""The benchmarks' paper broker: the project's own paper broker (`run_paper_broker`), in a process of its
own, with its accounts' order books seeded before it serves, and churned on request (`PaperProcess.churn`).

Why a separate process: the benchmarks measure the service's CPU, RSS and threads; a broker on the same
interpreter would be counted as the service and would share its GIL. Why seeded in-process: thousands of
pre-existing broker rows (an account's day of manual orders, fills, cancels, rejections) are broker state
that the service only reads; placing them through the simulator's own `place`/`cancel` (the same code the
XTS routes call) gives the same rows as sending them over HTTP, in a fraction of the time.

Run as `python -m bench._paper SPEC.json` (what `PaperProcess` does): it prints the URL on stdout once
serving and runs until SIGTERM. The spec: {"seed", "instruments": [[segment, id, symbol, ltp]], "orders":
[[client_id, segment, instrument_id, side, order_type, qty, limit, stop, tag, then]]}, `then` being "" or
"cancel" or "reject" (the broker accepts the order, then rejects it with a risk reason), and optionally
"md_subscription_cap": the market data subscriptions a token may hold (`run_paper_broker`'s, 50 by default;
`bench/feed.py` subscribes thousands).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import urllib.request
from decimal import Decimal
from typing import Any

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def seed_simulator(simulator: Any, spec: dict[str, Any]) -> int:
    from adapters.broker.paper.simulator import MaxQuantityRule, OrderTicket

    for segment, instrument_id, symbol, ltp in spec.get("instruments", ()):
        simulator.set_price(symbol, Decimal(ltp), instrument_id=instrument_id, segment=segment)
    placed = 0
    for client_id, segment, instrument_id, side, order_type, qty, limit, stop, tag, then in spec.get("orders", ()):
        if then == "reject":
            simulator.reject_rules = [MaxQuantityRule(quantity=qty - 1, reason="RMS:Margin Exceeds")]
        order = simulator.place(OrderTicket(
            client_id=client_id, segment=segment, instrument_id=instrument_id, side=side, order_type=order_type,
            product_type="NRML", quantity=qty, limit_price=Decimal(limit), stop_price=Decimal(stop), tag=tag))
        if then == "reject":
            simulator.reject_rules = []
        elif then == "cancel":
            simulator.cancel(client_id, order.app_order_id)
        placed += 1
    return placed


async def serve(spec_path: str) -> None:
    from adapters.broker.paper import run_paper_broker
    from adapters.broker.paper.md_sessions import DEFAULT_SUBSCRIPTION_CAP

    with open(spec_path) as file:
        spec = json.load(file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with run_paper_broker("127.0.0.1", 0, seed=spec.get("seed", 0),
                                md_subscription_cap=spec.get("md_subscription_cap", DEFAULT_SUBSCRIPTION_CAP)) as paper:
        seed_simulator(paper.simulator, spec)
        print(paper.url, flush=True)
        commands = asyncio.create_task(_answer_commands(paper.simulator, spec))
        await stop.wait()
        commands.cancel()


async def _answer_commands(simulator: Any, spec: dict[str, Any]) -> None:
    """Lines on stdin, each answered by one JSON line on stdout: `churn P` changes P % of the rows of every
    account the spec seeded (`bench/_churn.py`) and answers the counts by kind."""
    from bench._churn import churn

    client_ids = sorted({row[0] for row in spec.get("orders", ())})
    rng = random.Random(spec.get("seed", 0))
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        verb, _, argument = line.decode().strip().partition(" ")
        if verb != "churn":
            print(json.dumps({"error": f"unknown command {verb!r}"}), flush=True)
            continue
        try:
            answer = churn(simulator, client_ids, float(argument), rng)
        except Exception as error:  # the bench is waiting for a line: answer it with the failure
            answer = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)


class ChildProcess:
    """`python -m MODULE SPEC.json` from the repository root, its stdout a pipe. The spec goes to a temporary
    file and, with `output`, names a file beside it (as `<output>_path`) for the child's result; `remove_files`
    deletes both."""

    def __init__(self, module: str, spec: dict[str, Any], *, output: str = "", **popen: Any) -> None:
        descriptor, self.spec_path = tempfile.mkstemp(suffix=".json", prefix=f"{module.replace('.', '_')}_")
        self.output_path = f"{self.spec_path}.{output}" if output else ""
        with os.fdopen(descriptor, "w") as spec_file:
            json.dump({**spec, f"{output}_path": self.output_path} if output else spec, spec_file)
        self.process = subprocess.Popen([sys.executable, "-m", module, self.spec_path], cwd=REPO_ROOT,
                                        stdout=subprocess.PIPE, text=True, **popen)
        self.pid = self.process.pid

    def remove_files(self) -> None:
        for path in (self.spec_path, self.output_path):
            if path and os.path.exists(path):
                os.unlink(path)


class PaperProcess(ChildProcess):
    """The paper broker as a child process: `url`, `pid`, `latency(min_ms, max_ms)`; stopped on exit."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__("bench._paper", spec, stdin=subprocess.PIPE)
        line = self.process.stdout.readline().strip() if self.process.stdout else ""
        if not line.startswith("http://"):
            self.close()
            raise RuntimeError(f"the paper broker did not start (exit {self.process.poll()})")
        self.url = line

    def control(self, route: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(f"{self.url}/_sim/{route}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def churn(self, percent: float) -> dict[str, int]:
        """Change `percent` % of every seeded account's order-book rows (`bench/_churn.py`); counts by kind."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"churn {percent}\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        if "error" in answer:
            raise RuntimeError(f"the paper broker refused churn: {answer['error']}")
        return answer

    def latency(self, min_ms: int, max_ms: int) -> None:
        self.control("latency", {"min_ms": min_ms, "max_ms": max_ms})

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.remove_files()

    def __enter__(self) -> PaperProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    from actors.io_loop import new_event_loop

    with asyncio.Runner(loop_factory=new_event_loop) as runner:  # uvloop, as the service runs
        runner.run(serve(sys.argv[1]))
