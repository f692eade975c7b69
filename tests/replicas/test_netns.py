"""The partition rig itself (`netns`, `mariadb_server`): a client inside the namespace reaches the database on the
host side's address; a cut drops the database's packets both ways (a request already at the server commits, but
its answer does not come back; a request sent during the cut never arrives), leaves another port of the same
address alone, and counts what it dropped; a restore lets the stalled connection carry on; the server's write log
holds what the namespace's client committed, by its address, not what it rolled back; nothing of the namespace
outlives the rig (the fixture checks)."""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from tests.replicas.mariadb_server import MariaDbServer
from tests.replicas.netns import NetworkNamespace

pytestmark = pytest.mark.mysql

CLIENT = textwrap.dedent("""
    import sys
    import pymysql
    host, port, database = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    connection = pymysql.connect(host=host, port=port, user="root", database=database, autocommit=True)
    cursor = connection.cursor()
    for command in sys.stdin:
        command = command.strip()
        if command == "write":
            cursor.execute("INSERT INTO t (v) VALUES (1)")
        elif command == "slow write":
            cursor.execute("INSERT INTO t (v) SELECT SLEEP(1)")
        elif command == "roll back":
            cursor.execute("BEGIN"); cursor.execute("INSERT INTO t (v) VALUES (2)"); cursor.execute("ROLLBACK")
        print("done", command, flush=True)
""")
REACH = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()"


def test_a_cut_drops_the_databases_packets_both_ways_and_nothing_else_and_a_restore_lets_them_through(
        partition_rig: tuple[NetworkNamespace, MariaDbServer]):
    namespace, server = partition_rig
    url = server.create_database()
    database = url.rsplit("/", 1)[1]
    with server.connect(database) as admin, admin.cursor() as cursor:
        cursor.execute("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
        cursor.execute("INSERT INTO t (v) VALUES (0)")
    server.record_writes(url)
    with server.connect(database) as admin, admin.cursor() as cursor:
        cursor.execute("UPDATE t SET v = 0")  # a rewrite of the same values writes nothing
        cursor.execute("UPDATE t SET v = 3")
    other_port = socket.create_server((namespace.host_address, 0))
    threading.Thread(target=_accept_forever, args=(other_port,), daemon=True).start()
    client = namespace.popen([sys.executable, "-c", CLIENT, namespace.host_address, str(server.port), database],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(command: str) -> None:
        client.stdin.write(command + "\n")
        client.stdin.flush()

    def answer(within_s: float) -> str | None:
        ready, _, _ = select.select([client.stdout], [], [], within_s)
        return client.stdout.readline().strip() if ready else None

    def committed() -> int:
        return server.writes(url, namespace.inside_address).get("t", 0)

    def other_port_reachable() -> bool:
        return namespace.popen([sys.executable, "-c", REACH, namespace.host_address,
                                str(other_port.getsockname()[1])]).wait(timeout=10) == 0

    send("write")
    assert answer(10) == "done write"
    assert committed() == 1
    assert server.writes(url, namespace.host_address) == {"t": 1}, "the host side's UPDATE that changed a value"
    before = server.last_write(url)
    send("roll back")
    assert answer(10) == "done roll back"
    assert server.writes(url, namespace.inside_address, after=before) == {}, "a rolled back INSERT is not logged"
    before = committed()

    send("slow write")
    time.sleep(0.3)  # the request is at the server, which sleeps a second before it commits
    namespace.cut(server.port)
    assert _within(5, lambda: committed() == before + 1), "the request sent before the cut commits"
    assert answer(2) is None, "its answer does not come back through the cut"
    assert other_port_reachable(), "the cut leaves another port of the address alone"
    assert namespace.dropped(server.port) > 0
    namespace.restore(server.port)
    assert answer(15) == "done slow write", "the answer comes through after the restore"

    after_slow_write = committed()
    namespace.cut(server.port)
    send("write")
    assert answer(2) is None and committed() == after_slow_write, "a request sent during the cut never arrives"
    namespace.restore(server.port)
    assert answer(15) == "done write"
    assert committed() == after_slow_write + 1
    client.stdin.close()
    assert client.wait(timeout=10) == 0


def _within(seconds: float, condition) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _accept_forever(listener: socket.socket) -> None:
    while True:
        listener.accept()[0].close()
