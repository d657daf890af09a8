"""The standard runbooks of runbooks/, run end to end against real hosts (tests/runbooks/
conftest.py: db1 with a real PostgreSQL 15, web1 and web2 with a real nginx, SSH hosts in
network namespaces).

Each runbook is a recurring one: it is copied unchanged into a throwaway project and its
next occurrence is run with `maintbook run RUNBOOK -i INVENTORY --force-window --reason
test` (the time rules are forced; the approvals are the runbooks' own). The inventory is the
conftest's, plus two things the shared machine needs:
- `system_resources_max_cpu_percent: 100`: the namespace hosts share this machine's two
  CPUs with the other tests running beside these, so a one-second CPU sample says nothing
  about the host under test. The CPU threshold itself (90%) fails on busy CPUs in
  tests/roles/test_host_health.py; disk, inodes and memory keep the runbooks' thresholds.
- `yearly_review_report_dir` under the temp root.
A nightly dump of the app database, as the backup job leaves it, lies in the backup folder
(`nightly_dump`): the daily run checks it is fresh, the weekly one restores it.

Not run here, and why (both are validated, compiled and linted instead):
- quarterly-upgrade.yml installs pinned Debian packages with apt and restarts PostgreSQL as
  a system service; emergency-security-patch.yml installs OpenSSL packages and restarts
  nginx as a system service. The namespace hosts share this machine's file system and
  package database, so either would upgrade and restart this machine itself, and the pinned
  versions need a package mirror the machine does not have.

certificate-rotation.yml runs against the web hosts' own nginx (HTTPS on 8443) with
certificates a test CA made here issues for each host's name and address: the served one
expires in 10 days, the staged renewal in 90. The first night rotates (files swapped,
`nginx -t`, graceful reload, chain, name and expiry checked over TLS before and after);
the next night finds 90 days left and changes nothing.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.runbooks.conftest import (
    CONFIG,
    DAY,
    MAINTBOOK,
    NAMES,
    PG_BIN,
    PG_PORT,
    REPO,
    Env,
    assert_succeeded,
)

pytestmark = pytest.mark.integration
WEB = {"web1", "web2"}
DB = {"db1"}
# The Makefile's: the standard runbooks validate clean then.
DOGFOOD_NOW = re.search(r"^DOGFOOD_NOW \?= (\S+)$", (REPO / "Makefile").read_text(), re.M)[1]


@pytest.fixture(scope="module")
def inventory(env: Env) -> Path:
    data = json.loads(env.inventory.read_text())
    data["all"]["vars"].update(
        {
            "system_resources_max_cpu_percent": 100,
            "yearly_review_report_dir": str(env.root / "reviews"),
        }
    )
    path = env.root / "inventory-standard.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def run_standard(
    env: Env, inventory: Path, name: str, occurrence: str = ""
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run runbooks/<name> (its next occurrence, or `occurrence`) in the project of its own;
    return the process and the record of this run."""
    project = env.root / f"standard-{Path(name).stem}"
    if not project.exists():
        (project / "runbooks").mkdir(parents=True)
        (project / "maintbook.yml").write_text(CONFIG)
        shutil.copy(REPO / "runbooks" / name, project / "runbooks" / name)
    before = set((project / ".maintbook/runs").glob("*/*/record.json"))
    target = f"runbooks/{name}" + (f"@{occurrence}" if occurrence else "")
    done = subprocess.run(
        [str(MAINTBOOK), "run", target, "-i", str(inventory), "--force-window", "--reason", "test"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env={**os.environ, "NO_COLOR": "1"},
    )
    new = sorted(set((project / ".maintbook/runs").glob("*/*/record.json")) - before)
    return done, json.loads(new[-1].read_text()) if new else {}


def nightly_dump(env: Env, hours_old: float = 2) -> Path:
    """A dump of the app database as the nightly backup job leaves it, with its checksum."""
    folder = env.root / "backups"
    path = folder / f"app-20270103T{int(time.time()) % 10000:04d}Z.dump"
    subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            str(PG_BIN / "pg_dump"),
            "-Fc",
            "-h",
            str(env.root / "pg"),
            "-p",
            str(PG_PORT),
            "-d",
            "app",
            "-f",
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        f"sha256sum -- {path.name} > {path.name}.sha256", shell=True, cwd=folder, check=True
    )
    moment = time.time() - hours_old * 3600
    os.utime(path, (moment, moment))
    return path


def results(record: dict[str, Any], name: str) -> dict[str, str]:
    return {s["host"]: s["result"] for s in record["steps"] if s["name"] == name}


