"""Real hosts for runbook tests: SSH hosts in network namespaces with PostgreSQL and nginx.

One set of SSH hosts in network namespaces for the whole module (tests/support/netns.py):

    db1   db_primary   a real PostgreSQL 15 cluster (initdb + pg_ctl as postgres), listening
                       on db1's namespace address and on a unix socket under the temp root
    web1  web          a real nginx on its namespace address, port 8080, /health -> "ok"
    web2  web          same

Each runbook is copied unchanged into a throwaway project (maintbook.yml without blackouts)
and run with `maintbook run RUNBOOK -i INVENTORY --force-window --reason test`: the windows
lie in 2027, so the time rules are forced; the approvals are the runbooks' own. The
inventory maps the runbooks' groups to the namespace hosts and points every path the roles
write (maintenance flags, logs, backups, baselines) into the temp root, so nothing outside
it changes. The hosts share this machine's file system, which is how the tests look at the
effects.

Not run here, and why:
- quarterly-upgrade.yml and emergency-security-patch.yml install Debian packages (apt) and
  restart system services: on namespace hosts that would change this machine itself.

certificate-rotation.yml runs against the web hosts' own nginx (HTTPS on 8443) with
self-signed certificates made here: the served one expires in 10 days, the staged renewal
in 90. That is the real rotation (files swapped, `nginx -t`, graceful reload, expiry
checked over TLS before and after) minus the CA that would issue the renewal.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import netns
from tests.support.pgstate import write_config

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MAINTBOOK = Path(sys.executable).parent / "maintbook"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORT = 55432
# Unique per test process: other checkouts may run these tests on the same machine.
PREFIX = f"mbs{os.getpid() % 10000}"
NAMES = ["db1", "web1", "web2"]
CONFIG = "# Tests run at any date: no blackouts.\npolicy:\n  blackouts: []\n"
DAY = 86400


@dataclass
class Env:
    root: Path
    hosts: dict[str, netns.SSHHost]
    inventory: Path

    def psql(self, sql: str, database: str = "app") -> str:
        done = subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "psql"),
                "-X",
                "-q",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.root / "pg"),
                "-p",
                str(PG_PORT),
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()


def _run(*argv: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=True, **kwargs)


def _as_postgres(*argv: str, namespace: str | None = None) -> None:
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    _run(*prefix, "runuser", "-u", "postgres", "--", *argv)


SEED_SQL = """
CREATE TABLE orders (id int PRIMARY KEY, note text);
INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 6000) g;
DELETE FROM orders WHERE id % 2 = 0;
CREATE TABLE audit_log (id int PRIMARY KEY, payload text);
CREATE INDEX audit_log_payload ON audit_log (payload);
INSERT INTO audit_log SELECT g, repeat('x', 100) FROM generate_series(1, 3000) g;
UPDATE audit_log SET payload = repeat('y', 100);
CREATE TABLE settings (name text PRIMARY KEY, value text);
INSERT INTO settings VALUES ('theme', 'dark');
"""


@contextlib.contextmanager
def _postgres(root: Path, host: netns.SSHHost) -> Iterator[None]:
    """A private cluster inside db1's namespace: its address and a unix socket, no autovacuum."""
    folder = root / "pg"
    folder.mkdir()
    shutil.chown(folder, "postgres", "postgres")
    _as_postgres(
        str(PG_BIN / "initdb"),
        "-D",
        str(folder / "data"),
        "-A",
        "trust",
        "-U",
        "postgres",
        "--no-sync",
    )
    options = (
        f"-k {folder} -p {PG_PORT} -c listen_addresses={host.address} "
        "-c autovacuum=off -c fsync=off"
    )
    _as_postgres(
        str(PG_BIN / "pg_ctl"),
        "-D",
        str(folder / "data"),
        "-l",
        str(folder / "server.log"),
        "-w",
        "-o",
        options,
        "start",
        namespace=host.namespace,
    )
    try:
        yield
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(folder / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            capture_output=True,
            check=False,
        )


NGINX_CONF = """\
daemon on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log {prefix}/access.log;
  client_body_temp_path {prefix}/tmp;
  proxy_temp_path {prefix}/tmp;
  fastcgi_temp_path {prefix}/tmp;
  uwsgi_temp_path {prefix}/tmp;
  scgi_temp_path {prefix}/tmp;
  server {{
    listen {address}:8080;
    location /health {{ default_type text/plain; return 200 "ok\\n"; }}
  }}
  # The public side a load balancer sees: 503 while the host is drained.
  server {{
    listen {address}:8081;
    if (-f {flag}) {{ return 503; }}
    location / {{ default_type text/plain; return 200 "serving\\n"; }}
  }}
  server {{
    listen {address}:8443 ssl;
    ssl_certificate {prefix}/site.crt;
    ssl_certificate_key {prefix}/site.key;
    location /health {{ default_type text/plain; return 200 "ok\\n"; }}
  }}
}}
"""


