"""tests/support/netns.py brings up reachable SSH hosts in network namespaces and removes them."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "netns", Path(__file__).resolve().parents[1] / "support" / "netns.py"
)
assert _SPEC is not None and _SPEC.loader is not None
netns = importlib.util.module_from_spec(_SPEC)
sys.modules["netns"] = netns
_SPEC.loader.exec_module(netns)


def _ssh(host: netns.SSHHost, command: str) -> str:
    argv = [
        "ssh",
        "-i",
        host.key,
        "-p",
        str(host.port),
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        f"{host.user}@{host.address}",
        command,
    ]
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30).stdout


def _namespaces() -> str:
    return subprocess.run(
        ["ip", "netns", "list"], check=True, capture_output=True, text=True
    ).stdout


def test_two_hosts_answer_on_their_own_addresses_and_are_removed(tmp_path: Path) -> None:
    with netns.ssh_hosts(2, "mbtnet", tmp_path) as hosts:
        assert [h.namespace for h in hosts] == ["mbtnet1", "mbtnet2"]
        assert len({h.address for h in hosts}) == 2
        for host in hosts:
            assert host.user == "root"
            assert f"inet {host.address}/30" in _ssh(host, "ip -o -4 addr show")
            assert host.inventory_vars()["ansible_host"] == host.address
    assert "mbtnet" not in _namespaces()


def test_a_bad_prefix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="prefix"):
        netns.up("Bad-Prefix", 1, tmp_path)
