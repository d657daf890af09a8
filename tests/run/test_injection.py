"""Template injection (SPEC §2): only action arguments and `when` are templated. A Jinja
lookup in any other field, in --reason or in the operator's $USER is text: it never runs,
and it shows literally on the page, in the notices and in the record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.run.conftest import Project
from tests.support.services import alertmanager

pytestmark = pytest.mark.integration
MAINTBOOK = str(Path(sys.executable).parent / "maintbook")


def hostile(marker: Path, tag: str) -> str:
    return f"{tag} {{{{ lookup('pipe', 'touch {marker}') }}}}"


def run(project: Project, path: Path, user: str, reason: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "USER": user, "LOGNAME": user, "NO_COLOR": "1"}
    return subprocess.run([MAINTBOOK, "run", str(path), "--force-window", "--reason", reason],
                          cwd=project.root, env=environment, capture_output=True, text=True,
                          check=False, timeout=240)


def test_no_data_field_is_ever_templated(project: Project, tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    text = {name: hostile(marker, name) for name in
            ("title", "description", "justification", "owner", "system", "component",
             "matcher", "summary", "expect", "step", "by", "reason", "user")}
    with alertmanager(tmp_path / "am") as url:
        project.configure(f'alertmanager: {{url: "{url}"}}\n')
        path = project.runbook(
            title=text["title"], description=text["description"],
            justification=text["justification"], owner=text["owner"],
            systems=[text["system"]], statuspage={"components": [text["component"]]},
            silence={"matchers": [f'service="{text["matcher"]}"']},
            impact={"summary": text["summary"], "expect": text["expect"]},
            approvals=[{"role": "team-lead", "by": text["by"]}],
            steps=[{"name": text["step"], "command": "true"}],
            notify=["outbox"], type="brief-interruption",
        )
        path.write_text(path.read_text().replace("brief-interruption", "zero-downtime"))
        done = run(project, path, text["user"], text["reason"])
        assert done.returncode == 0, done.stdout + done.stderr
        with urllib.request.urlopen(f"{url}/api/v2/silences", timeout=10) as answer:
            (silence,) = json.loads(answer.read())
    assert not marker.exists(), "a lookup ran"
    assert silence["matchers"][0]["value"] == text["matcher"]
    entry = project.entry()
    assert entry["name"] == text["title"]
    assert entry["components"] == {text["component"]: "operational"}
    assert entry["impact"] == {"summary": text["summary"], "expect": text["expect"]}
    (record,) = project.records()
    assert record["operator"] == text["user"]
    assert record["forced"] == {"by": text["user"], "reason": text["reason"]}
    assert record["title"] == text["title"]
    assert record["steps"][0]["name"] == text["step"]
    page = (project.root / ".maintbook/status/index.html").read_text()
    assert "lookup(&#39;pipe&#39;" in page or "lookup('pipe'" in page


@pytest.mark.parametrize("field", ["targets", "delegate_to"])
def test_a_lookup_in_a_host_pattern_names_no_host_and_never_runs(
        project: Project, tmp_path: Path, field: str) -> None:
    marker = tmp_path / "MARKER"
    if field == "targets":
        path = project.runbook(targets={"hosts": hostile(marker, "web")})
    else:
        path = project.runbook(steps=[{"name": "Delegated", "command": "true",
                                       "delegate_to": hostile(marker, "host")}])
    done = run(project, path, "dana", "test")
    assert done.returncode in (1, 2), done.stdout + done.stderr
    assert not marker.exists(), "a lookup ran"
    if field == "targets":
        (record,) = project.records()
        assert record["outcome"] == "refused"
        assert "matches no host" in " ".join(record["refused_because"])
