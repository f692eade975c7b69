"""`run.py fair-prices set SYMBOL BUY SELL`: a desk's own fair price of an instrument, written to the database
directly and checked as `POST /api/fair-prices` checks it (service/desk_prices.py); it takes precedence over the
market-data feed's. `run.py fair-prices clear SYMBOL` hands the instrument back to the feed. `run.py fair-prices
list`: every stored price with its source and age."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import msgspec

from service.cli.database_option import add_action, fail, run_with_store
from service.desk_prices import DeskPricesRefused, desk_prices


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("fair-prices", help="a desk's own fair prices (they take precedence over the "
                                                       "feed's)")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    set_parser = add_action(actions, "set", "set the desk's buy and sell fair prices of a symbol", set_price, "symbol")
    set_parser.add_argument("buy", metavar="BUY", help="the buy fair price, e.g. 800.10 (at most 4 decimals)")
    set_parser.add_argument("sell", metavar="SELL", help="the sell fair price, e.g. 799.90")
    add_action(actions, "clear", "hand a symbol back to the feed (remove the desk's price of it)", clear_price,
               "symbol")
    add_action(actions, "list", "every fair price: symbol, buy, sell, source, age", list_prices)


def set_price(args: argparse.Namespace) -> int:
    body = msgspec.json.encode({"prices": [{"symbol": args.symbol, "buy_fair_price": args.buy,
                                            "sell_fair_price": args.sell}]})
    try:
        [price] = desk_prices(body, datetime.now(UTC))
    except DeskPricesRefused as refused:
        return fail(f"{args.symbol!r} not set: {refused.message}")
    run_with_store(args.database, lambda store: store.upsert_desk_prices([price]))
    print(f"desk fair price of {price.symbol!r}: buy {price.buy_fair_price}, sell {price.sell_fair_price}")
    return 0


def clear_price(args: argparse.Namespace) -> int:
    if not run_with_store(args.database, lambda store: store.clear_desk_price(args.symbol)):
        return fail(f"the desk has no fair price of {args.symbol!r}")
    print(f"{args.symbol!r} handed back to the feed: the desk's price is removed")
    return 0


def list_prices(args: argparse.Namespace) -> int:
    prices = run_with_store(args.database, lambda store: store.list_fair_prices())
    now = datetime.now(UTC)
    print(f"{'symbol':<24} {'buy':>16} {'sell':>16}  {'source':<6}  age")
    for price in prices:
        print(f"{price.symbol:<24} {price.buy_fair_price:>16} {price.sell_fair_price:>16}  {price.source:<6}  "
              f"{age(now - price.updated_at)}")
    return 0


def age(elapsed: timedelta) -> str:
    """`elapsed` as people read an age: 42s, 5m 3s, 2h 10m, 3d 4h (a time ahead of the clock reads 0s)."""
    seconds = max(0, int(elapsed.total_seconds()))
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    for big, big_unit, small, small_unit in ((days, "d", hour, "h"), (hours, "h", minute, "m"),
                                             (minutes, "m", second, "s")):
        if big:
            return f"{big}{big_unit} {small}{small_unit}"
    return f"{second}s"
