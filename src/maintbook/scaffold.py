"""What `maintbook init` writes: a new runbook repository, from templates shipped in the
package (`templates/init/`) and the schemas, with one example runbook that validates.

The example's window is the first slot the built-in policy allows a week after `now` (so it
validates for that week), and it carries an approval bound to its content, recorded the
way `maintbook approve` records one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from maintbook.approvals import approval_entry
from maintbook.config import default_config
from maintbook.loader import parse_text
from maintbook.model import build_runbook
from maintbook.resources import shipped
from maintbook.runbook_edit import add_approval
from maintbook.slots import next_slots
from maintbook.timeparse import format_utc

TEMPLATES = Path(__file__).resolve().parent / "templates" / "init"
AHEAD = timedelta(days=7)
EXAMPLE_APPROVER = ("team-lead", "example-approver")

# (path in the new repository, template file name)
FILES = (
    ("maintbook.yml", "maintbook.yml"),
    ("runbooks/example.yml", "example.yml"),
    ("inventory/local.yml", "local.yml"),
    ("roles/README.md", "roles-README.md"),
    (".github/workflows/maintbook.yml", "workflow.yml"),
    (".pre-commit-config.yaml", "pre-commit-config.yaml"),
    (".gitignore", "gitignore"),
)
SCHEMAS = ("runbook.schema.json", "config.schema.json")


def _filled(start: datetime) -> str:
    text = (TEMPLATES / "example.yml").read_text(encoding="utf-8")
    return text.replace("@YEAR@", f"{start.year:04d}").replace("@START@", format_utc(start))


def example_start(now: datetime) -> datetime:
    """The first slot of the example's type a week after `now`, on a whole hour."""
    after = (now + AHEAD).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    document, _ = parse_text(_filled(after), "example.yml")
    assert document is not None, "the example template parses"
    slots = next_slots(build_runbook(document), default_config().policy, now, after, 1, (), ())
    return slots[0].start if slots else after


def example(now: datetime) -> str:
    """The example runbook, approved for its content."""
    text = _filled(example_start(now))
    document, _ = parse_text(text, "example.yml")
    assert document is not None, "the example template parses"
    role, by = EXAMPLE_APPROVER
    return add_approval(text, approval_entry(document.data, role, by, now))


def files(now: datetime) -> dict[str, str]:
    """Every file of a new repository: path → text."""
    found = {path: (TEMPLATES / name).read_text(encoding="utf-8") for path, name in FILES}
    found["runbooks/example.yml"] = example(now)
    for name in SCHEMAS:
        found[f"schemas/{name}"] = (shipped("schemas") / name).read_text(encoding="utf-8")
    return found
