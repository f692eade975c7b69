"""The service's listening socket queues a crowd of reconnecting clients (after a restart every WebSocket
client comes back at once) instead of dropping their SYNs, which they would retry only after 1 s, 3 s..."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from tests.listen_queue import connections_queued
from tests.web.conftest import Served

CROWD = 600


def test_hundreds_of_clients_connecting_at_once_are_all_queued_for_accept(served: Served):
    address = urlsplit(served.url)
    blocked, release = threading.Event(), threading.Event()

    def hold_the_loop() -> None:  # the server accepts nothing while its loop is held
        blocked.set()
        release.wait(5)

    served.io.loop.call_soon_threadsafe(hold_the_loop)
    assert blocked.wait(5)
    try:
        assert connections_queued(address.hostname, address.port, CROWD, within_s=0.8) == CROWD
    finally:
        release.set()
