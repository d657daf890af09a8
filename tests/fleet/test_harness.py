"""tests/support/fleet.py: 20 namespace web hosts come up fast, serve, and leave nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from tests.support import fleet

pytestmark = pytest.mark.integration
PREFIX = f"mbh{os.getpid() % 10000}"
COUNT = 20
# Generous for a loaded 2-CPU machine; the measured figure is printed (pytest -s).
UP_SECONDS = 20
DOWN_SECONDS = 15


def _ssh(host: fleet.FleetHost, command: str) -> str:
    argv = ["ssh", "-i", host.ssh.key, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            f"root@{host.address}", command]
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30).stdout


def test_twenty_hosts_come_up_in_parallel_serve_and_leave_nothing_behind():
    state = f"/tmp/{PREFIX}-state"
    started = time.monotonic()
    hosts = fleet.up(COUNT, PREFIX, state)
    took_up = time.monotonic() - started
    try:
        assert [h.name for h in hosts.hosts] == [f"{PREFIX}{i}" for i in range(1, COUNT + 1)]
        assert len({h.address for h in hosts.hosts}) == COUNT
        for host in hosts.hosts:
            assert fleet.http_status(host.health_url) == 200
            assert hosts.status(host) == 200
        first, last = hosts.hosts[0], hosts.hosts[-1]
        assert f"inet {last.address}/30" in _ssh(last, "ip -o -4 addr show")
        # The public side answers 503 while the maintenance flag is there.
        first.flag.write_text("down\n")
        assert hosts.status(first) == 503
        assert hosts.status(last) == 200
    finally:
        started = time.monotonic()
        fleet.down(PREFIX, state)
        took_down = time.monotonic() - started
        shutil.rmtree(state, ignore_errors=True)
    print(f"\nfleet of {COUNT}: up {took_up:.2f} s, down {took_down:.2f} s")
    assert fleet.wait_until(lambda: not fleet.leftovers(PREFIX, state), 10), \
        fleet.leftovers(PREFIX, state)
    assert took_up < UP_SECONDS and took_down < DOWN_SECONDS


def test_an_error_inside_the_block_still_removes_every_namespace_veth_and_process():
    prefix = f"{PREFIX}e"
    with pytest.raises(RuntimeError, match="boom"), fleet.fleet(2, prefix) as hosts:
        state = hosts.state
        assert len(fleet.leftovers(prefix, state)) >= 2 + 4  # namespaces and veth ends
        raise RuntimeError("boom")
    assert fleet.wait_until(lambda: not fleet.leftovers(prefix, state), 10), \
        fleet.leftovers(prefix, state)
