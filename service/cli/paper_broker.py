"""`run.py paper-broker --port P`: serve the paper broker (its XTS, XTS market data and Kite faces, and
`/_sim/`) until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from adapters.broker.paper import run_paper_broker
from adapters.broker.paper.md_sessions import DEFAULT_SUBSCRIPTION_CAP
from adapters.broker.paper.simulator import DEFAULT_SPREAD_TICKS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("paper-broker",
                                   help="serve the paper broker (XTS, its market data, Kite, and /_sim/)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on; 0 picks a free one")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulator's randomness")
    parser.add_argument("--walk-interval", type=float, default=None, metavar="SECONDS",
                        help="move every price by a random tick this often (default: prices move only "
                        "by POST /_sim/price)")
    parser.add_argument("--account", action="append", default=[], metavar="CLIENT_ID:SECRET_KEY",
                        help="accept only these logins (the app key is the client id); repeatable. "
                        "Without it any app key logs in as that client id with any non-empty secret")
    parser.add_argument("--spread-ticks", type=_at_least(1), default=DEFAULT_SPREAD_TICKS,
                        help=f"best bid and ask this many ticks around each last price (default "
                        f"{DEFAULT_SPREAD_TICKS})")
    parser.add_argument("--md-subscription-cap", type=_at_least(1), default=DEFAULT_SUBSCRIPTION_CAP,
                        help=f"instruments one market-data session may subscribe (default {DEFAULT_SUBSCRIPTION_CAP})")
    parser.set_defaults(handler=serve_paper_broker)


def _at_least(low: int):  # type: ignore[no-untyped-def]
    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be {low} or more, not {value}")
        return value
    return parse


def serve_paper_broker(args: argparse.Namespace) -> int:
    credentials = None
    if args.account:
        try:
            credentials = dict(entry.split(":", 1) for entry in args.account)
        except ValueError:
            print("--account takes CLIENT_ID:SECRET_KEY")
            return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args, credentials))
    return 0


async def _serve(args: argparse.Namespace, credentials: dict[str, str] | None) -> None:
    async with run_paper_broker(args.host, args.port, seed=args.seed, credentials=credentials,
                                walk_interval_s=args.walk_interval, spread_ticks=args.spread_ticks,
                                md_subscription_cap=args.md_subscription_cap) as broker:
        print(f"paper broker listening at {broker.url} (control API under {broker.url}/_sim/)", flush=True)
        await asyncio.Event().wait()
