"""The part of a runbook the policy can judge while other parts of it have errors.

`validate` reports every problem of a file in one run: schema, semantic and policy
problems together. The policy looks only at the fields in `POLICY_FIELDS`; when none of
them has an error, the runbook is judged on them with the broken fields elsewhere left out
(a broken title or step list is replaced by a neutral one). When one of them has an error,
the policy cannot judge the file and says nothing, so that one mistake is one diagnostic.
An unknown key (`durration` beside `duration`) does not stop it: the model never reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from maintbook.loader import Document, Finding
from maintbook.model import Runbook, build_runbook

POLICY_FIELDS = frozenset(
    {"id", "owner", "type", "risk", "systems", "window", "approvals", "targets", "recurrence"}
)
NEUTRAL: dict[str, Any] = {"title": "(title with errors)", "steps": []}
# An unknown key is extra data the model never reads: the fields around it can be judged.
IGNORED = frozenset({"schema-additionalProperties"})


def policy_view(document: Document, findings: Sequence[Finding]) -> Runbook | None:
    """The runbook as the policy sees it, or None when a field it needs has an error."""
    broken = {
        finding.path[0] if finding.path else ""
        for finding in findings
        if finding.diagnostic.is_error and finding.diagnostic.code not in IGNORED
    }
    if "" in broken or broken & POLICY_FIELDS or not isinstance(document.data, dict):
        return None
    data = {key: value for key, value in document.data.items() if key not in broken}
    for key, value in NEUTRAL.items():
        data.setdefault(key, value)
    return build_runbook(Document(document.file, data, document.source))
