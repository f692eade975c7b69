"""The PnL step's handler: FIFO PnL of each account from its stored snapshot, written to `bo_live_history`.

Fills are each order's filled quantity at its average price (`fills_from_order_book`). Open lots are
marked to the fair price on the side the position would exit at (sell fair price for a net long, buy
fair price for a net short); a symbol without a fair price keeps its open lots unmarked rather than
guessed. The account's rows are replaced in one transaction (the store writes only the rows that changed).
The fills and the FIFO result with its totals are kept per account while the snapshot keeps its version and
the marks are equal, so a cycle whose book did not change does not match or sum it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from actors.account_memo import AccountMemo
from actors.per_account import for_each_account
from actors.pnl_calculator.fifo import fills_from_order_book, match_fifo
from actors.pnl_calculator.port import PnlStore
from domain.broker import BrokerOrder
from domain.pnl import FifoResult, Fill
from domain.pnl_totals import pnl_totals
from domain.ports.clock import Clock
from domain.trade import exit_fair_price
from messages.commands import ComputePnl
from messages.events import Event, PnlComputed


class ComputePnlStep:
    def __init__(self, store: PnlStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._fills: AccountMemo[tuple[list[Fill], dict[str, int]]] = AccountMemo()
        self._results: AccountMemo[tuple[FifoResult, Decimal, Decimal, int]] = AccountMemo()

    async def __call__(self, command: ComputePnl) -> tuple[Event, ...]:
        async def compute(account_id: int) -> Event:
            snapshot = await self._store.broker_snapshot(command.user_id, account_id)
            fills, net = self._fills.get(command.user_id, account_id, snapshot.version, None,
                                         lambda: _fills_and_net(snapshot.orders))
            open_symbols = [symbol for symbol, qty in net.items() if qty]
            fair = await self._store.fair_prices(open_symbols) if open_symbols else {}
            marks = {symbol: exit_fair_price(fair[symbol], long=net[symbol] > 0)
                     for symbol in open_symbols if symbol in fair}
            result, realized, unrealized, unmarked = self._results.get(
                command.user_id, account_id, snapshot.version, tuple(sorted(marks.items())),
                lambda: _with_totals(match_fifo(fills, marks)))
            await self._store.replace_live_history(command.user_id, account_id, result.matches,
                                                   result.open_lots, self._clock.now())
            return PnlComputed(
                user_id=command.user_id, cycle_id=command.cycle_id, at=self._clock.now(), account_ids=(account_id,),
                realized_pnl=realized, unrealized_pnl=unrealized,
                matches=len(result.matches), open_lots=len(result.open_lots), unmarked_lots=unmarked,
            )

        return await for_each_account(command, compute, self._clock)


def _with_totals(result: FifoResult) -> tuple[FifoResult, Decimal, Decimal, int]:
    """The result with its totals (`pnl_totals`: realized, unrealized of the marked lots, unmarked lots)."""
    return result, *pnl_totals(result.matches, result.open_lots)


def _fills_and_net(orders: Sequence[BrokerOrder]) -> tuple[list[Fill], dict[str, int]]:
    """The book's fills and each symbol's net filled quantity (long positive)."""
    fills = fills_from_order_book(orders)
    net: dict[str, int] = {}
    for fill in fills:
        net[fill.symbol] = net.get(fill.symbol, 0) + (fill.qty if fill.side == "BUY" else -fill.qty)
    return fills, net
