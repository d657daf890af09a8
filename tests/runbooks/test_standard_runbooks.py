"""The standard runbooks of runbooks/, run end to end against real hosts.

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
certificates a test CA made here issues for each host's name and address: the served one
expires in 10 days, the staged renewal in 90. That is the real rotation (files swapped,
`nginx -t`, graceful reload, chain, name and expiry checked over TLS before and after), with
the test CA as the trusted one (service_health_ca_file).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import netns

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MAINTBOOK = Path(sys.executable).parent / "maintbook"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORT = 55432
PREFIX = "mbstd"
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
    conf.write_text(NGINX_CONF.format(prefix=prefix, address=host.address))
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


@pytest.fixture(scope="module")
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
    (project / "maintbook.yml").write_text(CONFIG)
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
        timeout=240,
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


def test_daily_health_cleanup(env: Env) -> None:
    stale, fresh = [], []
    for name in ("web1", "web2"):
        folder = env.root / "tmp" / name
        old = folder / "maintbook-demo-stale"
        old.write_text("x")
        os.utime(old, (time.time() - 3 * DAY, time.time() - 3 * DAY))
        new = folder / "maintbook-demo-fresh"
        new.write_text("x")
        stale.append(old)
        fresh.append(new)

    done, record = run_runbook(env, "daily-health-cleanup.yml")

    web = {"web1", "web2"}
    assert_succeeded(
        done,
        record,
        {
            ("precheck", "The services of the host answer"): web,
            ("steps", "Remove stale maintbook temporary files"): web,
            ("verify", "The services of the host still answer"): web,
        },
    )
    assert not any(p.exists() for p in stale), "files older than a day are removed"
    assert all(p.exists() for p in fresh), "today's files are kept"


def test_weekly_low_impact(env: Env) -> None:
    logs = env.root / "logs"
    for name in NAMES:
        (logs / name / "app.log").write_text("live line\n")
        rotated = logs / name / "app.log.20261119"
        rotated.write_text("last week\n")
        os.utime(rotated, (time.time() - 3 * DAY,) * 2)
        expired = logs / name / "app.log.20261101.gz"
        expired.write_bytes(gzip.compress(b"ancient\n"))
        os.utime(expired, (time.time() - 60 * DAY,) * 2)
    env.psql("SELECT pg_stat_reset()")
    env.psql("UPDATE orders SET note = note || '?'")  # 3000 dead tuples: above the 1000 threshold
    env.psql("UPDATE settings SET value = 'light'")  # 1 dead tuple: below the threshold
    vacuumed_before = env.psql(
        "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'orders'"
    )

    done, record = run_runbook(env, "weekly-low-impact.yml")

    assert_succeeded(
        done,
        record,
        {
            ("precheck", "Report the dead tuples per table"): {"db1"},
            ("steps", "VACUUM ANALYZE the tables with dead tuples"): {"db1"},
            ("steps", "Rotate, compress, archive and expire the logs"): set(NAMES),
            ("verify", "The database still accepts connections"): {"db1"},
            ("verify", "The web services still answer"): {"web1", "web2"},
        },
    )
    counts = dict(
        line.split("|")
        for line in env.psql(
            "SELECT relname, vacuum_count FROM pg_stat_user_tables"
            " WHERE relname IN ('orders', 'settings')"
        ).splitlines()
    )
    assert int(counts["orders"]) > int(vacuumed_before), (
        "orders had dead tuples above the threshold"
    )
    assert counts["settings"] == "0", "settings was below the threshold"
    for name in NAMES:
        folder = logs / name
        assert not (folder / "app.log").exists(), "the live log was rotated"
        archived = sorted(p.name for p in (folder / "archive").iterdir())
        assert archived == ["app.log.20261119.gz"], archived
        assert (
            gzip.decompress((folder / "archive/app.log.20261119.gz").read_bytes()) == b"last week\n"
        )
        assert not (folder / "app.log.20261101.gz").exists(), "logs past the retention are deleted"


def test_monthly_database_full(env: Env) -> None:
    before = env.psql(
        "SELECT relname || '=' || relfilenode FROM pg_class "
        "WHERE relname IN ('orders', 'audit_log', 'settings') ORDER BY relname"
    )
    rows = env.psql("SELECT count(*) FROM orders")

    done, record = run_runbook(env, "monthly-database-full.yml")

    db = {"db1"}
    assert_succeeded(
        done,
        record,
        {
            ("precheck", "The primary accepts connections"): db,
            ("steps", "Back up the app database"): db,
            ("steps", "Prove the backup restores with the same row counts"): db,
            ("steps", "VACUUM FULL the bloated tables"): db,
            ("steps", "Rebuild every index of the database"): db,
            ("steps", "Refresh the planner statistics"): db,
            ("verify", "The primary still accepts connections"): db,
            ("verify", "The backup still matches the maintained database"): db,
        },
    )
    assert not any(s["phase"] == "rollback" for s in record["steps"]), "nothing was restored"
    backup = env.root / "backups/app-MNT-2027-0003.dump"
    assert backup.stat().st_size > 0
    digest = (env.root / "backups/app-MNT-2027-0003.dump.sha256").read_text()
    assert "app-MNT-2027-0003.dump" in digest
    after = dict(
        x.split("=")
        for x in env.psql(
            "SELECT relname || '=' || relfilenode FROM pg_class "
            "WHERE relname IN ('orders', 'audit_log', 'settings') ORDER BY relname"
        ).splitlines()
    )
    old = dict(x.split("=") for x in before.splitlines())
    assert after["orders"] != old["orders"] and after["audit_log"] != old["audit_log"], (
        "VACUUM FULL rewrote them"
    )
    assert after["settings"] == old["settings"], "tables not listed are not rewritten"
    assert env.psql("SELECT count(*) FROM orders") == rows
    assert (
        env.psql(
            "SELECT count(*) FROM pg_database WHERE datname = 'app_maintbook_verify'",
            database="postgres",
        )
        == "0"
    ), "verify_backup drops its scratch database"
    assert not (env.root / "flags/db1.flag").exists(), "maintenance mode is off afterwards"


def test_rolling_os_update(env: Env) -> None:
    done, record = run_runbook(env, "rolling-os-update.yml")

    web = {"web1", "web2"}
    assert_succeeded(
        done,
        record,
        {
            ("precheck", "Every web host answers before the rollout"): web,
            ("steps", "Install the pending OS updates"): web,
            ("verify", "The host answers after its update"): web,
        },
    )
    for name in ("web1", "web2"):
        listing = (env.root / f"os-update/{name}.packages").read_text()
        assert "openssh-server" in listing
        assert not (env.root / f"flags/{name}.flag").exists(), "each host leaves maintenance mode"
    # serial: 1 -> web2's update starts only after web1 has been verified.
    update = {
        s["host"]: s for s in record["steps"] if s["name"] == "Install the pending OS updates"
    }
    verified = {
        s["host"]: s for s in record["steps"] if s["name"] == "The host answers after its update"
    }
    first, second = sorted(update, key=lambda h: update[h]["started_at"])
    assert verified[first]["ended_at"] <= update[second]["started_at"], (update, verified)


def test_certificate_rotation(env: Env) -> None:
    done, record = run_runbook(env, "certificate-rotation.yml")

    web = {"web1", "web2"}
    assert_succeeded(
        done,
        record,
        {
            ("precheck", "The served certificate is still valid"): web,
            ("precheck", "The staged certificate matches the staged key"): web,
            ("steps", "Install the renewed certificate and key"): web,
            ("steps", "Reload nginx gracefully"): web,
            # min_days 30: only the renewed certificate (90 days) passes, the old one had 10.
            ("verify", "The served certificate is good for at least 30 days"): web,
        },
    )
    for name in ("web1", "web2"):
        folder = env.root / f"nginx-{name}"
        assert (folder / "site.crt").read_bytes() == (folder / "staged.crt").read_bytes()
        assert (folder / "site.crt.previous").read_bytes() != (folder / "staged.crt").read_bytes()
        assert ((folder / "site.key").stat().st_mode & 0o777) == 0o600
