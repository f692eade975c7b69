"""Which monitor each monitored user has: the Supervisor keeps it, the tick jobs and the service read it."""

from __future__ import annotations

import threading

import pykka

from actors.user_monitor.host import MonitorRef


class MonitorRegistry:
    """Thread-safe map of user id to the ref of that user's current UserMonitor."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refs: dict[int, MonitorRef] = {}

    def put(self, user_id: int, ref: MonitorRef) -> None:
        with self._lock:
            self._refs[user_id] = ref

    def get(self, user_id: int) -> MonitorRef | None:
        with self._lock:
            return self._refs.get(user_id)

    def pop(self, user_id: int) -> MonitorRef | None:
        with self._lock:
            return self._refs.pop(user_id, None)

    def user_ids(self) -> list[int]:
        with self._lock:
            return list(self._refs)

    def tell(self, user_id: int, message: object) -> bool:
        """Tell the user's monitor; False if there is none or it has stopped."""
        ref = self.get(user_id)
        if ref is None:
            return False
        try:
            ref.tell(message)
        except pykka.ActorDeadError:
            return False
        return True
