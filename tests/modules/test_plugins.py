"""The lifecycle plugins through a real ansible-playbook (localhost, connection local).

Each action plugin is called as the compiled playbook calls it: with the context that
`build_context` makes of a real runbook in a throwaway project, validated against the
ARGUMENT_SPEC of its module file in library/. The lookup `maintbook_run` answers from the
lease in the state database. ansible-doc renders every module (with the options of the
documentation fragment in doc_fragments/) and the lookup; each lifecycle module's documented
options are its ARGUMENT_SPEC.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from maintbook.store import Store, leases
from maintbook.timeparse import format_utc
from tests.modules.conftest import BIN, LIBRARY, REPO, ModProject, ansible_env, run
from tests.support import pgstate
from tests.support.ansible_doc import (
    FRAGMENTS,
    LIFECYCLE,
    documented,
    fragment_options,
    missing_fragment_options,
    module_names,
)
from tests.support.services import alertmanager, free_port

PLUGIN_PATHS = {
    "ANSIBLE_LIBRARY": str(LIBRARY),
    "ANSIBLE_ACTION_PLUGINS": str(REPO / "action_plugins"),
    "ANSIBLE_LOOKUP_PLUGINS": str(REPO / "lookup_plugins"),
    "ANSIBLE_DOC_FRAGMENT_PLUGINS": str(FRAGMENTS),
}
MODULES = sorted(["http_check", *LIFECYCLE])
EMERGENCY = "EMT-202612060200"


def playbook(proj: ModProject, tasks: list[dict[str, Any]], play_vars: dict[str, Any],
             env: dict[str, str] | None = None, check: bool = False) -> list[dict[str, Any]]:
    """Run `tasks` in one play on localhost; every task's registered result, in order."""
    out = proj.root / "results.json"
    body = [{**task, "register": f"r{i}", "ignore_errors": True} for i, task in
            enumerate(tasks)]
    names = ", ".join(f"r{i}" for i in range(len(tasks)))
    body.append({"name": "Save the results", "check_mode": False, "ansible.builtin.copy": {
        "content": "{{ [" + names + "] | to_json }}", "dest": str(out)}})
    play = [{"name": "Plugins", "hosts": "localhost", "connection": "local",
             "gather_facts": False, "vars": play_vars, "tasks": body}]
    path = proj.root / "play.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    proc = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-e",
                f"ansible_python_interpreter={sys.executable}", str(path),
                *(["--check"] if check else [])], proj.root,
               ansible_env(proj.root, {**PLUGIN_PATHS, **(env or {})}))
    assert out.exists(), proc.stdout + proc.stderr
    results: list[dict[str, Any]] = json.loads(out.read_text())
    return results


def lifecycle_vars(proj: ModProject, **runbook: Any) -> dict[str, Any]:
    ctx = proj.context(**runbook)
    return {"maintbook_context": ctx.to_dict(proj.root), "maintbook_root": str(proj.root)}


COMMON = {"context": "{{ maintbook_context }}", "root": "{{ maintbook_root }}"}
RUN = {**COMMON, "run": "{{ maintbook_run }}"}


@pytest.fixture
def am_url(tmp_path: Path) -> Iterator[str]:
    with alertmanager(tmp_path / "alertmanager") as url:
        yield url


def state_rows(proj: ModProject, sql: str) -> list[tuple[Any, ...]]:
    return pgstate.state_rows(proj.root, sql)


def silences(url: str) -> list[dict[str, Any]]:
    import urllib.request

    with urllib.request.urlopen(url + "/api/v2/silences", timeout=10) as answer:
        found: list[dict[str, Any]] = json.loads(answer.read())
    return found


