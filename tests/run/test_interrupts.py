"""Signals and crashes with real processes (SPEC §10): a `maintbook run` subprocess in a
session of its own, signalled with os.killpg as a terminal would, mid-step."""

from __future__ import annotations

import os
import secrets as secrets_module
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.run.conftest import Project

pytestmark = pytest.mark.integration

MAINTBOOK = str(Path(sys.executable).parent / "maintbook")
FLAG = ".maintbook/maintenance.flag"


def start(project: Project, path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([MAINTBOOK, "run", str(path), *args], cwd=project.root,
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.1)


def slow_runbook(project: Project, **extra: object) -> Path:
    """Step 1 writes a mark; step 2 announces itself, then sleeps: the signal lands there."""
    data: dict[str, object] = {
        "maintenance_mode": True,
        "steps": [
            {"name": "Change", "command": project.mark("change"),
             "rollback": [{"name": "Undo the change", "command": project.mark("undo")}]},
            {"name": "Long step",
             "shell": f"touch {project.marks}/sleeping; sleep 60; {project.mark('woke')}"},
            {"name": "Never", "command": project.mark("never")},
        ],
        "rollback": [{"name": "Restore", "command": project.mark("restore")}],
    }
    return project.runbook(**{**data, **extra})


def finish(process: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def test_first_sigint_rolls_back_what_ran_closes_and_exits_130(project: Project) -> None:
    process = start(project, slow_runbook(project))
    wait_for(project.marks / "sleeping")
    os.killpg(process.pid, signal.SIGINT)
    code, output = finish(process)
    assert code == 130, output
    assert project.order() == ["change", "undo", "restore"]  # the cut-off step is undone too
    time.sleep(1)
    assert "woke" not in project.order()  # the running task was stopped, not left behind
    (record,) = project.records()
    assert record["outcome"] == "interrupted" and record["stop_reason"] == "interrupt"
    assert record["hosts"] == {"localhost": "rolled_back"}, output
    assert not (project.root / FLAG).exists()
    assert project.live_leases() == [] and project.state() == "interrupted"
    entry = project.entry()
    assert entry["status"] == "ended_early" and "interrupted" in entry["updates"][-1]["body"]
    assert [n["notice"] for n in project.outbox()][-2:] == ["rollback", "complete"]


def test_a_second_sigint_runs_only_the_closing_and_leaves_maintenance_mode(
        project: Project) -> None:
    path = slow_runbook(project, rollback=[
        {"name": "Slow restore", "shell": f"touch {project.marks}/restoring; sleep 60"}])
    process = start(project, path)
    wait_for(project.marks / "sleeping")
    os.killpg(process.pid, signal.SIGINT)
    wait_for(project.marks / "restoring")
    os.killpg(process.pid, signal.SIGINT)
    code, output = finish(process)
    assert code == 130, output
    assert (project.root / FLAG).exists()  # left as it was: a person decides
    (record,) = project.records()
    assert record["outcome"] == "interrupted"
    assert "maintenance mode was left as it was" in record["note"]
    assert record["drained"] == ["localhost"]
    assert project.live_leases() == []
    assert project.entry()["status"] == "not_completed"
    complete = [n for n in project.outbox() if n["notice"] == "complete"]
    assert "maintenance mode was left as it was" in complete[-1]["body"]


def test_on_interrupt_stop_undoes_nothing(project: Project) -> None:
    process = start(project, slow_runbook(project, on_interrupt="stop"))
    wait_for(project.marks / "sleeping")
    os.killpg(process.pid, signal.SIGTERM)
    code, output = finish(process)
    assert code == 130, output
    assert project.order() == ["change"]
    (record,) = project.records()
    assert record["outcome"] == "interrupted" and "left as it was" in record["note"]


def test_sigkill_of_the_group_is_a_crash_that_recover_closes(project: Project, maintbook
                                                            ) -> None:
    path = slow_runbook(project)
    process = start(project, path)
    wait_for(project.marks / "sleeping")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    time.sleep(1.5)  # the playbook notices its supervisor is gone
    runs = maintbook("runs", "--format", "json")
    assert '"outcome": "crashed"' in runs.output
    other = project.runbook("other", id="MNT-2026-0102", systems=["web"],
                            steps=[{"name": "Other", "command": project.mark("other")}])
    blocked = maintbook("run", str(other))
    assert blocked.exit_code == 2 and "crashed" in blocked.output
    recovered = maintbook("recover")
    assert recovered.exit_code == 0, recovered.output
    assert project.live_leases() == []
    assert "woke" not in project.order()
    entry = project.entry()
    assert entry["status"] == "not_completed" and entry["components"] == {
        "web": "degraded_performance"}
    (record,) = [r for r in maintbook("runs", "--format", "json").output.split("},")
                 if "MNT-2026-0101-" in r]
    assert '"recovered_at": "' in record and '"outcome": "interrupted"' in record
    assert maintbook("run", str(other)).exit_code == 0
    assert maintbook("run", str(path)).exit_code == 0  # a rerun in its window works too
    assert maintbook("recover").exit_code == 1  # nothing left


def test_sighup_is_an_interrupt_too(project: Project) -> None:
    process = start(project, slow_runbook(project))
    wait_for(project.marks / "sleeping")
    os.killpg(process.pid, signal.SIGHUP)
    code, output = finish(process)
    assert code == 130, output
    (record,) = project.records()
    assert record["outcome"] == "interrupted"


def test_a_killed_run_leaves_no_secret_in_any_file(project: Project, tmp_path: Path) -> None:
    """Every channel's secret configured; SIGKILL mid-step; then no file on the machine that
    a crash could strand holds one (grep /tmp, the project, ~/.ansible)."""
    from tests.support.services import smtp_server
    from tests.support.slack_receiver import slack_receiver

    # Made afresh, so that no file holds them before the run (this test's own source, a
    # checkout under /tmp, included).
    salt = secrets_module.token_hex(6)
    secrets = {
        "SLACK_WEBHOOK_URL": None,  # set below: it names the receiver
        "SLACK_TOKEN": f"xoxb-secret-{salt}",
        "SMTP_PASSWORD": f"smtp-secret-{salt}",
        "AUDIT_URL": None,
        "AUDIT_SECRET": f"hmac-secret-{salt}",
        "STATUSPAGE_API_KEY": f"statuspage-secret-{salt}",
    }
    (tmp_path / "smtp").mkdir()
    with smtp_server(tmp_path / "smtp", "maint", secrets["SMTP_PASSWORD"]) as box, \
            slack_receiver(secrets["SLACK_TOKEN"]) as (url, _received):
        secrets["SLACK_WEBHOOK_URL"] = f"{url}/services/T1/B1/webhook-secret-{salt}"
        secrets["AUDIT_URL"] = f"{url}/hook/audit-secret-{salt}"
        project.configure(f"""\
channels:
  slack-hook: {{type: slack, webhook_env: SLACK_WEBHOOK_URL}}
  slack-api: {{type: slack, token_env: SLACK_TOKEN, channel_id: C1, api_url: "{url}/api"}}
  audit: {{type: webhook, url_env: AUDIT_URL, secret_env: AUDIT_SECRET}}
  mail:
    type: email
    from: maint@example.com
    to: [ops@example.com]
    smtp: {{host: 127.0.0.1, port: {box.port}, starttls: true, username: maint,
           password_env: SMTP_PASSWORD, ca_file: "{box.cert}"}}
""")
        path = slow_runbook(project, type="brief-interruption",
                            approvals=[{"role": "engineering-manager", "by": "dana"}],
                            notify=["slack-hook", "slack-api", "audit", "mail"])
        environment = {**os.environ, **{k: str(v) for k, v in secrets.items()}}
        process = subprocess.Popen([MAINTBOOK, "run", str(path), "--force-window", "--reason",
                                    "t"], cwd=project.root, env=environment,
                                   start_new_session=True, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        wait_for(project.marks / "sleeping")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        time.sleep(1.5)
    values = [str(v) for v in secrets.values()]
    roots = ["/tmp", str(project.root), str(Path.home() / ".ansible")]
    found = subprocess.run(["grep", "-rlsF", "--devices=skip",
                            *[arg for v in values for arg in ("-e", v)], *roots],
                           capture_output=True, text=True, check=False, timeout=300)
    assert found.stdout == "", f"secrets left in: {found.stdout}"