def _test_ca(folder: Path) -> Path:
    """A CA of the test run; returns its certificate (its key lies beside it)."""
    folder.mkdir()
    _run(
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-days", "365", "-subj", "/CN=maintbook test CA",
        "-keyout", str(folder / "ca.key"), "-out", str(folder / "ca.pem"),
    )  # fmt: skip
    return folder / "ca.pem"


def _certificate(stem: Path, host: netns.SSHHost, days: int, ca: Path) -> None:
    """A certificate the test CA issues for the host's name and address."""
    _run(
        "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-subj", f"/CN={host.name}", "-keyout", f"{stem}.key", "-out", f"{stem}.csr",
    )  # fmt: skip
    Path(f"{stem}.ext").write_text(f"subjectAltName=DNS:{host.name},IP:{host.address}\n")
    _run(
        "openssl", "x509", "-req", "-in", f"{stem}.csr", "-CA", str(ca),
        "-CAkey", str(ca.with_suffix(".key")), "-CAcreateserial", "-days", str(days),
        "-extfile", f"{stem}.ext", "-out", f"{stem}.crt",
    )  # fmt: skip


@contextlib.contextmanager
def _nginx(root: Path, host: netns.SSHHost, ca: Path) -> Iterator[None]:
    prefix = root / f"nginx-{host.name}"
    (prefix / "tmp").mkdir(parents=True)
    conf = prefix / "nginx.conf"
    _certificate(prefix / "site", host, days=10, ca=ca)  # served now: about to expire
    _certificate(prefix / "staged", host, days=90, ca=ca)  # the renewal, staged beside it
    conf.write_text(NGINX_CONF.format(prefix=prefix, address=host.address,
                                      flag=root / "flags" / f"{host.name}.flag"))
    _run(
        "ip",
        "netns",
        "exec",
        host.namespace,
        "nginx",
        "-c",
        str(conf),
        "-p",
        str(prefix),
        "-e",
        str(prefix / "error.log"),
    )
    try:
        yield
    finally:
        pid_file = prefix / "nginx.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().strip()), 15)


def _inventory(root: Path, hosts: dict[str, netns.SSHHost]) -> dict[str, Any]:
    me = "{{ inventory_hostname }}"
    nginx = f"{root}/nginx-{me}"
    nginx_args = f"-c {nginx}/nginx.conf -p {nginx} -e {nginx}/error.log"

    def host_vars(name: str) -> dict[str, Any]:
        return {**hosts[name].inventory_vars(), "ansible_pipelining": True}

    return {
        "all": {
            "vars": {
                # root -> postgres for the database client tools (peer/trust on the socket).
                "ansible_become_method": "su",
                # Everything the roles write goes under the temp root (the hosts share this
                # machine's file system), one folder per host.
                "maintenance_mode_flag_path": f"{root}/flags/{me}.flag",
                "service_health_baseline_path": f"{root}/baselines/{me}.json",
                "log_maintenance_paths": [f"{root}/logs/{me}"],
                "log_maintenance_archive_dir": f"{root}/logs/{me}/archive",
                "daily_cleanup_dir": f"{root}/tmp/{me}",
            },
            "children": {
                "db_primary": {
                    "hosts": {"db1": host_vars("db1")},
                    "vars": {
                        "postgres_maintenance_host": str(root / "pg"),
                        "postgres_maintenance_port": PG_PORT,
                        "postgres_maintenance_user": "postgres",
                        "postgres_maintenance_become_user": "postgres",
                        "postgres_maintenance_bin_dir": str(PG_BIN),
                        "postgres_maintenance_backup_dir": str(root / "backups"),
                    },
                },
                "web": {
                    "hosts": {"web1": host_vars("web1"), "web2": host_vars("web2")},
                    "vars": {
                        "service_health_http": [
                            {
                                "url": "http://{{ ansible_host }}:8080/health",
                                "contains": "ok",
                                "max_latency_ms": 2000,
                            }
                        ],
                        # Stands in for `unattended-upgrade` (the runbook's default), which would
                        # upgrade this machine itself: it reads the installed package list from
                        # dpkg (read-only) and writes it to a per-host file in the temp root.
                        "os_update_command": (
                            f"sh -c 'dpkg-query -W > {root}/os-update/{me}.packages'"
                        ),
                        # certificate-rotation.yml: each host's own nginx (see _nginx).
                        "tls_cert_path": f"{nginx}/site.crt",
                        "tls_key_path": f"{nginx}/site.key",
                        "tls_staged_cert_path": f"{nginx}/staged.crt",
                        "tls_staged_key_path": f"{nginx}/staged.key",
                        "tls_check_port": 8443,
                        "service_health_ca_file": str(root / "ca" / "ca.pem"),
                        "nginx_test_command": f"nginx -t -q {nginx_args}",
                        "nginx_reload_command": f"nginx -s reload {nginx_args}",
                    },
                },
            },
        }
    }


