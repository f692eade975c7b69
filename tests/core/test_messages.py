"""Every message family round-trips through msgspec JSON unchanged, through its tagged union decoder."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import get_args

import msgspec
import pytest

from actors.user_monitor.cycle import CycleState, summarize
from domain.errors import ErrorKind
from messages.commands import Command, FetchSnapshots, ReportErrors, SendSummary
from messages.common import CycleError, CycleSummary, Step
from messages.events import (
    CommandIssued,
    CyclePolicy,
    CycleStarted,
    EntriesRegenerated,
    Event,
    FetchFailed,
    OrderAction,
    OrderAttention,
    OrderChange,
    OrdersSynced,
    PnlComputed,
    ProtectiveOrdersFailed,
    ProtectiveOrdersPlaced,
    RegeneratedEntry,
    RegeneratedPlacementFailed,
    StepTimedOut,
    StopLossModificationFailed,
)
from messages.frames import ClientFrame, MonitoringErrors, ServerFrame

AT = datetime(2026, 11, 25, 6, 30, 1, 123456, tzinfo=UTC)
IDS = {"user_id": 3, "cycle_id": "c-1"}


def roundtrip(value, union):
    return msgspec.json.Decoder(union).decode(msgspec.json.encode(value))


@pytest.mark.parametrize("command_type", get_args(Command))
def test_every_command_type_roundtrips(command_type):
    fields = {}
    if "strategies" in command_type.__struct_fields__:
        fields["strategies"] = ("momentum",)
    if "errors" in command_type.__struct_fields__:
        fields["errors"] = (CycleError(step=Step.FETCH, account_id=1, kind=ErrorKind.TIMEOUT, message="x", at=AT),)
    if "summary" in command_type.__struct_fields__:
        state = CycleState(user_id=3, cycle_id="c-1", started_at=AT)
        fields["summary"] = summarize(state)
    command = command_type(**IDS, account_ids=(1, 2), **fields)
    assert roundtrip(command, Command) == command


def test_events_keep_decimals_exact_and_times_aware():
    event = PnlComputed(**IDS, at=AT, account_ids=(1,), realized_pnl=Decimal("1234.0500"),
                        unrealized_pnl=Decimal("-0.0001"))
    back = roundtrip(event, Event)
    assert back == event
    assert back.realized_pnl == Decimal("1234.0500") and isinstance(back.realized_pnl, Decimal)
    assert back.at.tzinfo is not None and back.at == AT


def test_nested_command_and_step_payloads_roundtrip():
    events = [
        CommandIssued(**IDS, at=AT, account_ids=(1,), command=FetchSnapshots(**IDS, account_ids=(1,)),
                      deadline_s=20.0),
        FetchFailed(**IDS, at=AT, account_ids=(2,), kind=ErrorKind.SESSION_EXPIRED, message="log in again"),
        StepTimedOut(**IDS, at=AT, account_ids=(2,), step=Step.PNL, deadline_s=10.0),
        OrdersSynced(**IDS, at=AT, account_ids=(1,), changes=(
            OrderChange(order_id=9, account_id=1, field="status", before="ENTRY_OPEN", after="RUNNING"),)),
        ProtectiveOrdersPlaced(**IDS, at=AT, account_ids=(1,), actions=(
            OrderAction(order_id=9, account_id=1, leg="sl", action="place", tag="o9sl1", broker_order_id=77,
                        quantity=15, price=Decimal("99.95")),)),
    ]
    for event in events:
        assert roundtrip(event, Event) == event


@pytest.mark.parametrize(("payload", "defaults"), [
    ('"type":"cycle_started","trigger":"manual","policy":{"isolate_account_failures":true}',
     {"trigger": "manual", "policy": CyclePolicy(summary_from_step_events=False)}),
    ('"type":"protective_orders_failed","kind":"rejected","message":"m"', {"unprotected": (), "entries_not_seen": ()}),
    ('"type":"entry_modification_failed","kind":"rejected","message":"m"', {"stale_fair_prices": 0}),
    ('"type":"stop_loss_modification_failed","kind":"rejected","message":"m"', {"stale_fair_prices": 0}),
    ('"type":"entries_regenerated","regenerated_order_ids":[4]', {"regenerated": ()}),
    ('"type":"regenerated_placed","actions":[]', {"regenerated": ()}),
])
def test_events_logged_before_their_newer_fields_decode_with_the_defaults(payload, defaults):
    event = msgspec.json.Decoder(Event).decode(f'{{{payload},"user_id":1,"cycle_id":"c","at":"2026-11-25T06:30:00Z"}}')
    assert {name: getattr(event, name) for name in defaults} == defaults


def test_a_summary_logged_before_the_stale_fair_price_count_decodes_with_none_counted():
    summary = msgspec.json.decode(b'{"user_id":1,"cycle_id":"c","started_at":"2026-11-25T06:30:00Z",'
                                  b'"account_ids":[1],"steps":[],"error_count":0}', type=CycleSummary)
    assert summary.stale_fair_prices == 0


def test_what_steps_tell_of_orders_and_a_cycle_started_by_a_connect_roundtrip():
    attention = OrderAttention(order_id=9, account_id=1, symbol="TCS", reason="no stop-loss price")
    entry = RegeneratedEntry(archived_order_id=4, account_id=1, symbol="TCS", attempt=2, order_id=11)
    events = [
        CycleStarted(**IDS, at=AT, trigger="connect", policy=CyclePolicy(summary_from_step_events=True)),
        CycleStarted(**IDS, at=AT, trigger="takeover"),
        ProtectiveOrdersFailed(**IDS, at=AT, kind=ErrorKind.REJECTED, message="m", unprotected=(attention,),
                               entries_not_seen=(attention,)),
        EntriesRegenerated(**IDS, at=AT, regenerated_order_ids=(4,), regenerated=(entry,)),
        RegeneratedPlacementFailed(**IDS, at=AT, kind=ErrorKind.REJECTED, message="m", regenerated=(entry,)),
        StopLossModificationFailed(**IDS, at=AT, kind=ErrorKind.REJECTED, message="m", stale_fair_prices=2),
    ]
    for event in events:
        assert roundtrip(event, Event) == event


def test_an_unaware_timestamp_is_refused_on_decode():
    raw = b'{"type":"cycle_finished","user_id":1,"cycle_id":"c","at":"2026-11-25T06:30:00","error_count":0}'
    with pytest.raises(msgspec.ValidationError, match="timezone"):
        msgspec.json.Decoder(Event).decode(raw)


def test_an_unknown_event_type_is_refused_with_its_tag():
    with pytest.raises(msgspec.ValidationError, match="no_such_event"):
        msgspec.json.Decoder(Event).decode(b'{"type":"no_such_event","user_id":1,"cycle_id":"c","at":"x"}')


def test_frames_roundtrip_both_ways():
    frame = MonitoringErrors(cycle_id="c-1", errors=(
        CycleError(step=Step.SYNC, account_id=4, kind=ErrorKind.DB, message="deadlock", at=AT),))
    assert roundtrip(frame, ServerFrame) == frame
    assert msgspec.json.Decoder(ClientFrame).decode(b'{"type":"run_cycle"}').__class__.__name__ == "RunCycle"


def test_report_command_carries_errors_in_order():
    errors = tuple(CycleError(step=s, account_id=1, kind=ErrorKind.UNAVAILABLE, message=s.value, at=AT)
                   for s in (Step.PROTECT, Step.MODIFY_ENTRIES))
    command = ReportErrors(**IDS, account_ids=(1,), errors=errors)
    assert [e.step for e in roundtrip(command, Command).errors] == [Step.PROTECT, Step.MODIFY_ENTRIES]


def test_summary_command_roundtrips_with_its_report():
    state = CycleState(user_id=3, cycle_id="c-1", started_at=AT)
    command = SendSummary(**IDS, summary=summarize(state))
    assert roundtrip(command, Command) == command
