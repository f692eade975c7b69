"""MonitorHost: many users' monitors on one actor thread, each message to its own user's current monitor."""

import pykka

from actors.user_monitor.host import MonitorHost, MonitorRef, StartMonitor
from messages.control import Drain, MonitorCrashed, Resume, Tick
from tests.doubles import ListRef


class RecordingMonitor:
    """Stands in for a UserMonitor: records what reaches it; a Drain makes it raise."""

    def __init__(self, user_id: int, ref: MonitorRef, supervisor) -> None:
        self.user_id, self.ref, self.supervisor = user_id, ref, supervisor
        self.received: list = []

    def on_receive(self, message) -> None:
        if isinstance(message, Drain):
            raise RuntimeError("bug")
        self.received.append(message)

    def on_failure(self, error: BaseException) -> None:
        self.supervisor.tell(MonitorCrashed(user_id=self.user_id, cycle_id="", reason=type(error).__name__))


def hosted():
    built: list[RecordingMonitor] = []

    def make(user_id, ref, supervisor):
        built.append(RecordingMonitor(user_id, ref, supervisor))
        return built[-1]

    return MonitorHost.start(make), built


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
