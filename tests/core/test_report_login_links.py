"""The report step's `session_needed` frames: an account the cycle's fetch left expired gets one, with its
login page when its broker has a login by hand, saying so; when the pages cannot be read the frames still go,
saying to log in again, with none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from actors.error_reporter.report import RELOGIN, RELOGIN_BY_HAND, ReportCycleErrors
from domain.errors import DatabaseError, ErrorKind
from messages.commands import ReportErrors
from messages.common import CycleError, Step
from messages.frames import SessionNeeded
from tests.doubles import ManualClock, RecordingNotifier

AT = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
KITE_PAGE = "https://kite.zerodha.com/connect/login?api_key=K&v=3"


def expired(*account_ids: int) -> ReportErrors:
    return ReportErrors(user_id=7, cycle_id="c1", account_ids=account_ids, errors=tuple(
        CycleError(step=Step.FETCH, account_id=a, kind=ErrorKind.SESSION_EXPIRED, message="expired", at=AT)
        for a in account_ids))


async def reported(login_urls) -> list[SessionNeeded]:
    notifier = RecordingNotifier()
    await ReportCycleErrors(notifier, ManualClock(AT), login_urls)(expired(1, 2))
    return [frame for _, frame in notifier.sent if isinstance(frame, SessionNeeded)]


async def test_an_account_with_a_login_page_is_sent_it_and_the_other_is_told_to_log_in_again():
    async def pages(user_id: int, account_ids: Sequence[int]) -> Mapping[int, str]:
        assert (user_id, tuple(account_ids)) == (7, (1, 2))
        return {2: KITE_PAGE}

    assert [(f.account_id, f.login_url, f.message) for f in await reported(pages)] == [
        (1, "", RELOGIN), (2, KITE_PAGE, RELOGIN_BY_HAND)]


async def test_pages_that_cannot_be_read_leave_the_frames_without_them():
    async def unreadable(user_id: int, account_ids: Sequence[int]) -> Mapping[int, str]:
        raise DatabaseError("the database is gone")

    assert [(f.account_id, f.login_url, f.message) for f in await reported(unreadable)] == [
        (1, "", RELOGIN), (2, "", RELOGIN)]
