#!/usr/bin/python
"""Ansible module statuspage_maintenance: documentation and argument spec.

The work runs in the controller process as the action plugin of the same name.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: statuspage_maintenance
short_description: Publish, move and close a maintenance's status-page entry
description:
  - Keeps one entry per maintenance (a runbook id, or one occurrence of a recurring runbook)
    and moves it C(scheduled) -> C(in_progress) -> C(verifying) -> C(completed), or to
    C(cancelled), C(ended_early), C(not_completed) or C(missed); C(state=closed) closes it as
    the run's ending says (maintbook SPEC sections 10 and 13).
  - The same state again changes nothing; a closed entry opens again when the maintenance
    runs again in its window.
  - Affected components are C(under_maintenance) while in progress; after a run that left
    hosts degraded they are C(degraded_performance), never C(operational).
  - Provider C(file) keeps C(status.json), a static site and C(maintenance.ics) in one folder;
    provider C(statuspage) drives the Atlassian Statuspage API v1 (scheduled incidents, or
    incidents for an emergency), mapping systems to component ids.
  - Every text it writes is public; it never names a host, a step or an error.
  - Runs on the controller as an action plugin.
version_added: "0.1.0"
author: maintbook developers
extends_documentation_fragment: [maintbook, maintbook.batch]
options:
  state:
    description: The entry's wanted state, or C(closed) to close it as C(ending) says.
    type: str
    required: true
    choices: [scheduled, in_progress, verifying, completed, cancelled, ended_early,
              not_completed, missed, closed]
  body:
    description: The text of the update this change adds; a public sentence per state when
      omitted.
    type: str
  ending:
    description: How the run ended (C(maintbook_end)); required with C(state=closed).
    type: dict
notes:
  - Supports check mode; it reports what would change and writes nothing.
  - The Statuspage API key comes from the variable C(statuspage.api_key_env) of maintbook.yml
    names; it is never an argument.
"""

EXAMPLES = r"""
- name: Mark the maintenance in progress on the status page
  statuspage_maintenance:
    state: in_progress
    context: "{{ maintbook_context }}"
    root: "{{ maintbook_root }}"
"""

RETURN = r"""
maintenance:
  description: The entry after the call, as status.json holds it.
  returned: always
  type: dict
  sample:
    id: MNT-2026-0042
    name: Monthly PostgreSQL full maintenance
    status: in_progress
    scheduled_for: "2026-12-06T02:00:00Z"
    scheduled_until: "2026-12-06T04:00:00Z"
    components: {api: under_maintenance}
    updates:
      - {status: in_progress, body: Maintenance is in progress., at: "2026-12-06T02:00:04Z"}
"""

STATES = ["scheduled", "in_progress", "verifying", "completed", "cancelled", "ended_early",
          "not_completed", "missed", "closed"]
ARGUMENT_SPEC = {
    "state": {"type": "str", "required": True, "choices": STATES},
    "context": {"type": "dict", "required": True},
    "root": {"type": "path", "required": True},
    "run": {"type": "dict"},
    "body": {"type": "str"},
    "ending": {"type": "dict"},
    "batch": {"type": "dict", "options": {"number": {"type": "int", "required": True},
                                          "total": {"type": "int", "required": True}}},
}
REQUIRED_IF = [("state", "closed", ["ending"])]

if __name__ == "__main__":
    from ansible.module_utils.basic import AnsibleModule

    AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).fail_json(
        msg="statuspage_maintenance runs in the controller as an action plugin: put "
        "maintbook's action_plugins/ on the action plugin path")