@pytest.fixture(scope="package")
def env() -> Iterator[Env]:
    # Under /tmp with 0755: the postgres user must reach the socket and backup folders,
    # which pytest's private tmp_path does not allow.
    root = Path(tempfile.mkdtemp(prefix="mbstd-", dir="/tmp"))
    root.chmod(0o755)
    state = root / "netns"
    try:
        with contextlib.ExitStack() as stack:
            stack.callback(netns.down, PREFIX, state)
            hosts = {h.name: h for h in netns.up(PREFIX, len(NAMES), state, NAMES)}
            stack.enter_context(_postgres(root, hosts["db1"]))
            ca = _test_ca(root / "ca")
            for name in ("web1", "web2"):
                stack.enter_context(_nginx(root, hosts[name], ca))
            for folder in ("flags", "baselines", "os-update", "backups"):
                (root / folder).mkdir()
            shutil.chown(root / "backups", "postgres", "postgres")
            for name in NAMES:
                (root / "logs" / name).mkdir(parents=True)
                (root / "tmp" / name).mkdir(parents=True)
            inventory = root / "inventory.yml"
            inventory.write_text(json.dumps(_inventory(root, hosts), indent=2))
            environment = Env(root, hosts, inventory)
            _as_postgres(
                str(PG_BIN / "createdb"), "-h", str(root / "pg"), "-p", str(PG_PORT), "app"
            )
            environment.psql(SEED_SQL)
            yield environment
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_runbook(env: Env, name: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Copy runbooks/<name> into a fresh project and run it; return the process and record."""
    project = env.root / f"project-{Path(name).stem}"
    (project / "runbooks").mkdir(parents=True)
    write_config(project, CONFIG)
    shutil.copy(REPO / "runbooks" / name, project / "runbooks" / name)
    done = subprocess.run(
        [
            str(MAINTBOOK),
            "run",
            f"runbooks/{name}",
            "-i",
            str(env.inventory),
            "--force-window",
            "--reason",
            "test",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
    )
    records = sorted((project / ".maintbook/runs").glob("*/*/record.json"))
    record = json.loads(records[-1].read_text()) if records else {}
    return done, record


def assert_succeeded(
    done: subprocess.CompletedProcess[str],
    record: dict[str, Any],
    expected: dict[tuple[str, str], set[str]],
) -> None:
    """Exit 0, outcome succeeded, and each (phase, step) ran on exactly the expected hosts."""
    output = done.stdout[-6000:] + done.stderr[-3000:]
    assert done.returncode == 0, output
    assert record["outcome"] == "succeeded", output
    assert record["forced"] and record["forced"]["reason"] == "test"
    for (phase, step), hosts in expected.items():
        ran = {
            s["host"]
            for s in record["steps"]
            if s["phase"] == phase and s["name"] == step and s["result"] in ("ok", "changed")
        }
        assert ran == hosts, (phase, step, ran, record["steps"])
    failed = [s for s in record["steps"] if s["result"] in ("failed", "rolled_back")]
    assert not failed, failed




def run_runbook_data(env: Env, name: str, data: dict[str, Any]
                     ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Write `data` as runbooks/<name>.yml of a fresh project and run it like a standard one."""
    project = env.root / f"project-{name}"
    (project / "runbooks").mkdir(parents=True)
    (project / "runbooks" / f"{name}.yml").write_text(json.dumps(data, indent=2))
    write_config(project, CONFIG)
    done = subprocess.run(
        [str(MAINTBOOK), "run", f"runbooks/{name}.yml", "-i", str(env.inventory),
         "--force-window", "--reason", "test"],
        cwd=project, capture_output=True, text=True, check=False, timeout=600,
        env={**os.environ, "NO_COLOR": "1"})
    records = sorted((project / ".maintbook/runs").glob("*/*/record.json"))
    return done, json.loads(records[-1].read_text()) if records else {}


def psql_command(env: Env, sql: str) -> str:
    """A shell command that runs `sql` on the test cluster as postgres (from any host)."""
    return (f"runuser -u postgres -- {PG_BIN}/psql -X -q -v ON_ERROR_STOP=1 "
            f"-h {env.root / 'pg'} -p {PG_PORT} -d app -c \"{sql}\"")


def http_status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
