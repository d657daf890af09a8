"""The notice ledger (SPEC §10): a notice goes out once per maintenance, kind and channel (and
per run for a run's notices), also when two processes send it at the same moment."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from maintbook import notify
from maintbook.notify.render import Story
from maintbook.store import Store, ledger
from tests.modules.conftest import NOW, REPO, RUNBOOK_ID, ModProject, wait_for_files
from tests.support.hook_receiver import hook_receiver
from tests.support.services import free_port

RACES = 20


def statuses(sent: notify.Sent) -> list[tuple[str, str, str | None]]:
    return [(d.channel, d.status, d.reason) for d in sent.deliveries]


def test_a_calendar_notice_goes_out_once_per_maintenance_and_channel(
    proj: ModProject, store: Store
) -> None:
    proj.channel("audit", type="outbox", path="outbox/audit")
    ctx = proj.context(notify=["ops", "audit"])
    first = notify.send(store, ctx, "announce", run_id=None, now=NOW)
    again = notify.send(store, ctx, "announce", run_id=None, now=NOW + timedelta(hours=1))
    reminder = notify.send(store, ctx, "reminder", run_id=None, now=NOW)
    assert statuses(first) == [("ops", "sent", None), ("audit", "sent", None)]
    assert statuses(again) == [("ops", "skipped", "already sent"),
                               ("audit", "skipped", "already sent")]
    assert statuses(reminder) == [("ops", "sent", None), ("audit", "sent", None)]
    assert [line["notice"] for line in proj.outbox("ops")] == ["announce", "reminder"]
    assert [line["notice"] for line in proj.outbox("audit")] == ["announce", "reminder"]


def test_a_run_notice_goes_out_once_per_run_and_a_retry_says_so(
    proj: ModProject, store: Store
) -> None:
    ctx = proj.context()
    notify.send(store, ctx, "start", run_id="run-1", now=NOW)
    twice = notify.send(store, ctx, "start", run_id="run-1", now=NOW)
    retry = notify.send(store, ctx, "start", run_id="run-2", now=NOW, story=Story(retry=True))
    assert statuses(twice) == [("ops", "skipped", "already sent")]
    assert statuses(retry) == [("ops", "sent", None)]
    first, second = proj.outbox()
    assert (first["run_id"], second["run_id"]) == ("run-1", "run-2")
    assert second["subject"] == "[Maintenance started] Monthly PostgreSQL maintenance (retry)"
    assert [(r["key"], r["retry"]) for r in proj.ledger()] == [
        ("start:run-1", 0), ("start:run-2", 1)]


def test_a_failed_delivery_is_tried_again_by_the_next_send(
    proj: ModProject, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("TEST_HOOK_URL", f"http://127.0.0.1:{port}/hook")
    proj.channel("hook", type="webhook", url_env="TEST_HOOK_URL", retries=0)
    ctx = proj.context(notify=["hook"])
    failed = notify.send(store, ctx, "announce", run_id=None, now=NOW)
    with hook_receiver(port=port) as (_, hook):
        sent = notify.send(store, ctx, "announce", run_id=None, now=NOW)
        again = notify.send(store, ctx, "announce", run_id=None, now=NOW)
    assert [statuses(s)[0][1] for s in (failed, sent, again)] == ["failed", "sent", "skipped"]
    assert len(hook.requests) == 1
    assert [r["status"] for r in proj.ledger()] == ["failed", "sent"]


def test_progress_notices_differ_by_message_and_keep_their_interval(
    proj: ModProject, store: Store
) -> None:
    ctx = proj.context()

    def progress(message: str, minutes: int) -> list[tuple[str, str, str | None]]:
        return statuses(notify.send(store, ctx, "progress", run_id="run-1",
                                    now=NOW + timedelta(minutes=minutes), detail=message,
                                    story=Story(message=message), min_interval=600))

    assert progress("step 1 of 3", 0) == [("ops", "sent", None)]
    assert progress("step 1 of 3", 20) == [("ops", "skipped", "already sent")]
    assert progress("step 2 of 3", 5) == [("ops", "skipped", "min_interval")]
    assert progress("step 2 of 3", 11) == [("ops", "sent", None)]
    assert [line["body"].rstrip().rsplit("\n", 1)[-1] for line in proj.outbox()] == [
        "step 1 of 3", "step 2 of 3"]


def test_check_mode_sends_and_records_nothing(proj: ModProject, store: Store) -> None:
    ctx = proj.context()
    sent = notify.send(store, ctx, "announce", run_id=None, now=NOW, check=True)
    assert statuses(sent) == [("ops", "skipped", "check mode")]
    assert proj.outbox() == []
    assert proj.ledger() == []


@pytest.mark.parametrize(("age", "expected"), [(1, "skipped"), (11, "sent")])
def test_a_claim_left_by_a_crashed_sender_is_given_up_after_ten_minutes(
    proj: ModProject, store: Store, age: int, expected: str
) -> None:
    ctx = proj.context()
    with store.write() as tx:  # what a sender that died between claim and send leaves
        ledger.record(tx, ledger.Entry(RUNBOOK_ID, RUNBOOK_ID, "announce", "ops", None,
                                       "announce", "sending", 0, None,
                                       ledger.now_text(NOW - timedelta(minutes=age)), None,
                                       False))
    sent = notify.send(store, ctx, "announce", run_id=None, now=NOW)
    assert statuses(sent)[0][1] == expected
    assert len(proj.outbox()) == (expected == "sent")


def test_two_processes_sending_the_same_notice_at_once_deliver_it_once(
    tmp_path: Path,
) -> None:
    base = tmp_path / "race"
    base.mkdir()
    for i in range(RACES):
        (base / f"p{i}").mkdir()
        ModProject(base / f"p{i}").write()
    twins = [subprocess.Popen([sys.executable, "-m", "tests.modules.notify_race", str(base),
                               str(RACES), name], cwd=REPO, stderr=subprocess.PIPE)
             for name in ("a", "b")]
    try:
        for i in range(RACES):
            wait_for_files([base / f"ready-{i}-a", base / f"ready-{i}-b"], twins)
            (base / f"go-{i}").touch()
        wait_for_files([base / f"result-{i}-{n}" for i in range(RACES) for n in "ab"], twins)
    finally:
        for twin in twins:
            if twin.poll() is None:
                twin.kill()
            twin.wait()
    for i in range(RACES):
        results = sorted(json.loads((base / f"result-{i}-{n}").read_text()) for n in "ab")
        assert results == [[["ops", "sent", None]], [["ops", "skipped", "already sent"]]]
        project = ModProject(base / f"p{i}")
        assert [line["notice"] for line in project.outbox()] == ["announce"]
        assert [r["status"] for r in project.ledger()] == ["sent"]
