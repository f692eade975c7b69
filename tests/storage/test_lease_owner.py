"""Lease owner names: a process of this host that no longer runs is known dead (so its lease is free at once);
anything /proc cannot vouch for (another host, boot or pid namespace, an old-style name) is never judged
dead, so a live replica's lease is never taken early."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.store.lease_owner import is_dead_here, process_owner

ROOT = Path(__file__).resolve().parents[2]
PRINT_OWNER = "from adapters.store.lease_owner import process_owner; print(process_owner(), flush=True)"

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def with_part(owner: str, index: int, value: str) -> str:
    parts = owner.split(":")
    parts[index] = value
    return ":".join(parts)


def with_birth_part(owner: str, index: int, value: str) -> str:
    birth = owner.split(":")[3].split(".")
    birth[index] = value
    return with_part(owner, 3, ".".join(birth))


def test_this_process_under_its_own_owner_name_is_alive():
    assert not is_dead_here(process_owner())


def test_a_process_of_this_host_that_exited_is_dead():
    owner = subprocess.run([sys.executable, "-c", PRINT_OWNER], capture_output=True, text=True, check=True,
                           cwd=ROOT).stdout.strip()
    assert is_dead_here(owner)


def test_an_exited_child_not_yet_reaped_is_dead():
    child = subprocess.Popen([sys.executable, "-c", PRINT_OWNER], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        owner = child.stdout.readline().strip()
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
        assert Path(f"/proc/{child.pid}").exists(), "the child is a zombie, its pid still taken"
        assert is_dead_here(owner)
    finally:
        child.wait()
        child.stdout.close()


def test_a_pid_now_running_another_process_is_dead():
    mine = process_owner()
    started = int(mine.split(":")[3].split(".")[2])
    assert is_dead_here(with_birth_part(mine, 2, str(started + 1)))


@pytest.mark.parametrize("other", [
    lambda owner: with_part(owner, 0, "another-host"),
    lambda owner: with_birth_part(owner, 0, "00000000"),
    lambda owner: with_birth_part(owner, 1, "1"),
    lambda owner: with_part(owner, 3, "-"),
    lambda owner: owner.rsplit(":", 1)[0],
    lambda owner: "replica-b",
], ids=["host", "boot", "pid namespace", "unknown birth", "old three-part name", "free-form name"])
def test_an_owner_this_host_cannot_vouch_for_is_never_judged_dead(other):
    finished = subprocess.run([sys.executable, "-c", PRINT_OWNER], capture_output=True, text=True, check=True,
                              cwd=ROOT).stdout.strip()
    assert is_dead_here(finished)
    assert not is_dead_here(other(finished))
