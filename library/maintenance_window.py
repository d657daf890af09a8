#!/usr/bin/python
"""Ansible module maintenance_window: documentation and argument spec.

The work runs in the controller process as the action plugin of the same name
(action_plugins/maintenance_window.py), as ansible.builtin.debug does.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: maintenance_window
short_description: Open a maintenance run (gate and lease), work out how it ended, release it
description:
  - C(state=open) judges the run gate of maintbook SPEC section 5 (run window, blackouts, the
    type's allowed windows, announcements delivered in time, approvals bound to this content,
    not cancelled or already succeeded, no other live run on a shared system or host, the
    deadline not passed, C(--limit) matching a target) and, unless refused, takes the run's
    lease and marks the maintenance running, all in one transaction of the state database.
    A refusal fails the task with every reason. A run whose lease C(maintbook run) already
    took is adopted.
  - C(state=ended) works out the outcome of C(run) from the hosts' end states and records
    it.
  - C(state=released) releases the lease of C(run), moves the maintenance to the outcome in
    C(ending) and finishes the run, recording the closing actions that failed.
  - C(state=check) judges the gate only.
  - Runs on the controller as an action plugin; never reads the runbook file (the compiled
    playbook passes the maintenance's context).
version_added: "0.1.0"
author: maintbook developers
extends_documentation_fragment: [maintbook]
options:
  state:
    description: What to do.
    type: str
    required: true
    choices: [open, ended, released, check]
  run_id:
    description: The run's id (state=open); generated when omitted.
    type: str
  operator:
    description: Who runs it (state=open); the controller's user when omitted.
    type: str
  force_reason:
    description: Override the time rules for this reason (state=open); recorded.
    type: str
  occurrence:
    description: For a recurring runbook, the occurrence to run (YYYYMMDDTHHMMZ of its
      planned start); the one whose run window is open now when omitted.
    type: str
  now:
    description: Judge the gate as if it were this RFC 3339 time (state=open; tests and
      what-if runs); recorded with the run.
    type: str
  hosts:
    description: The inventory hosts the targets resolve to (state=open).
    type: list
    elements: str
  limit:
    description: The --limit pattern, when one narrows the run (state=open).
    type: str
  limit_hosts:
    description: The hosts the limit pattern resolves to (state=open).
    type: list
    elements: str
  host_states:
    description: Host to its end state as the play recorded it (state=ended).
    type: dict
  failures:
    description: Host to its recorded failure (state=ended).
    type: dict
  rollback_errors:
    description: Host to its failed rollback or recheck (state=ended).
    type: dict
  no_go:
    description: A precheck failed (state=ended).
    type: bool
    default: false
  opening_error:
    description: Why opening failed, when it did (state=ended).
    type: str
  interrupted:
    description: The run was interrupted (state=ended).
    type: bool
    default: false
  maintenance_mode:
    description: The runbook uses maintenance mode; hosts not clean are left drained.
    type: bool
    default: false
  ending:
    description: The ending state=ended returned (C(maintbook_end)), for state=released.
    type: dict
  closing:
    description: The registered results of the closing tasks (page, silence, notice).
    type: dict
notes:
  - Supports check mode; a check run is recorded as such and takes no lease.
"""

EXAMPLES = r"""
- name: Open the maintenance
  maintenance_window:
    state: open
    context: "{{ maintbook_context }}"
    root: "{{ maintbook_root }}"
    hosts: "{{ query('inventory_hostnames', maintbook_targets) }}"

- name: Release the window and record the outcome
  maintenance_window:
    state: released
    context: "{{ maintbook_context }}"
    root: "{{ maintbook_root }}"
    run: "{{ maintbook_run }}"
    ending: "{{ maintbook_end }}"
"""

RETURN = r"""
ansible_facts:
  description: C(maintbook_run) (state=open), C(maintbook_end) (state=ended) or
    C(maintbook_release) (state=released).
  returned: success
  type: dict
reasons:
  description: Why the run is refused (state=open).
  returned: when refused
  type: list
  elements: str
  sample: ["type planned-outage needs an approval by role vp-engineering; none is given"]
"""

ARGUMENT_SPEC = {
    "state": {"type": "str", "required": True, "choices": ["open", "ended", "released", "check"]},
    "context": {"type": "dict", "required": True},
    "root": {"type": "path", "required": True},
    "run_id": {"type": "str"},
    "operator": {"type": "str"},
    "force_reason": {"type": "str"},
    "now": {"type": "str"},
    "occurrence": {"type": "str"},
    "hosts": {"type": "list", "elements": "str"},
    "limit": {"type": "str"},
    "limit_hosts": {"type": "list", "elements": "str"},
    "run": {"type": "dict"},
    "host_states": {"type": "dict"},
    "failures": {"type": "dict"},
    "rollback_errors": {"type": "dict"},
    "no_go": {"type": "bool", "default": False},
    "opening_error": {"type": "str"},
    "interrupted": {"type": "bool", "default": False},
    "maintenance_mode": {"type": "bool", "default": False},
    "ending": {"type": "dict"},
    "closing": {"type": "dict"},
}
REQUIRED_IF = [("state", "ended", ["run"]), ("state", "released", ["run", "ending"])]


if __name__ == "__main__":
    from ansible.module_utils.basic import AnsibleModule

    AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).fail_json(
        msg="maintenance_window runs in the controller as an action plugin: put maintbook's "
        "action_plugins/ on the action plugin path (compile -o writes an ansible.cfg for it)")