def test_a_maintenance_opens_and_closes_through_the_four_plugins(
    proj: ModProject, am_url: str
) -> None:
    """The compiled playbook's open and close plays in small: every plugin, for real."""
    now = datetime.now(UTC).replace(microsecond=0)
    proj.config["alertmanager"] = {"url": am_url}
    play_vars = lifecycle_vars(
        proj, id=EMERGENCY, type="emergency", targets={"hosts": "localhost"},
        window={"start": format_utc(now - timedelta(minutes=5)), "duration": "1h"},
        silence={"matchers": ['service="postgres"']},
        approvals=[{"role": "vp-engineering", "by": "bob",
                    "at": format_utc(now - timedelta(minutes=10))}])
    ending = "{{ maintbook_end }}"
    tasks = [
        {"maintenance_window": {"state": "open", **COMMON, "hosts": ["localhost"],
                                "run_id": "run-1", "operator": "dana"}},
        {"statuspage_maintenance": {"state": "in_progress", **RUN}},
        {"alertmanager_silence": {"state": "present", **RUN}},
        {"maintenance_notify": {"notice": "emergency", **RUN}},
        {"maintenance_window": {"state": "ended", **RUN,
                                "host_states": {"localhost": "succeeded"}}},
        {"statuspage_maintenance": {"state": "closed", **RUN, "ending": ending}},
        {"alertmanager_silence": {"state": "absent", **RUN}},
        {"maintenance_notify": {"notice": "complete", **RUN, "ending": ending}},
        {"maintenance_window": {"state": "released", **RUN, "ending": ending}},
    ]
    results = playbook(proj, tasks, play_vars)
    assert [r.get("failed", False) for r in results] == [False] * len(tasks), results
    opened, page, silenced, started, ended, closed, expired, completed, released = results
    assert opened["ansible_facts"]["maintbook_run"]["status"] == "opened"
    assert page["maintenance"]["status"] == "in_progress"
    assert ended["ansible_facts"]["maintbook_end"]["outcome"] == "succeeded"
    assert released["ansible_facts"]["maintbook_release"]["closing_errors"] == []
    assert [r["changed"] for r in (opened, page, silenced, started, closed, expired,
                                   completed)] == [True] * 7
    (made,) = silences(am_url)
    assert made["id"] == silenced["silence_ids"][0] == expired["silence_ids"][0]
    assert made["status"]["state"] == "expired"
    assert [u["status"] for u in proj.status()["maintenances"][0]["updates"]] == [
        "in_progress", "completed"]
    assert [(line["notice"], line["subject"]) for line in proj.outbox(maintenance=EMERGENCY)] == [
        ("emergency", "[Emergency maintenance] Monthly PostgreSQL maintenance"),
        ("complete", "[Maintenance completed] Monthly PostgreSQL maintenance")]
    assert state_rows(proj, "SELECT run_id, operator, outcome FROM runs") == [
        ("run-1", "dana", "succeeded")]
    assert state_rows(proj, "SELECT state FROM maintenances") == [("succeeded",)]
    assert state_rows(proj, "SELECT status FROM leases") == [("released",)]


def test_a_required_channel_that_fails_fails_the_notice_task(proj: ModProject) -> None:
    proj.channel("pager", type="webhook", url_env="TEST_PAGER_URL", required=True,
                 retries=0)
    proj.channel("audit", type="webhook", url_env="TEST_AUDIT_URL", retries=0)
    closed = f"http://127.0.0.1:{free_port()}"
    env = {"TEST_PAGER_URL": f"{closed}/pager-secret-path-1",
           "TEST_AUDIT_URL": f"{closed}/audit-secret-path-2"}
    play_vars = lifecycle_vars(proj, notify=["ops", "pager", "audit"])
    (result,) = playbook(proj, [{"maintenance_notify": {"notice": "announce", **COMMON}}],
                         play_vars, env)
    assert result["failed"] is True
    assert result["msg"].startswith("notice announce not delivered to required channel(s) "
                                    "pager: webhook ($TEST_PAGER_URL) POST: connection failed")
    assert [(d["channel"], d["status"]) for d in result["deliveries"]] == [
        ("ops", "sent"), ("pager", "failed"), ("audit", "failed")]
    assert "secret-path" not in json.dumps(result)
    assert [line["notice"] for line in proj.outbox()] == ["announce"]


def test_closing_the_page_twice_changes_it_once(proj: ModProject) -> None:
    ending = {"outcome": "rolled_back", "hosts": {"localhost": "rolled_back"}}
    tasks = [{"statuspage_maintenance": {"state": "in_progress", **COMMON}},
             {"statuspage_maintenance": {"state": "closed", **COMMON, "ending": ending}},
             {"statuspage_maintenance": {"state": "closed", **COMMON, "ending": ending}}]
    results = playbook(proj, tasks, lifecycle_vars(proj))
    assert [r["changed"] for r in results] == [True, True, False]
    assert [u["status"] for u in proj.status()["maintenances"][0]["updates"]] == [
        "in_progress", "ended_early"]