def write_logs(env: Env) -> None:
    """A live log, one rotated 3 days ago, one compressed 10 days ago, one 20 days old (and
    nothing else: an earlier run today left `app.log.<today>`, which a rotation does not
    overwrite)."""
    for host in NAMES:
        folder = env.root / "logs" / host
        shutil.rmtree(folder)
        folder.mkdir()
        (folder / "app.log").write_text("live line\n")
        for name, days, data in (
            ("app.log.20261230", 3, b"three days\n"),
            ("app.log.20261223.gz", 10, gzip.compress(b"ten days\n")),
            ("app.log.20261213.gz", 20, gzip.compress(b"20 days\n")),
        ):
            (folder / name).write_bytes(data)
            os.utime(folder / name, (time.time() - days * DAY,) * 2)


def assert_logs_kept_14_days(env: Env) -> None:
    for host in NAMES:
        folder = env.root / "logs" / host
        assert not (folder / "app.log").exists(), "the live log was rotated"
        archived = {p.name for p in (folder / "archive").iterdir()}
        assert {"app.log.20261230.gz", "app.log.20261223.gz"} <= archived, archived
        assert "app.log.20261213.gz" not in archived | {p.name for p in folder.iterdir()}, (
            "logs older than 14 days are deleted"
        )


def test_daily_health_cleanup(env: Env, inventory: Path) -> None:
    stale, fresh = [], []
    for name in WEB:
        folder = env.root / "tmp" / name
        old, new = folder / "maintbook-demo-stale", folder / "maintbook-demo-fresh"
        old.write_text("x")
        new.write_text("x")
        os.utime(old, (time.time() - 3 * DAY,) * 2)
        stale.append(old)
        fresh.append(new)
    write_logs(env)
    nightly_dump(env)
    env.psql("SELECT pg_stat_reset()")
    env.psql("UPDATE orders SET note = note || '!'")  # 3000 dead tuples: over the 1000
    env.psql("UPDATE settings SET value = 'dim'")  # 1 dead tuple: under it

    done, record = run_standard(env, inventory, "daily-health-cleanup.yml")

    assert_succeeded(
        done,
        record,
        {
            ("precheck", "The services of the host answer"): WEB,
            ("precheck", "The database accepts connections"): DB,
            ("steps", "Remove stale maintbook temporary files"): WEB,
            ("steps", "Rotate the logs and keep 14 days of them"): set(NAMES),
            ("steps", "VACUUM ANALYZE the busy tables"): DB,
            ("verify", "The host's resources are under their thresholds"): set(NAMES),
            ("verify", "The services of the host still answer"): WEB,
            ("verify", "Replication, connections, queries and locks are healthy"): DB,
            ("verify", "Last night's database backup completed"): DB,
        },
    )
    assert record["occurrence"] and record["maintenance"].startswith("MNT-2027-0007@")
    assert not any(p.exists() for p in stale), "files older than a day are removed"
    assert all(p.exists() for p in fresh), "today's files are kept"
    assert_logs_kept_14_days(env)
    counts = dict(
        line.split("|")
        for line in env.psql(
            "SELECT relname, vacuum_count FROM pg_stat_user_tables"
            " WHERE relname IN ('orders', 'settings')"
        ).splitlines()
    )
    assert counts == {"orders": "1", "settings": "0"}, "only the busy table is vacuumed"


