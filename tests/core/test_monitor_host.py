"""MonitorHost: many users' monitors on one actor thread, each message to its own user's current monitor."""

import pykka
import pytest

from actors.user_monitor.host import MonitorHost, MonitorRef, StartMonitor
from messages.control import Drain, MonitorCrashed, Resume, Tick, TickHeldBack
from tests.doubles import ListRef


class Finish:
    """Ends the RecordingMonitor's cycle."""


FINISH = Finish()
HELD_BACK = TickHeldBack()


class RecordingMonitor:
    """Stands in for a UserMonitor: records what reaches it; a Tick starts its cycle, a Finish ends it, a
    Drain makes it raise."""

    def __init__(self, user_id: int, ref: MonitorRef, supervisor) -> None:
        self.user_id, self.ref, self.supervisor = user_id, ref, supervisor
        self.received: list = []
        self.cycle_running = False

    def on_receive(self, message) -> None:
        if isinstance(message, Drain):
            raise RuntimeError("bug")
        self.received.append(message)
        if isinstance(message, Tick):
            self.cycle_running = True
        elif isinstance(message, Finish):
            self.cycle_running = False

    def on_failure(self, error: BaseException) -> None:
        self.supervisor.tell(MonitorCrashed(user_id=self.user_id, cycle_id="", reason=type(error).__name__))


def hosted(max_cycles: int = 100):
    built: list[RecordingMonitor] = []

    def make(user_id, ref, supervisor):
        built.append(RecordingMonitor(user_id, ref, supervisor))
        return built[-1]

    return MonitorHost.start(make, max_cycles), built


def settle(host: pykka.ActorRef) -> None:
    host.proxy().actor_urn.get(timeout=5)  # answered after every message sent before it


def test_a_message_reaches_its_users_current_monitor_and_a_late_one_for_a_replaced_monitor_is_dropped():
    host, built = hosted()
    supervisor = ListRef()
    try:
        host.tell(StartMonitor(7, 1, supervisor))
        first = MonitorRef(host, 7, 1)
        first.tell(Tick())
        host.tell(StartMonitor(7, 2, supervisor))
        second = MonitorRef(host, 7, 2)
        first.tell(Resume())  # a worker's reply to the monitor that was replaced
        second.tell(Tick(trigger="manual"))
        settle(host)
        assert [m.received for m in built] == [[Tick()], [Tick(trigger="manual")]]
    finally:
        host.stop()


def test_a_stopped_monitor_gets_nothing_more_and_a_crash_is_reported_while_the_others_go_on():
    host, built = hosted()
    supervisor = ListRef()
    try:
        for user_id in (1, 2, 3):
            host.tell(StartMonitor(user_id, user_id, supervisor))
        MonitorRef(host, 1, 1).stop()
        MonitorRef(host, 1, 1).tell(Tick())
        MonitorRef(host, 2, 2).tell(Drain())
        MonitorRef(host, 2, 2).tell(Tick())
        MonitorRef(host, 3, 3).tell(Tick())
        settle(host)
        assert [m.received for m in built] == [[], [], [Tick()]]
        assert supervisor.told == [MonitorCrashed(user_id=2, cycle_id="", reason="RuntimeError")]
    finally:
        host.stop()


def four_ticked_users(max_cycles: int):
    """A host of users 1 to 4 (each its own incarnation number), each told a Tick in that order."""
    host, built = hosted(max_cycles)
    supervisor = ListRef()
    for user_id in (1, 2, 3, 4):
        host.tell(StartMonitor(user_id, user_id, supervisor))
    for user_id in (1, 2, 3, 4):
        MonitorRef(host, user_id, user_id).tell(Tick())
    return host, built, supervisor


def test_past_its_limit_a_host_queues_ticks_in_order_and_a_finished_cycle_lets_the_oldest_in():
    host, built, _ = four_ticked_users(max_cycles=2)
    try:
        MonitorRef(host, 3, 3).tell(Tick(trigger="manual"))  # user 3's first tick still waits
        settle(host)
        assert [m.received for m in built] == [[Tick()], [Tick()], [HELD_BACK], []]

        MonitorRef(host, 1, 1).tell(FINISH)
        settle(host)
        assert [m.received for m in built] == [[Tick(), FINISH], [Tick()], [HELD_BACK, Tick()], []]

        MonitorRef(host, 2, 2).tell(FINISH)
        settle(host)
        assert built[3].received == [Tick()]
        MonitorRef(host, 1, 1).tell(Tick())  # both slots taken (users 3 and 4): it waits
        settle(host)
        assert [len(m.received) for m in built] == [2, 2, 2, 1]
    finally:
        host.stop()


def test_a_stopped_or_crashed_monitor_gives_its_slot_and_its_place_in_the_queue_back():
    host, built, supervisor = four_ticked_users(max_cycles=1)
    try:
        MonitorRef(host, 2, 2).stop()  # waiting: its place goes
        MonitorRef(host, 1, 1).tell(Drain())  # running, crashes: its slot goes to user 3, not to the stopped 2
        settle(host)
        assert [m.received for m in built] == [[Tick()], [], [Tick()], []]
        assert supervisor.told == [MonitorCrashed(user_id=1, cycle_id="", reason="RuntimeError")]

        MonitorRef(host, 3, 3).stop()  # running: its slot goes to user 4
        settle(host)
        assert built[3].received == [Tick()]
    finally:
        host.stop()


def test_a_host_needs_room_for_one_cycle():
    with pytest.raises(ValueError, match="at least one cycle"):
        MonitorHost(lambda *_: None, 0)
