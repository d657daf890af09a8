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

import gzip
import os
import time

import pytest

from tests.runbooks.conftest import DAY, NAMES, Env, assert_succeeded, run_runbook

pytestmark = pytest.mark.integration


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
            ("precheck", "Back up the app database"): db,
            ("precheck", "Prove the backup restores with the same row counts"): db,
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