def test_check_mode_sends_publishes_and_records_nothing(proj: ModProject) -> None:
    tasks = [{"statuspage_maintenance": {"state": "scheduled", **COMMON}},
             {"maintenance_notify": {"notice": "announce", **COMMON}}]
    page, notice = playbook(proj, tasks, lifecycle_vars(proj), check=True)
    assert (page["changed"], page["maintenance"]["status"]) == (True, "scheduled")
    assert notice["changed"] is False
    assert [d["reason"] for d in notice["deliveries"]] == ["check mode"]
    assert not (proj.root / "status").exists()
    assert proj.outbox() == []
    assert state_rows(proj, "SELECT * FROM notices") == []


BAD_ARGUMENTS = [
    ({"maintenance_window": {"state": "bogus", **COMMON}},
     "value of state must be one of: open, ended, released, check, got: bogus"),
    ({"statuspage_maintenance": {"state": "closed", **COMMON}},
     "state is closed but all of the following are missing: ending"),
    ({"maintenance_notify": {"notice": "goodbye", **COMMON}},
     "value of notice must be one of: announce, reminder, rescheduled, cancelled, missed, "
     "start, emergency, progress, rollback, extended, complete, got: goodbye"),
    ({"alertmanager_silence": {"state": "present", "root": "{{ maintbook_root }}"}},
     "missing required arguments: context"),
    ({"alertmanager_silence": {"state": "present", **COMMON, "url": "http://x"}},
     "Unsupported parameters for (alertmanager_silence) module: url"),
]


def test_the_argument_spec_refuses_a_bad_argument_with_ansibles_message(
    proj: ModProject
) -> None:
    results = playbook(proj, [task for task, _ in BAD_ARGUMENTS], lifecycle_vars(proj))
    for result, (task, message) in zip(results, BAD_ARGUMENTS, strict=True):
        assert result["failed"] is True, task
        assert message in result["msg"], (task, result["msg"])
    assert not proj.state_db.exists() or state_rows(proj, "SELECT * FROM runs") == []
    assert not (proj.root / "status").exists()


def lease(run_id: str, deadline: datetime, now: datetime) -> leases.Lease:
    return leases.Lease(run_id, "MNT-2026-0042", "MNT-2026-0042", ("api",), ("localhost",),
                        format_utc(now - timedelta(minutes=10)),
                        format_utc(now + timedelta(hours=2)), format_utc(deadline), 1, None,
                        "elsewhere", None, format_utc(now), "live", None, {}, None)


def test_the_lookup_says_whether_a_step_may_start(proj: ModProject) -> None:
    now = datetime.now(UTC)
    ctx = proj.context()
    store = Store.open(ctx.state)
    try:
        with store.write() as tx:
            leases.insert(tx, lease("run-live", now + timedelta(hours=1), now))
            leases.insert(tx, lease("run-late", now - timedelta(seconds=1), now))
            leases.insert(tx, lease("run-stopped", now + timedelta(hours=1), now))
            leases.insert(tx, lease("run-released", now + timedelta(hours=1), now))
            leases.request_stop(tx, "run-stopped", "interrupt")
            leases.release(tx, "run-released", now)
    finally:
        store.close()
    state = {"path": str(ctx.state.path) if ctx.state.path else None, "url": ctx.state.url,
             "password_env": ctx.state.password_env}
    runs = {name: {"run_id": name, "state": state} for name in
            ("run-live", "run-late", "run-stopped", "run-released")}
    runs["check"] = {"run_id": "run-check", "status": "check", "check": True, "state": state}
    asks = {name: f"{{{{ lookup('maintbook_run', runs['{name}']) }}}}" for name in runs}
    tasks = [{"ansible.builtin.debug": {"msg": ask}} for ask in asks.values()]
    results = playbook(proj, tasks, {"runs": runs})
    assert {name: r["msg"] for name, r in zip(runs, results, strict=True)} == {
        "run-live": True, "run-late": False, "run-stopped": False, "run-released": False,
        "check": True}
    assert dict(state_rows(proj, "SELECT run_id, stop FROM leases")) == {
        "run-live": None, "run-late": "deadline", "run-stopped": "interrupt",
        "run-released": None}


