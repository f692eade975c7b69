"""A network namespace of the test's own, joined to this host by a veth pair, as a context manager: a real
network boundary on one machine, across which a test drops the packets of one port.

Owns the namespace, its links, its packet filters and the processes started in it. The pair's host side is
10.200.N.1/30 and its namespace side 10.200.N.2/30, N picked among those no address of this host has
(10.200.N.*), so runs side by side do not meet. `popen` runs a command inside (`ip netns exec`); it
reaches the host side's address, and the host reaches the namespace side's. `cut(port)` drops every TCP
packet between the namespace and `port` of the host side's address, both ways, silently, as a partition
does (no reset, no ICMP): tc u32 filters on the namespace's end of the pair redirect them to a link that is
down, which drops them (this kind of machine has neither tc's drop action nor netem, nor nft or iptables;
u32 and mirred it has). Every other port stays reachable. `restore(port)` removes the filters; TCP
connections cut in between carry on with their next retransmission. Leaving the block, or any failure on
the way in, kills what runs inside and deletes the namespace, which takes both ends of the pair with it;
`leftovers()` says if anything is still there.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Sequence
from types import TracebackType
from typing import Any

NAME_PREFIX = "monitor-netns-"
INSIDE_LINK = "veth0"
DROP_LINK = "drop0"
"""A link inside the namespace left down: packets redirected to it are dropped."""
SUBNET = "10.200.{}.0/30"


class NetnsError(RuntimeError):
    """An `ip` or `tc` command failed (with its stderr)."""


@functools.cache
def netns_missing_reason() -> str | None:
    """Why a test's network namespace with a cut port cannot be made here, or None when it can (tried once,
    for real: a namespace, its pair and a cut, all removed again)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"`{tool}` is missing (Debian: iproute2)"
    try:
        with NetworkNamespace() as probe:
            probe.cut(9)
            probe.restore(9)
        leftovers = probe.leftovers()
    except NetnsError as error:
        return f"cannot make a network namespace with a cut port here: {error}"
    return f"a probe namespace was left behind: {leftovers}" if leftovers else None


class NetworkNamespace:
    def __init__(self) -> None:
        token = uuid.uuid4().hex[:8]
        self.name = f"{NAME_PREFIX}{token}"
        self.host_link = f"mon{token}h"
        self.host_address = ""
        self.inside_address = ""
        self.processes: list[subprocess.Popen] = []
        self._created = False
        self._cuts: dict[int, int] = {}
        """Each cut port's tc filter preference (one egress and one ingress filter each)."""

    def __enter__(self) -> NetworkNamespace:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        subnet = self._free_subnet()
        self.host_address, self.inside_address = f"10.200.{subnet}.1", f"10.200.{subnet}.2"
        _run("ip", "netns", "add", self.name)
        self._created = True
        _run("ip", "link", "add", self.host_link, "type", "veth", "peer", "name", INSIDE_LINK, "netns", self.name)
        _run("ip", "addr", "add", f"{self.host_address}/30", "dev", self.host_link)
        _run("ip", "link", "set", self.host_link, "up")
        _run("ip", "-n", self.name, "addr", "add", f"{self.inside_address}/30", "dev", INSIDE_LINK)
        _run("ip", "-n", self.name, "link", "set", INSIDE_LINK, "up")
        _run("ip", "-n", self.name, "link", "set", "lo", "up")
        _run("ip", "-n", self.name, "link", "add", DROP_LINK, "type", "veth", "peer", "name", "drop1")
        _run("tc", "-n", self.name, "qdisc", "add", "dev", INSIDE_LINK, "clsact")

    def popen(self, argv: Sequence[str], **options: Any) -> subprocess.Popen:
        """`argv` started inside the namespace (`ip netns exec` execs it: the process is argv's own). `ip` is
        found on this process's PATH, whatever the PATH of `options`' environment."""
        process = subprocess.Popen([shutil.which("ip") or "ip", "netns", "exec", self.name, *argv], **options)
        self.processes.append(process)
        return process

    # --- the partition ---------------------------------------------------------------------------------------

    def cut(self, port: int) -> None:
        """Drop every TCP packet to and from `port` of the host side's address, from now on."""
        assert port not in self._cuts, f"port {port} is already cut"
        preference = self._cuts[port] = 10 + len(self._cuts)
        host = f"{self.host_address}/32"
        for direction, address, port_field in (("egress", "dst", "dport"), ("ingress", "src", "sport")):
            _run("tc", "-n", self.name, "filter", "add", "dev", INSIDE_LINK, direction, "pref", str(preference),
                 "protocol", "ip", "u32", "match", "ip", "protocol", "6", "0xff", "match", "ip", address, host,
                 "match", "ip", port_field, str(port), "0xffff",
                 "action", "mirred", "egress", "redirect", "dev", DROP_LINK)

    def restore(self, port: int) -> None:
        """Let `port`'s packets through again."""
        preference = self._cuts.pop(port)
        for direction in ("egress", "ingress"):
            _run("tc", "-n", self.name, "filter", "del", "dev", INSIDE_LINK, direction, "pref", str(preference))

    def dropped(self, port: int) -> int:
        """Packets dropped so far by `port`'s cut, both ways (0 when it is not cut)."""
        if port not in self._cuts:
            return 0
        found = 0
        for direction in ("egress", "ingress"):
            shown = _run("tc", "-n", self.name, "-s", "filter", "show", "dev", INSIDE_LINK, direction,
                         "pref", str(self._cuts[port]))
            found += sum(int(line.split()[3]) for line in shown.splitlines() if line.strip().startswith("Sent "))
        return found

    # --- the end ---------------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Kill every process inside, then delete the namespace (its links go with it)."""
        if not self._created:
            return
        with contextlib.suppress(NetnsError):
            for pid in _run("ip", "netns", "pids", self.name).split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait(timeout=30)
        _run("ip", "netns", "del", self.name)
        self._created = False
        deadline = time.monotonic() + 10
        while self.leftovers() and time.monotonic() < deadline:  # the kernel frees a namespace's links shortly after
            time.sleep(0.1)

    def leftovers(self) -> list[str]:
        """What of this namespace is still there: its name, its host-side link (none once stopped)."""
        found = []
        if self.name in _run("ip", "netns", "list").split():
            found.append(f"namespace {self.name}")
        if subprocess.run(["ip", "link", "show", self.host_link], capture_output=True, check=False).returncode == 0:
            found.append(f"link {self.host_link}")
        return found

    @staticmethod
    def _free_subnet() -> int:
        """A random N such that no address of this host is 10.200.N.*."""
        taken = {int(word.split(".")[2]) for word in _run("ip", "-o", "-4", "addr", "show").split()
                 if word.startswith("10.200.")}
        free = [n for n in range(256) if n not in taken]
        if not free:
            raise NetnsError("every 10.200.N.0/30 subnet is taken on this host")
        return random.choice(free)


def _run(*argv: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    if result.returncode != 0:
        raise NetnsError(f"`{' '.join(argv)}` failed: {result.stderr.strip()}")
    return result.stdout
