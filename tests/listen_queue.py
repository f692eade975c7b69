"""How many of a crowd of TCP connections a listening socket queues while its server accepts none."""

from __future__ import annotations

import selectors
import socket
import time


def connections_queued(host: str, port: int, crowd: int, within_s: float) -> int:
    """Open `crowd` connections at once and count those the kernel completes within `within_s`; the caller
    makes sure the server does not accept meanwhile, so a completed connection is one its backlog held."""
    selector = selectors.DefaultSelector()
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(crowd)]
    try:
        for client in sockets:
            client.setblocking(False)
            client.connect_ex((host, port))
            selector.register(client, selectors.EVENT_WRITE)
        connected, deadline = 0, time.monotonic() + within_s
        while connected < crowd and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.05):
                if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    connected += 1
                selector.unregister(key.fileobj)
        return connected
    finally:
        selector.close()
        for client in sockets:
            client.close()
