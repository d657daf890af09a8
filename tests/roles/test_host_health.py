"""system_resources and service_health's TLS check fail on real resources and a real server.

One namespace SSH host (``mbhh1``) for the whole module, running:

- nginx on the host's namespace address with three HTTPS ports: a certificate a test CA
  issued for ``good.test`` and the host's address (8443), a self-signed one for
  ``wrong.example`` (8444) and an expired one from the same CA (8445);
- a 1 MiB tmpfs of 32 inodes, filled page by page and file by file across the 80%
  thresholds (mounted before the host starts, so that its sshd's copy of the mount table
  has it).

Memory cannot be filled on a machine other tests share, and load moves too slowly: those
checks fail on a threshold set below what the test itself reads from /proc.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.support import netns
from tests.support.roles import Outcome, run_role

pytestmark = pytest.mark.integration

PREFIX = "mbhh"
PAGE = 4096
NGINX_CONF = """\
daemon on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/tmp;
  proxy_temp_path {prefix}/tmp;
  fastcgi_temp_path {prefix}/tmp;
  uwsgi_temp_path {prefix}/tmp;
  scgi_temp_path {prefix}/tmp;
  server {{ listen {address}:8443 ssl; ssl_certificate {prefix}/good.crt;
           ssl_certificate_key {prefix}/good.key; return 200 "ok\\n"; }}
  server {{ listen {address}:8444 ssl; ssl_certificate {prefix}/wrong.crt;
           ssl_certificate_key {prefix}/wrong.key; return 200 "ok\\n"; }}
  server {{ listen {address}:8445 ssl; ssl_certificate {prefix}/expired.crt;
           ssl_certificate_key {prefix}/expired.key; return 200 "ok\\n"; }}
}}
"""


@dataclass
class Env:
    root: Path
    host: netns.SSHHost
    ca: Path
    disk: Path

    def run(self, role: str, role_vars: dict[str, Any], facts: tuple[str, ...] = ()) -> Outcome:
        host_vars = {**self.host.inventory_vars(), "ansible_pipelining": True}
        return run_role(self.root / "run", role, host_vars, role_vars, facts)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(
    folder: Path,
    stem: str,
    subject: str,
    names: list[x509.GeneralName],
    days: tuple[int, int],
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Write <stem>.crt and <stem>.key, valid from days[0] to days[1] from now."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    is_ca = not names
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer[0].subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=days[0]))
        .not_valid_after(now + dt.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    certificate = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    (folder / f"{stem}.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / f"{stem}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate, key


def _certificates(folder: Path, address: str) -> Path:
    ca = _issue(folder, "ca", "maintbook test CA", [], (-1, 365))
    good = [x509.DNSName("good.test"), x509.IPAddress(ipaddress.ip_address(address))]
    _issue(folder, "good", "good.test", good, (-1, 90), issuer=ca)
    _issue(folder, "wrong", "wrong.example", [x509.DNSName("wrong.example")], (-1, 90))
    _issue(folder, "expired", "good.test", good, (-30, -3), issuer=ca)
    return folder / "ca.crt"


@contextlib.contextmanager
def _nginx(folder: Path, host: netns.SSHHost) -> Iterator[None]:
    (folder / "tmp").mkdir()
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=folder, address=host.address))
    subprocess.run(
        ["ip", "netns", "exec", host.namespace, "nginx", "-c", str(conf), "-p", str(folder),
         "-e", str(folder / "error.log")],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
            os.kill(int((folder / "nginx.pid").read_text()), signal.SIGTERM)


@contextlib.contextmanager
def _tmpfs(mount: Path) -> Iterator[Path]:
    mount.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,nr_inodes=32,mode=0755", "tmpfs", str(mount)],
        check=True,
        capture_output=True,
    )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=False, capture_output=True)


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-", dir="/tmp"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, root, True)
        # Mounted before the host starts: `ip netns exec` gives its sshd a copy of the mount
        # table, which later mounts here would not reach.
        disk = stack.enter_context(_tmpfs(root / "disk"))
        stack.callback(netns.down, PREFIX, root / "netns")
        (host,) = netns.up(PREFIX, 1, root / "netns")
        (root / "nginx").mkdir()
        ca = _certificates(root / "nginx", host.address)
        stack.enter_context(_nginx(root / "nginx", host))
        yield Env(root, host, ca, disk)


# --- TLS: chain, name and expiry -------------------------------------------------------


def _tls(env: Env, port: int, **check: Any) -> Outcome:
    return env.run(
        "service_health",
        {"service_health_tls": [{"host": env.host.address, "port": port, **check}]},
        facts=("service_health_results",),
    )


def test_a_certificate_from_a_trusted_ca_for_the_name_passes(env: Env) -> None:
    by_name = _tls(env, 8443, server_name="good.test", ca_file=str(env.ca))
    ca = {"service_health_ca_file": str(env.ca)}
    by_address = env.run(
        "service_health",
        {"service_health_tls": [{"host": env.host.address, "port": 8443}], **ca},
        facts=("service_health_results",),
    )

    assert by_name.message is None, by_name.output
    assert by_address.message is None, by_address.output
    (result,) = by_address.facts["service_health_results"]
    assert (result["verified"], result["issuer"], result["days_left"]) == (
        True,
        "CN=maintbook test CA",
        89,
    )
    assert result["names"] == f"DNS:good.test, IP Address:{env.host.address}"


def test_a_self_signed_certificate_for_the_wrong_name_fails(env: Env) -> None:
    outcome = _tls(env, 8444, server_name="good.test")

    assert outcome.message == (
        f"tls://{env.host.address}:8444 certificate does not verify against the system CA "
        "store: self-signed certificate (subject CN=wrong.example, issuer CN=wrong.example); "
        "nor is it valid for good.test: it names DNS:wrong.example"
    )


def test_a_trusted_certificate_for_another_name_fails(env: Env) -> None:
    outcome = env.run(
        "service_health",
        {
            "service_health_ca_file": str(env.ca),
            "service_health_tls": [
                {"host": env.host.address, "port": 8443, "server_name": "api.example.com"}
            ],
        },
    )

    assert outcome.message == (
        f"tls://{env.host.address}:8443 certificate is not valid for api.example.com: "
        f"it names DNS:good.test, IP Address:{env.host.address}"
    )


def test_a_certificate_from_a_ca_not_trusted_fails(env: Env) -> None:
    outcome = _tls(env, 8443, server_name="good.test")

    assert outcome.message == (
        f"tls://{env.host.address}:8443 certificate does not verify against the system CA "
        "store: unable to get local issuer certificate (subject CN=good.test, "
        "issuer CN=maintbook test CA)"
    )


def test_an_expired_certificate_fails_with_its_date(env: Env) -> None:
    outcome = _tls(env, 8445, server_name="good.test", ca_file=str(env.ca))

    assert outcome.message is not None, outcome.output
    assert re.fullmatch(
        rf"tls://{re.escape(env.host.address)}:8445 certificate expired on "
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(3 days ago\), expected at least 14 more days",
        outcome.message,
    ), outcome.message


def test_verify_false_checks_only_the_expiry_date(env: Env) -> None:
    long_enough = _tls(env, 8444, server_name="good.test", verify=False, min_days=30)
    too_short = _tls(env, 8444, server_name="good.test", verify=False, min_days=100)

    assert long_enough.message is None, long_enough.output
    assert too_short.message is not None, too_short.output
    assert re.fullmatch(
        rf"tls://{re.escape(env.host.address)}:8444 certificate expires in 89 days "
        r"\(\S+\), expected at least 100 days",
        too_short.message,
    ), too_short.message


def test_a_ca_bundle_that_cannot_be_read_is_named(env: Env) -> None:
    missing = env.root / "no-such-ca.pem"
    outcome = _tls(env, 8443, server_name="good.test", ca_file=str(missing))

    assert outcome.message == (
        f"tls://{env.host.address}:8443 cannot be checked: CA bundle {missing}: "
        "[Errno 2] No such file or directory"
    )


# --- system resources ---------------------------------------------------------------------


def _fill(disk: Path, pages: int, files: int) -> None:
    for old in disk.iterdir():
        old.unlink()
    (disk / "data").write_bytes(b"\0" * pages * PAGE)
    for index in range(files - 1):
        (disk / f"empty-{index}").touch()


def test_disk_and_inodes_fail_past_80_percent_on_the_default_thresholds(env: Env) -> None:
    checks = {
        "system_resources_filesystems": [str(env.disk)],
        "system_resources_checks": ["disk", "inodes"],
    }
    _fill(env.disk, pages=204, files=24)  # 204 of 256 pages, 25 of 32 inodes with the root
    below = env.run("system_resources", checks, facts=("system_resources_measured",))
    _fill(env.disk, pages=205, files=25)
    over = env.run("system_resources", checks)

    assert below.message is None, below.output
    (measured,) = below.facts["system_resources_measured"]["filesystems"]
    assert (measured["disk_percent"], measured["inode_percent"]) == (79.7, 78.1)
    assert over.message == (
        f"disk usage 80.1% on {env.disk} exceeds the 80% threshold "
        "(820.0 KiB used, 204.0 KiB available of 1.0 MiB); "
        f"inode usage 81.2% on {env.disk} exceeds the 80% threshold (26 of 32 inodes used)"
    )


def _memory_percent() -> float:
    values = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, rest = line.partition(":")
        values[key] = int(rest.split()[0])
    return 100.0 * (values["MemTotal"] - values["MemAvailable"]) / values["MemTotal"]


def test_memory_over_a_threshold_below_its_use_fails(env: Env) -> None:
    before = _memory_percent()
    outcome = env.run(
        "system_resources",
        {"system_resources_checks": ["memory"], "system_resources_max_memory_percent": 0.5},
    )
    after = _memory_percent()

    assert outcome.message is not None, outcome.output
    found = re.fullmatch(
        r"memory usage (\d+\.\d)% exceeds the 0\.5% threshold "
        r"\(\d+\.\d [KMG]iB used, \d+\.\d [KMG]iB available of \d+\.\d [KMG]iB\)",
        outcome.message,
    )
    assert found, outcome.message
    assert min(before, after) - 2 <= float(found.group(1)) <= max(before, after) + 2


@contextlib.contextmanager
def _busy_cpus() -> Iterator[None]:
    """One busy loop per CPU, ended by PID."""
    loops = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 1)
    ]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait(timeout=10)


def test_cpu_fails_at_the_default_90_percent_when_every_cpu_is_busy(env: Env) -> None:
    with _busy_cpus():
        outcome = env.run(
            "system_resources",
            {"system_resources_checks": ["cpu", "load"], "system_resources_max_load_per_cpu": 0},
        )

    assert outcome.message is not None, outcome.output
    cpus = os.cpu_count()
    found = re.fullmatch(
        rf"CPU usage (\d+\.\d)% over 1s exceeds the 90% threshold \({cpus} CPUs\); "
        rf"load average (\d+\.\d\d) per CPU \((\d+\.\d\d) over 5 minutes on {cpus} CPUs\) "
        r"exceeds the 0 threshold",
        outcome.message,
    )
    assert found, outcome.message
    assert float(found.group(1)) > 90 and float(found.group(2)) > 0
