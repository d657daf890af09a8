"""What a notice says to each audience (SPEC §13), as golden files of the outbox's lines.

Public notices carry the title, the impact, the window in `statuspage.zones` and the page link,
and nothing internal: no host, step, command, error, owner or id. Internal ones carry the
detail. Each case is sent through `notify.send` to an internal and a public outbox channel of
the same maintenance; the golden file holds the line's subject and body.

Regenerate the goldens after a deliberate change of wording, then read the diff:

    MAINTBOOK_UPDATE_GOLDENS=1 .venv/bin/pytest tests/modules/test_notice_texts.py
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from maintbook import notify
from maintbook.notify.render import Story
from maintbook.runtime.closing import Ending, story_of
from maintbook.store import Store
from tests.modules.conftest import NOW, RUNBOOK_ID, ModProject

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("MAINTBOOK_UPDATE_GOLDENS") == "1"

HOST, STEP = "db-primary-7.internal", "Vacuum the bloated tables"
COMMAND = "/usr/local/bin/vacuum-full"
ERROR = "could not extend file base/16384/2619: No space left on device"
EMERGENCY_ID = "EMT-202612060200"
FAILURE = {"phase": "steps", "step": STEP, "host": HOST, "rc": 2,
           "msg": f"{COMMAND} --db app exited with a non-zero return code",
           "stderr": [f"vacuum-full: ERROR: {ERROR}"]}
STAMP = "2026-12-06 02:05 UTC"


@dataclass(frozen=True)
class Case:
    kind: str
    story: Story
    runbook: dict[str, object]
    maintenance: str = RUNBOOK_ID


def _ended(outcome: str, host_state: str, failures: tuple[dict[str, object], ...] = (),
           note: str = "") -> Story:
    return story_of(Ending(outcome, {HOST: host_state}, failures, note=note), STAMP)


# Every case's story carries the internal detail, so that the public text is seen to drop it.
CASES: dict[str, Callable[[], Case]] = {
    "success": lambda: Case("complete", _ended(
        "succeeded", "succeeded",
        note=f"{STEP!r} on {HOST} ran {COMMAND} --db app and warned: {ERROR}"), {}),
    "rolled-back": lambda: Case("complete", _ended("rolled_back", "rolled_back", (FAILURE,)),
                                {}),
    "rollback": lambda: Case("rollback", Story(message="\n".join(
        [f"steps {STEP!r} failed on {HOST}: {FAILURE['msg']} (rc 2)", f"    {ERROR}"])), {}),
    "emergency-start": lambda: Case(
        "emergency",
        Story(message=f"Failing over {HOST}: step {STEP!r} runs {COMMAND}; cause: {ERROR}",
              now=STAMP),
        {"id": EMERGENCY_ID, "type": "emergency", "approvals": [],
         "title": "Emergency failover of the primary database",
         "description": "The primary's disk is full; fail over to the replica."},
        EMERGENCY_ID),
}
AUDIENCES = ("internal", "public")
# What a public notice never carries (SPEC §13) and every internal one here does.
INTERNAL_ONLY = {"host": HOST, "step": STEP, "command": COMMAND, "error": ERROR,
                 "owner": "sre-team"}


def sent_texts(proj: ModProject, store: Store, case: Case) -> dict[str, str]:
    """audience → "Subject: …\\n\\n<body>" of what the outbox channels received."""
    proj.channel("customers", type="outbox", path="outbox/customers", audience="public")
    ctx = proj.context(notify=["ops", "customers"], **case.runbook)
    notify.send(store, ctx, case.kind, run_id="run-1", now=NOW, story=case.story)
    found = {}
    for audience, channel in (("internal", "ops"), ("public", "customers")):
        lines = proj.outbox(channel, case.maintenance)
        assert [line["channel"] for line in lines] == [channel] * len(lines)
        assert len(lines) <= 1
        if lines:
            found[audience] = f"Subject: {lines[0]['subject']}\n\n{lines[0]['body']}"
    return found


def golden(name: str, audience: str) -> Path:
    return GOLDEN / f"{name}.{audience}.txt"


@pytest.mark.parametrize("name", sorted(CASES))
def test_notice_texts_match_their_goldens(name: str, proj: ModProject, store: Store) -> None:
    texts = sent_texts(proj, store, CASES[name]())
    expected_audiences = ["internal"] if name == "rollback" else list(AUDIENCES)
    assert sorted(texts) == expected_audiences  # the public never gets a rollback notice
    for audience, text in texts.items():
        path = golden(name, audience)
        if UPDATE:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == text, f"{path.name} differs"


@pytest.mark.parametrize("name", sorted(n for n in CASES if n != "rollback"))
def test_a_public_notice_says_what_customers_need(name: str, proj: ModProject,
                                                  store: Store) -> None:
    public = sent_texts(proj, store, CASES[name]())["public"]
    assert "The API and dashboard are unavailable for up to 2 hours." in public
    assert "Requests receive HTTP 503 with a maintenance page; queued jobs resume " \
           "afterwards." in public
    assert "Sun 6 Dec 2026 02:00 UTC / Sat 5 Dec 2026 21:00 EST to " \
           "Sun 6 Dec 2026 04:00 UTC / Sat 5 Dec 2026 23:00 EST" in public
    assert "https://status.example.com" in public


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("what", [*sorted(INTERNAL_ONLY), "maintenance id"])
def test_a_public_notice_carries_nothing_internal(name: str, what: str, proj: ModProject,
                                                  store: Store) -> None:
    case = CASES[name]()
    texts = sent_texts(proj, store, case)
    value = case.maintenance if what == "maintenance id" else INTERNAL_ONLY[what]
    assert value in texts["internal"], f"the internal notice lacks the {what}"
    assert value not in texts.get("public", ""), f"the public notice names the {what}"


def test_every_golden_file_belongs_to_a_case() -> None:
    expected = {golden(n, a).name for n in CASES for a in AUDIENCES
                if (n, a) != ("rollback", "public")}
    assert {p.name for p in GOLDEN.glob("*.txt")} == expected
