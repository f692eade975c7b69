"""The audit's reads of the event log, on SQLite and MariaDB: which users have events in a time range
(first and last seq), and a user's events page by page, each row decoded on its own."""

from __future__ import annotations

from datetime import timedelta

from adapters.store.event_log import open_event_log
from adapters.store.port import LoggedEvent, UndecodableEvent, UserEventSpan
from messages.events import TickSkipped
from tests.replay.recorded import raw_sql
from tests.storage.conftest import T0


def skipped(user_id: int, minute: int) -> TickSkipped:
    return TickSkipped(user_id=user_id, cycle_id="", at=T0 + timedelta(minutes=minute), reason="no_connection")


async def test_spans_and_pages_of_every_users_events(store, database_url):
    event_log = await open_event_log(store.database)
    for minute in range(5):
        event_log.append(skipped(1, minute))
        event_log.append(skipped(2, minute * 2))
    await event_log.close()

    everything = await event_log.spans()
    from_minute_3 = await event_log.spans(since=T0 + timedelta(minutes=3))
    first_page = await event_log.scan(1, 2, 5, limit=2)
    second_page = await event_log.scan(1, 4, 5, limit=2)

    assert everything == [UserEventSpan(user_id=1, first_seq=1, last_seq=5, events=5),
                          UserEventSpan(user_id=2, first_seq=1, last_seq=5, events=5)]
    assert from_minute_3 == [UserEventSpan(user_id=1, first_seq=4, last_seq=5, events=2),
                             UserEventSpan(user_id=2, first_seq=3, last_seq=5, events=3)]
    assert [e.seq for e in first_page + second_page] == [2, 3, 4, 5]
    assert all(isinstance(e, LoggedEvent) and e.event.user_id == 1 for e in first_page + second_page)
    assert second_page[0].event == skipped(1, 3)


async def test_a_row_that_does_not_decode_is_reported_not_raised(store, database_url):
    event_log = await open_event_log(store.database)
    for minute in range(3):
        event_log.append(skipped(1, minute))
    await event_log.close()
    raw_sql(database_url, "UPDATE monitor_events SET payload = ? WHERE user_id = ? AND seq = ?",
            ('{"type":"tick_skipped","user_id":"one"}', 1, 2))

    page = await event_log.scan(1, 1, 3, limit=10)

    assert [type(e) for e in page] == [LoggedEvent, UndecodableEvent, LoggedEvent]
    broken = page[1]
    assert (broken.seq, broken.type, broken.at) == (2, "tick_skipped", T0 + timedelta(minutes=1))
    assert "user_id" in broken.error
