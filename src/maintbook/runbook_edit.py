"""Writing into a runbook file without disturbing it: ruamel.yaml's round trip.

Comments, key order, quoting, flow or block style and anchors stay as the author wrote
them; the indentation of block mappings and sequences is measured from the file and kept.
The one layout change: an `approvals` list written in flow style (`[...]`) becomes a block
list, since the new entry is a block mapping.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.util import load_yaml_guess_indent

from maintbook.digest import PHASES

# Where a new `approvals` key goes: after the first of these that the file has.
FLOW_WIDTH = 80  # a phase's fingerprints on one line while they fit
_AFTER = ("window", "recurrence", "justification", "description", "systems")


def _round_trip(text: str) -> tuple[YAML, Any]:
    _, sequence, offset = load_yaml_guess_indent(text)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    data = yaml.load(text)
    mapping = next((v.lc.col for v in data.values()
                    if isinstance(v, CommentedMap) and not v.fa.flow_style() and v.lc.col), 2)
    yaml.indent(mapping=mapping, sequence=sequence or mapping + 2,
                offset=offset if offset is not None else mapping)
    return yaml, data


def _timestamp(text: str) -> Any:
    """An RFC 3339 text as ruamel's own timestamp, so that it is written unquoted."""
    return YAML().load(f"at: {text}\n")["at"]


def _entry(approval: Mapping[str, Any]) -> CommentedMap:
    entry = CommentedMap()
    for key, value in approval.items():
        if key == "sections":
            entry[key] = _sections(value)
        else:
            entry[key] = _timestamp(value) if key == "at" else value
    return entry


def _sections(sections: Mapping[str, Any]) -> CommentedMap:
    found = CommentedMap()
    for key, value in sections.items():
        if key in PHASES and isinstance(value, Mapping):
            steps = CommentedMap(value.items())
            if sum(len(name) + 12 for name in value) <= FLOW_WIDTH:
                steps.fa.set_flow_style()
            found[key] = steps
        else:
            found[key] = value
    return found


def _approvals(data: CommentedMap) -> CommentedSeq:
    found = data.get("approvals")
    if isinstance(found, CommentedSeq):
        found.fa.set_block_style()
        return found
    found = CommentedSeq()
    after = next((k for k in _AFTER if k in data), None)
    position = list(data).index(after) + 1 if after else len(data)
    data.insert(position, "approvals", found)
    return found


def add_approval(text: str, approval: Mapping[str, Any]) -> str:
    """The runbook text with `approval` appended to `approvals`; an earlier approval in the
    same role by the same person is replaced (a re-approval)."""
    yaml, data = _round_trip(text)
    approvals = _approvals(data)
    for index in reversed(range(len(approvals))):
        item = approvals[index]
        if isinstance(item, Mapping) and (item.get("role"), item.get("by")) == (
                approval["role"], approval["by"]):
            del approvals[index]
    approvals.append(_entry(approval))
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
