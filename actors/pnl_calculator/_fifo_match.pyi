"""Types of the compiled FIFO loop (`_fifo_match.c`); fifo.py is its reference and only caller."""

from collections.abc import Iterable
from decimal import Decimal

from actors.pnl_calculator.fifo import Fill, Match, OpenBooks

class Matcher:
    def __init__(
        self,
        *,
        fill_type: type[Fill],
        match_type: type[Match],
        decimal_type: type[Decimal],
        buy: str,
        sell: str,
        long: str,
        short: str,
    ) -> None: ...
    def match(self, fills: Iterable[Fill]) -> tuple[OpenBooks, list[Match]] | None: ...
