"""Lease owners: the name (`host:pid:random:birth`) a process holds leases under, and whether an owner is a dead
process of this host, so that a `serve` restarted after a crash takes its users back without waiting for expiry.

`birth` (boot id, pid namespace, start time in ticks, from /proc) keeps a reused pid or another container from
passing as the owner; where /proc cannot tell, an owner is never judged dead. Reads /proc; never signals.
"""

from __future__ import annotations

import os
import secrets
import socket
from functools import cache
from pathlib import Path

UNKNOWN_BIRTH = "-"


def process_owner() -> str:
    """This process's name as a lease owner (a restarted process has a new one)."""
    return f"{_host()}:{os.getpid()}:{secrets.token_hex(4)}:{_birth(os.getpid()) or UNKNOWN_BIRTH}"


def is_dead_here(owner: str) -> bool:
    """True when `owner` names a process of this host (same host name, boot and pid namespace) that no
    longer runs: its pid is gone, a zombie, or now another process's."""
    parts = owner.split(":")
    if len(parts) != 4 or not parts[1].isdigit() or parts[0] != _host():
        return False
    birth = parts[3].split(".")
    here = _birth_here()
    if len(birth) != 3 or here is None or birth[:2] != here.split("."):
        return False
    stat = _stat(int(parts[1]))
    return stat is None or stat[0] in ("Z", "X") or stat[19] != birth[2]


def _host() -> str:
    return socket.gethostname()[:64]


@cache
def _birth_here() -> str | None:
    """`boot.pidns` of this process, or None where /proc does not say."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
        namespace = os.readlink("/proc/self/ns/pid").removeprefix("pid:[").removesuffix("]")
    except OSError:
        return None
    return f"{boot}.{namespace}" if boot and namespace.isdigit() else None


def _birth(pid: int) -> str | None:
    here, stat = _birth_here(), _stat(pid)
    return None if here is None or stat is None else f"{here}.{stat[19]}"


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first, start time at 19), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    return fields if len(fields) > 19 else None
