"""What the page shows of each account: its state (ok, session needed, misconfigured, failing, not fetched), its
last fetch, its day PnL, and the user's total against the daily loss limit — the `accounts` frame.

Built from the store on connect, on `subscribe` and after every cycle, for every active account of the
user, so an account the latest cycle could not fetch is shown with its last known figures, marked stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from adapters.store.port import Store
from domain.errors import ErrorKind
from domain.limits import total_day_pnl
from domain.pnl_totals import pnl_totals
from domain.records import AccountStatus, LiveHistory
from messages.frames import AccountHealth, AccountsFrame, AccountView, DayPnl


async def accounts_frame(store: Store, user_id: int, now: datetime) -> AccountsFrame:
    context = await store.load_cycle_context(user_id)
    views: list[AccountView] = []
    watched: list[tuple[Decimal, Decimal]] = []
    for status in await store.account_statuses(user_id):
        last_fetch_at = await store.snapshot_time(user_id, status.account_id)
        history = await store.live_history(user_id, status.account_id)
        realized, marked, unmarked = pnl_totals(history.matches, history.open_lots)
        state = account_health(status, last_fetch_at)
        watched.append((realized, marked))
        views.append(AccountView(
            account_id=status.account_id, broker=status.broker, client_id=status.client_id, state=state,
            failing_since=status.fetch_failing_since, last_error=status.fetch_error or "",
            last_fetch_at=last_fetch_at, stale=state != "ok", pnl=_day_pnl(realized, marked, unmarked)))
    return AccountsFrame(
        as_of=now, accounts=tuple(views), total=total_of(view.pnl for view in views),
        daily_loss_limit=context.daily_loss_limit, limit_pnl=total_day_pnl(watched),
        paused=context.paused, pause_reason=context.pause_reason)


def account_health(status: AccountStatus, last_fetch_at: datetime | None) -> AccountHealth:
    """Session needed first (no fetch is tried), then a failing streak: misconfigured when its last failure was a
    configuration error (a person must correct the account), else failing; then never fetched; else ok."""
    if status.session_needed:
        return "session_needed"
    if status.fetch_failing_since is not None:
        return "misconfigured" if status.fetch_error_kind is ErrorKind.CONFIGURATION else "failing"
    if last_fetch_at is None:
        return "not_fetched"
    return "ok"


def day_pnl(history: LiveHistory) -> DayPnl:
    """An account's realized PnL over its matches and unrealized over its open lots; the unrealized (and so
    the day's) figure is unknown while any open lot is unmarked."""
    return _day_pnl(*pnl_totals(history.matches, history.open_lots))


def _day_pnl(realized: Decimal, marked: Decimal, unmarked: int) -> DayPnl:
    if unmarked:
        return DayPnl(realized=realized, unrealized=None, day_pnl=None, unmarked_lots=unmarked)
    return DayPnl(realized=realized, unrealized=marked, day_pnl=realized + marked)


def total_of(figures: Iterable[DayPnl]) -> DayPnl:
    """The sum over accounts; unknown unrealized in any account makes the total's unknown too."""
    figures = list(figures)
    realized = sum((f.realized for f in figures), Decimal(0))
    unmarked = sum(f.unmarked_lots for f in figures)
    if unmarked:
        return DayPnl(realized=realized, unrealized=None, day_pnl=None, unmarked_lots=unmarked)
    unrealized = sum((f.unrealized or Decimal(0) for f in figures), Decimal(0))
    return DayPnl(realized=realized, unrealized=unrealized, day_pnl=realized + unrealized)