def test_the_lookup_refuses_anything_but_one_run(proj: ModProject) -> None:
    (result,) = playbook(proj, [{"ansible.builtin.debug": {
        "msg": "{{ lookup('maintbook_run', 'run-1', 'run-2') }}"}}], {})
    assert result["failed"] is True
    assert "maintbook_run takes one term: the run (maintbook_run)" in result["msg"]


PACKAGE_WARNING = re.compile(r"^\S+/site-packages/\S+\.py:\d+: \w*Warning: ")


def doc_complaints(stderr: str) -> list[str]:
    """What ansible-doc said on stderr, without Python's warnings raised inside installed
    packages (a new cryptography deprecating DSA when ansible imports it, say) and the
    source line Python prints under each."""
    found, in_warning = [], False
    for line in stderr.splitlines():
        if PACKAGE_WARNING.match(line):
            in_warning = True
        elif not (in_warning and line.startswith("  ")):
            in_warning = False
            if line.strip():
                found.append(line)
    return found


def as_text(description: str) -> str:
    """A description as ansible-doc's text shows it (C(x) as `x'), without whitespace: the
    text is wrapped, at hyphens too."""
    return "".join(re.sub(r"\b[A-Z]\(([^)]*)\)", r"`\1'", description).split())


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_renders_each_module(module: str, tmp_path: Path) -> None:
    proc = run([str(BIN / "ansible-doc"), "-M", str(LIBRARY), module], tmp_path,
               ansible_env(tmp_path, PLUGIN_PATHS))
    assert proc.returncode == 0, proc.stderr
    assert doc_complaints(proc.stderr) == []
    for section in ("OPTIONS", "EXAMPLES", "RETURN VALUES"):
        assert section in proc.stdout
    assert module in proc.stdout
    shown = "".join(proc.stdout.split())
    for name, option in fragment_options(module).items():
        assert as_text(option["description"]) in shown, f"{module}: option {name}"


def test_lifecycle_modules_use_the_fragment() -> None:
    assert {m: sorted(fragment_options(m)) for m in LIFECYCLE} == {
        "alertmanager_silence": ["context", "root", "run"],
        "maintenance_notify": ["batch", "context", "root", "run"],
        "maintenance_window": ["context", "root", "run"],
        "statuspage_maintenance": ["batch", "context", "root", "run"],
    }


def as_spec(options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Documented options or an ARGUMENT_SPEC, as AnsibleModule checks them."""
    spec: dict[str, dict[str, Any]] = {}
    for name, option in options.items():
        entry = {key: option[key] for key in ("type", "default", "choices", "elements")
                 if option.get(key) is not None}
        if option.get("required"):
            entry["required"] = True
        nested = option.get("suboptions", option.get("options"))
        if nested:
            entry["options"] = as_spec(nested)
        spec[name] = entry
    return spec


def test_each_lifecycle_module_documents_its_argument_spec(tmp_path: Path) -> None:
    """The action plugins check ARGUMENT_SPEC; ansible-doc shows the module's options merged
    with its fragment's: both say the same."""
    docs = documented(LIFECYCLE, tmp_path, ansible_env(tmp_path, PLUGIN_PATHS), "-M",
                      str(LIBRARY))
    assert missing_fragment_options(docs) == {}
    for module, doc in docs.items():
        assert as_spec(doc["options"]) == as_spec(module_names(module)["ARGUMENT_SPEC"]), module


def test_every_module_file_is_documented_here() -> None:
    assert sorted(p.stem for p in LIBRARY.glob("*.py")) == MODULES


def test_ansible_doc_renders_the_lookup(tmp_path: Path) -> None:
    proc = run([str(BIN / "ansible-doc"), "-t", "lookup", "maintbook_run"], REPO,
               ansible_env(tmp_path, {"ANSIBLE_LOOKUP_PLUGINS": "lookup_plugins"}))
    assert proc.returncode == 0, proc.stderr
    assert "> LOOKUP maintbook_run" in proc.stdout
    assert "True while the run's lease in the maintbook state database is live" in proc.stdout
    assert "RETURN VALUES" in proc.stdout
