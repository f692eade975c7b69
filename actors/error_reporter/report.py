"""The report handlers: `monitoring_errors` (plus `session_needed` per account whose session the cycle's fetch
left expired) and `cycle_summary`.

The summary goes out only after the event log has made the cycle's events durable, so a client never
sees a cycle the log could lose.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

from actors.notifier import Notifier
from adapters.store.port import EventLog
from domain.errors import AdapterError, ErrorKind
from domain.ports.clock import Clock
from messages.commands import ReportErrors, SendSummary
from messages.common import Step
from messages.events import ErrorsReported, Event, SummarySent
from messages.frames import CycleSummaryFrame, MonitoringErrors, ServerFrame, SessionNeeded

log = logging.getLogger(__name__)

AccountFrames = Callable[[int, datetime], Awaitable[Sequence[ServerFrame]]]
"""(user_id, now) -> the frames of every active account of the user: their state, orders and PnL."""
LoginUrls = Callable[[int, Sequence[int]], Awaitable[Mapping[int, str]]]
"""(user_id, account_ids) -> the login page of each of those accounts whose broker starts a session only with a
login by hand (Kite); the others are absent."""
RELOGIN = "The broker session expired: log in again to resume this account."
RELOGIN_BY_HAND = ("The broker session expired: log in at the login link, then send the request token it gives "
                   "to resume this account.")


class ReportCycleErrors:
    """Send the cycle's errors, then `session_needed` for each account the fetch flagged so: its expiry is the
    fetch's (an order step's expiry leaves the account to the next fetch, which renews it or flags it)."""

    def __init__(self, notifier: Notifier, clock: Clock, login_urls: LoginUrls | None = None) -> None:
        self._notifier = notifier
        self._clock = clock
        self._login_urls = login_urls

    async def __call__(self, command: ReportErrors) -> tuple[Event, ...]:
        clients = await self._notifier.send(
            command.user_id, MonitoringErrors(cycle_id=command.cycle_id, errors=command.errors))
        expired = dict.fromkeys(e.account_id for e in command.errors if e.step is Step.FETCH
                                and e.kind is ErrorKind.SESSION_EXPIRED and e.account_id is not None)
        urls = await self._links(command.user_id, tuple(expired)) if expired else {}
        for account_id in expired:
            url = urls.get(account_id, "")
            await self._notifier.send(command.user_id, SessionNeeded(
                account_id=account_id, message=RELOGIN_BY_HAND if url else RELOGIN, login_url=url))
        return (ErrorsReported(user_id=command.user_id, cycle_id=command.cycle_id, at=self._clock.now(),
                               account_ids=command.account_ids, clients=clients),)

    async def _links(self, user_id: int, account_ids: Sequence[int]) -> Mapping[int, str]:
        """The login pages of those accounts that have one; none when they cannot be read (the frames still go,
        saying to log in again, and the session route answers with the page)."""
        if self._login_urls is None:
            return {}
        try:
            return await self._login_urls(user_id, account_ids)
        except AdapterError as error:
            log.warning("login links of user %d unread: %s", user_id, error.message,
                        extra={"user_id": user_id, "step": "report"})
            return {}


class SendCycleSummary:
    """Flush, send the summary, then every account's state, orders and PnL as the cycle left them (when
    `account_frames` is given): also the accounts the cycle did not fetch, with their last known rows."""

    def __init__(self, notifier: Notifier, event_log: EventLog, clock: Clock,
                 account_frames: AccountFrames | None = None) -> None:
        self._notifier = notifier
        self._event_log = event_log
        self._clock = clock
        self._account_frames = account_frames

    async def __call__(self, command: SendSummary) -> tuple[Event, ...]:
        await self._event_log.flush()
        clients = await self._notifier.send(command.user_id, CycleSummaryFrame(summary=command.summary))
        if self._account_frames is not None and clients:
            for frame in await self._account_frames(command.user_id, self._clock.now()):
                await self._notifier.send(command.user_id, frame)
        return (SummarySent(user_id=command.user_id, cycle_id=command.cycle_id, at=self._clock.now(),
                            account_ids=command.account_ids, clients=clients),)
