"""The paper broker's listening socket queues a crowd of new connections instead of dropping their SYNs
(which the clients would send again only after 1 s, then 3 s, 7 s...: seconds-long stalls at start-up)."""

from __future__ import annotations

from urllib.parse import urlsplit

from adapters.broker.paper import RunningPaperBroker
from tests.listen_queue import connections_queued

CROWD = 600


async def test_hundreds_of_clients_connecting_at_once_are_all_queued_for_accept(paper: RunningPaperBroker):
    address = urlsplit(paper.url)
    # The server's loop is this test's, and it does not run until the test awaits: nothing is accepted.
    assert connections_queued(address.hostname, address.port, CROWD, within_s=0.8) == CROWD
