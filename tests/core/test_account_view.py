"""The account strip's rules: which state an account is in (session needed before a failing streak, misconfigured
when the streak's last error is a configuration error, before never fetched, else ok), and its day PnL — realized
plus unrealized, unknown (not zero) while a lot is unmarked."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from domain.errors import ErrorKind
from domain.pnl import Match, OpenLot
from domain.records import AccountStatus, LiveHistory
from messages.frames import DayPnl
from service.account_view import account_health, day_pnl, total_of

T0 = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)


def status(*, session_needed: bool = False, failing_since: datetime | None = None,
           kind: ErrorKind = ErrorKind.UNAVAILABLE) -> AccountStatus:
    return AccountStatus(account_id=1, broker="paper", client_id="C1", session_needed=session_needed,
                         snapshot_fetched_at=None, fetch_failing_since=failing_since,
                         fetch_error="boom" if failing_since else None,
                         fetch_error_kind=kind if failing_since else None)


def test_an_account_needing_a_session_is_shown_so_even_while_its_failing_streak_runs():
    assert account_health(status(session_needed=True, failing_since=T0), T0) == "session_needed"
    assert account_health(status(session_needed=True), None) == "session_needed"


def test_an_account_with_a_failing_streak_is_failing_whether_or_not_it_was_ever_fetched():
    assert account_health(status(failing_since=T0), T0) == "failing"
    assert account_health(status(failing_since=T0), None) == "failing"


def test_an_account_whose_last_failure_is_a_configuration_error_is_misconfigured_and_any_other_kind_failing():
    assert account_health(status(failing_since=T0, kind=ErrorKind.CONFIGURATION), T0) == "misconfigured"
    assert account_health(status(failing_since=T0, kind=ErrorKind.CONFIGURATION), None) == "misconfigured"
    assert {kind: account_health(status(failing_since=T0, kind=kind), T0) for kind in ErrorKind
            if kind is not ErrorKind.CONFIGURATION} == {kind: "failing" for kind in ErrorKind
                                                        if kind is not ErrorKind.CONFIGURATION}
    failing_unknown_kind = msgspec.structs.replace(status(failing_since=T0), fetch_error_kind=None)
    assert account_health(failing_unknown_kind, T0) == "failing"
    assert account_health(status(session_needed=True, failing_since=T0, kind=ErrorKind.CONFIGURATION), T0) \
        == "session_needed"


def test_an_account_never_fetched_is_not_fetched_and_one_fetched_without_a_streak_is_ok():
    assert account_health(status(), None) == "not_fetched"
    assert account_health(status(), T0) == "ok"


def match(pnl: str) -> Match:
    return Match(symbol="SBIN", entry_order_id=1, exit_order_id=2, direction="LONG", qty=1,
                    entry_price=Decimal(100), exit_price=Decimal(100) + Decimal(pnl), realized_pnl=Decimal(pnl))


def lot(unrealized: str | None) -> OpenLot:
    return OpenLot(symbol="INFY", order_id=3, direction="SHORT", qty=10, entry_price=Decimal(1500),
                      mark=None if unrealized is None else Decimal(1500),
                      unrealized_pnl=None if unrealized is None else Decimal(unrealized))


def test_the_day_pnl_of_an_account_is_its_realized_plus_its_marked_unrealized():
    figures = day_pnl(LiveHistory(version=1, matches=(match("26.5"), match("-6.5")),
                                  open_lots=(lot("-3.25"), lot("0"))))
    assert figures == DayPnl(realized=Decimal("20.0"), unrealized=Decimal("-3.25"), day_pnl=Decimal("16.75"),
                             unmarked_lots=0)


def test_one_unmarked_lot_makes_the_unrealized_and_day_pnl_unknown_not_zero():
    figures = day_pnl(LiveHistory(version=1, matches=(match("26.5"),), open_lots=(lot("-3.25"), lot(None))))
    assert figures == DayPnl(realized=Decimal("26.5"), unrealized=None, day_pnl=None, unmarked_lots=1)


def test_an_account_with_no_trades_has_a_zero_day_not_an_unknown_one():
    assert day_pnl(LiveHistory(version=1)) == DayPnl(realized=Decimal(0), unrealized=Decimal(0), day_pnl=Decimal(0))


def test_the_total_adds_every_account_and_is_unknown_while_any_account_has_an_unmarked_lot():
    marked = DayPnl(realized=Decimal("10"), unrealized=Decimal("-4"), day_pnl=Decimal("6"))
    other = DayPnl(realized=Decimal("-2.5"), unrealized=Decimal("1"), day_pnl=Decimal("-1.5"))
    unmarked = DayPnl(realized=Decimal("1"), unrealized=None, day_pnl=None, unmarked_lots=2)
    assert total_of([marked, other]) == DayPnl(realized=Decimal("7.5"), unrealized=Decimal("-3"),
                                               day_pnl=Decimal("4.5"))
    assert total_of([marked, unmarked]) == DayPnl(realized=Decimal("11"), unrealized=None, day_pnl=None,
                                                  unmarked_lots=2)
    assert total_of([]) == DayPnl(realized=Decimal(0), unrealized=Decimal(0), day_pnl=Decimal(0))
