"""`run.py paper-broker --port P`: serve the paper broker (XTS routes and `/_sim/`) until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from adapters.broker.paper import run_paper_broker


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("paper-broker", help="serve the paper broker (XTS routes and /_sim/)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on; 0 picks a free one")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulator's randomness")
    parser.add_argument("--walk-interval", type=float, default=None, metavar="SECONDS",
                        help="move every price by a random tick this often (default: prices move only "
                        "by POST /_sim/price)")
    parser.add_argument("--account", action="append", default=[], metavar="CLIENT_ID:SECRET_KEY",
                        help="accept only these logins (the app key is the client id); repeatable. "
                        "Without it any app key logs in as that client id with any non-empty secret")
    parser.set_defaults(handler=serve_paper_broker)


def serve_paper_broker(args: argparse.Namespace) -> int:
    credentials = None
    if args.account:
        try:
            credentials = dict(entry.split(":", 1) for entry in args.account)
        except ValueError:
            print("--account takes CLIENT_ID:SECRET_KEY")
            return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.seed, args.walk_interval, credentials))
    return 0


async def _serve(host: str, port: int, seed: int, walk_interval_s: float | None,
                 credentials: dict[str, str] | None) -> None:
    async with run_paper_broker(host, port, seed=seed, credentials=credentials,
                                walk_interval_s=walk_interval_s) as broker:
        print(f"paper broker listening at {broker.url} (control API under {broker.url}/_sim/)", flush=True)
        await asyncio.Event().wait()