def test_daily_health_check_fails_on_a_stale_backup_and_names_the_threshold(
    env: Env, inventory: Path
) -> None:
    nightly_dump(env)
    for dump in (env.root / "backups").glob("app-*.dump"):
        os.utime(dump, (time.time() - 30 * 3600,) * 2)  # last night's backup did not run

    done, record = run_standard(
        env, inventory, "daily-health-cleanup.yml", occurrence="20270105T0200Z"
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert record["outcome"] == "failed"
    assert results(record, "Last night's database backup completed")["db1"] == "failed"
    message = json.dumps(record["steps"])
    assert "h old, over the 25 h threshold" in message, message
    nightly_dump(env)  # the other tests find a fresh one


def test_weekly_low_impact(env: Env, inventory: Path) -> None:
    write_logs(env)
    dump = nightly_dump(env)
    env.psql("SELECT pg_stat_reset()")
    env.psql("UPDATE settings SET value = 'light'")  # 1 dead tuple: vacuumed all the same

    done, record = run_standard(env, inventory, "weekly-low-impact.yml")

    assert_succeeded(
        done,
        record,
        {
            ("precheck", "Report the dead tuples per table"): DB,
            ("precheck", "Last night's database backup exists for the restore test"): DB,
            ("steps", "VACUUM ANALYZE every table"): DB,
            ("steps", "Rotate the logs and keep 14 days of them"): set(NAMES),
            ("steps", "Test that the newest backup restores with the live row counts"): DB,
            ("verify", "The database still accepts connections"): DB,
            ("verify", "Report the indexes never scanned"): DB,
            ("verify", "The web services still answer"): WEB,
        },
    )
    assert record["maintenance"].startswith("MNT-2027-0004@")
    vacuumed = env.psql("SELECT count(*) FROM pg_stat_user_tables WHERE vacuum_count = 0")
    assert vacuumed == "0", "every table is vacuumed, whatever its dead tuples"
    assert_logs_kept_14_days(env)
    assert dump.stat().st_size > 0, "the restore test keeps the dump"
    assert (
        env.psql(
            "SELECT count(*) FROM pg_database WHERE datname = 'app_maintbook_verify'",
            database="postgres",
        )
        == "0"
    ), "the restore test drops its scratch database"


def test_monthly_database_full(env: Env, inventory: Path) -> None:
    query = (
        "SELECT relname || '=' || relfilenode FROM pg_class "
        "WHERE relname IN ('orders', 'audit_log', 'settings') ORDER BY relname"
    )
    before = dict(x.split("=") for x in env.psql(query).splitlines())
    rows = env.psql("SELECT count(*) FROM orders")

    done, record = run_standard(env, inventory, "monthly-database-full.yml")

    assert_succeeded(
        done,
        record,
        {
            ("precheck", "The primary accepts connections"): DB,
            ("precheck", "No long query or lock wait stands in the way"): DB,
            ("precheck", "Back up the app database"): DB,
            ("precheck", "Prove the backup restores with the same row counts"): DB,
            ("steps", "VACUUM FULL the bloated tables"): DB,
            ("steps", "Rebuild every index of the database"): DB,
            ("steps", "Refresh the planner statistics"): DB,
            ("verify", "The primary still accepts connections"): DB,
            ("verify", "The backup still matches the maintained database"): DB,
        },
    )
    soaked = [
        s for s in record["steps"] if s["name"] == "Connections, queries and locks stay healthy"
    ]
    assert len(soaked) >= 5 and {s["result"] for s in soaked} == {"ok"}, soaked
    assert not any(s["phase"] == "rollback" for s in record["steps"]), "nothing was restored"
    backup = env.root / f"backups/app-MNT-2027-0002-{record['occurrence']}.dump"
    assert backup.stat().st_size > 0
    assert backup.name in (backup.parent / f"{backup.name}.sha256").read_text()
    after = dict(x.split("=") for x in env.psql(query).splitlines())
    assert after["orders"] != before["orders"] and after["audit_log"] != before["audit_log"]
    assert after["settings"] == before["settings"], "tables not listed are not rewritten"
    assert env.psql("SELECT count(*) FROM orders") == rows
    assert not (env.root / "flags/db1.flag").exists(), "maintenance mode is off afterwards"


def test_rolling_os_update(env: Env, inventory: Path) -> None:
    done, record = run_standard(env, inventory, "rolling-os-update.yml")

    assert_succeeded(
        done,
        record,
        {
            ("precheck", "Every web host answers before the round"): WEB,
            ("precheck", "The root file system has room for the packages"): WEB,
            ("steps", "Install the pending OS updates"): WEB,
            ("verify", "The host answers after its update"): WEB,
        },
    )
    for name in WEB:
        assert "openssh-server" in (env.root / f"os-update/{name}.packages").read_text()
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


ROTATION_STEPS = (
    "Keep the current certificate and key for a rollback",
    "Install the renewed certificate and key",
    "Test the nginx configuration with the new files",
    "Reload nginx gracefully",
)


def test_certificate_rotation_rotates_a_certificate_due_and_leaves_a_good_one(
    env: Env, inventory: Path
) -> None:
    done, record = run_standard(env, inventory, "certificate-rotation.yml")

    assert_succeeded(
        done,
        record,
        {
            ("precheck", "The served certificate chains to a trusted CA and names the host"): WEB,
            ("precheck", "The staged renewal is valid for at least 30 more days"): WEB,
            ("precheck", "The staged renewal matches its key"): WEB,
            **{("steps", step): WEB for step in ROTATION_STEPS},
            # min_days 30: only the renewed certificate (90 days) passes, the old one had 10.
            (
                "verify",
                "The served certificate is trusted, names the host and is good for 30 days",
            ): WEB,
        },
    )
    for name in WEB:
        folder = env.root / f"nginx-{name}"
        assert (folder / "site.crt").read_bytes() == (folder / "staged.crt").read_bytes()
        assert (folder / "site.crt.previous").read_bytes() != (folder / "staged.crt").read_bytes()
        assert ((folder / "site.key").stat().st_mode & 0o777) == 0o600
    served = {name: (env.root / f"nginx-{name}/site.crt").stat().st_mtime for name in WEB}

    night = datetime.strptime(record["occurrence"], "%Y%m%dT%H%MZ") + timedelta(days=1)
    done, record = run_standard(
        env, inventory, "certificate-rotation.yml", occurrence=f"{night:%Y%m%dT%H%MZ}"
    )

    assert_succeeded(
        done,
        record,
        {
            (
                "verify",
                "The served certificate is trusted, names the host and is good for 30 days",
            ): WEB,
        },
    )
    for step in ROTATION_STEPS:
        assert results(record, step) == {"web1": "skipped", "web2": "skipped"}, step
    assert served == {
        name: (env.root / f"nginx-{name}/site.crt").stat().st_mtime for name in WEB
    }, "a certificate with 90 days left is not touched"


def serve_renewed_certificates(env: Env) -> None:
    """What a night of certificate-rotation.yml leaves: the 90-day renewal served."""
    for name in WEB:
        folder = env.root / f"nginx-{name}"
        for suffix in ("crt", "key"):
            shutil.copy(folder / f"staged.{suffix}", folder / f"site.{suffix}")
        subprocess.run(["nginx", "-s", "reload", "-c", str(folder / "nginx.conf"), "-p",
                        str(folder), "-e", str(folder / "error.log")], check=True)  # fmt: skip
    time.sleep(2)  # the new workers take over


def test_yearly_review(env: Env, inventory: Path) -> None:
    serve_renewed_certificates(env)

    done, record = run_standard(env, inventory, "yearly-review.yml")

    assert_succeeded(
        done,
        record,
        {
            ("precheck", "The primary accepts connections"): DB,
            ("precheck", "The web services answer"): WEB,
            ("steps", "Take the yearly backup of the app database"): DB,
            ("steps", "Prove the yearly backup restores with the live row counts"): DB,
            ("steps", "Write the access and inventory report of the host"): set(NAMES),
            ("verify", "The host's resources are under their thresholds"): set(NAMES),
            (
                "verify",
                "Every served certificate is trusted, names its host and is good for 30 days",
            ): WEB,
            ("verify", "The web configuration is valid"): WEB,
            ("verify", "Report the indexes never scanned"): DB,
        },
    )
    occurrence = record["occurrence"]
    assert record["maintenance"] == f"MNT-2027-0003@{occurrence}"
    assert (env.root / f"backups/app-MNT-2027-0003-{occurrence}.dump").stat().st_size > 0
    for name in NAMES:
        report = (env.root / f"reviews/{name}-{occurrence[:4]}.txt").read_text()
        assert report.startswith(f"# host {name}\n## system\nPRETTY_NAME="), report
        assert "\n## accounts that can log in\nroot /root " in report, report
        assert "\n## SSH keys\n" in report


@pytest.mark.parametrize("name", ["quarterly-upgrade.yml", "emergency-security-patch.yml"])
def test_runbooks_that_cannot_run_here_validate_compile_and_lint(name: str, tmp_path: Path) -> None:
    """Not run: they install Debian packages and restart system services, which on the
    namespace hosts would change this machine itself (see the module's docstring)."""
    bin_dir = Path(sys.executable).parent
    project = tmp_path / "project"
    (project / "runbooks").mkdir(parents=True)
    shutil.copy(REPO / "runbooks" / name, project / "runbooks" / name)
    validated = subprocess.run(
        [str(MAINTBOOK), "validate", f"runbooks/{name}", "--now", DOGFOOD_NOW],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (validated.returncode, validated.stdout, validated.stderr) == (0, "", "")
    build = tmp_path / "build"
    compiled = subprocess.run(
        [str(MAINTBOOK), "compile", f"runbooks/{name}", "-o", str(build)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    playbook = build / name
    assert playbook.is_file(), sorted(p.name for p in build.iterdir())
    linted = subprocess.run(
        [
            str(bin_dir / "ansible-lint"),
            "--nocolor",
            "--offline",
            "--profile",
            "production",
            playbook.name,
        ],
        cwd=build,
        capture_output=True,
        text=True,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
