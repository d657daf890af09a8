#!/usr/bin/python
"""Ansible module maintenance_window: check, book and release a runbook's window."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: maintenance_window
short_description: Check a runbook against policy at run time; book and release its window
description:
  - C(state=check) refuses the run unless now lies within [window.start - 15 minutes,
    window.start + duration], no blackout covers now (emergency is exempt), the approvals the
    runbook's type needs are present and not given by its owner, and no other live run holds a
    reservation on a shared system or host (maintbook SPEC section 5).
  - C(state=reserved) books the window in the state database; C(state=released) releases it.
  - Idempotent by runbook id and run id. Runs on the controller and imports the C(maintbook)
    package, so the policy is the same one C(maintbook check) applies.
version_added: "0.1.0"
author: maintbook developers
options:
  state:
    description: What to do with the window.
    type: str
    required: true
    choices: [check, reserved, released]
  runbook_file:
    description: Path of the runbook YAML file.
    type: path
    required: true
  config_file:
    description: Path of maintbook.yml; the built-in policy when omitted.
    type: path
  state_db:
    description: Path of the SQLite state database.
    type: path
    default: .maintbook/state.db
  run_id:
    description: Id of this run.
    type: str
    required: true
  hosts:
    description: The run's target hosts (names or the inventory pattern), for reservation conflicts.
    type: list
    elements: str
    default: []
  force_reason:
    description: Override the time rules (window and blackouts) for this reason; recorded.
    type: str
  forced_by:
    description: Who forced the run; recorded with the reason.
    type: str
  outcome:
    description: The run's outcome, recorded when the window is released.
    type: str
  now:
    description: Judge as if it were this RFC 3339 time (tests and what-if).
    type: str
"""

EXAMPLES = r"""
- name: Check the maintenance window
  maintenance_window:
    state: check
    runbook_file: runbooks/db-monthly.yml
    run_id: "{{ maintbook_run_id }}"

- name: Release the maintenance window
  maintenance_window:
    state: released
    runbook_file: runbooks/db-monthly.yml
    run_id: "{{ maintbook_run_id }}"
    outcome: succeeded
"""

RETURN = r"""
runbook_id:
  description: The runbook's id.
  returned: always
  type: str
  sample: MNT-2026-0042
reasons:
  description: Why the run is refused (state=check); empty when it may run.
  returned: always
  type: list
  elements: str
  sample: ["approval role vp-engineering is missing"]
refused:
  description: Whether the run is refused.
  returned: always
  type: bool
forced:
  description: Whether the time rules were overridden.
  returned: always
  type: bool
overridden_blackouts:
  description: Blackouts covering now that the runbook's type is exempt from (emergency); recorded.
  returned: always
  type: list
  elements: str
  sample: ["year-end freeze (12-15 to 01-02)"]
"""

from datetime import timedelta
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule


def _load(module):
    """The runbook model and policy, through maintbook's own loader and validator."""
    from maintbook.config import load_config
    from maintbook.project import load_runbook

    config_file = module.params["config_file"]
    config, problems = load_config(Path(config_file) if config_file else None)
    if config is None:
        module.fail_json(msg="invalid configuration: " + "; ".join(p.message for p in problems))
    loaded = load_runbook(Path(module.params["runbook_file"]), config)
    if loaded.runbook is None:
        errors = [f"{d.line}:{d.column} {d.message}" for d in loaded.diagnostics if d.is_error]
        module.fail_json(msg="invalid runbook: " + "; ".join(errors))
    return loaded.runbook, config


def _now(module):
    from maintbook.timeparse import parse_rfc3339, utc_now

    return parse_rfc3339(module.params["now"]) if module.params["now"] else utc_now()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", required=True, choices=["check", "reserved", "released"]),
            runbook_file=dict(type="path", required=True),
            config_file=dict(type="path"),
            state_db=dict(type="path", default=".maintbook/state.db"),
            run_id=dict(type="str", required=True),
            hosts=dict(type="list", elements="str", default=[]),
            force_reason=dict(type="str"),
            forced_by=dict(type="str"),
            outcome=dict(type="str"),
            now=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    try:
        from maintbook import state
        from maintbook.calendar import blackouts_between
        from maintbook.policy import Reservation, exempt, runtime_refusals
    except ImportError as exc:
        module.fail_json(
            msg=f"the maintbook package is not importable by {module._name}'s interpreter: {exc}"
        )
    runbook, config = _load(module)
    now = _now(module)
    db = Path(module.params["state_db"])
    run_id = module.params["run_id"]
    forced = bool(module.params["force_reason"])
    result = dict(changed=False, runbook_id=runbook.id, reasons=[], refused=False, forced=forced,
                  overridden_blackouts=[])
    hosts = tuple(module.params["hosts"]) or (runbook.targets.hosts,)
    if module.params["state"] == "check":
        reasons = runtime_refusals(
            runbook,
            config.policy,
            now,
            state.live_reservations(db, now),
            forced=forced,
            hosts=frozenset(hosts),
        )
        rule = config.policy.types.get(runbook.type)
        if rule is not None and exempt(runbook, rule):
            covering = blackouts_between(config.policy, now, now + timedelta(seconds=1))
            result["overridden_blackouts"] = [f"{p.name} ({p.detail})" for p in covering]
        result.update(reasons=reasons, refused=bool(reasons))
        if reasons:
            module.fail_json(msg="refused: " + "; ".join(reasons), **result)
        module.exit_json(**result)
    if module.params["state"] == "reserved":
        booked = state.reservation_status(db, runbook.id, run_id) is not None
        if not booked and not module.check_mode:
            held = Reservation(runbook.id, runbook.systems, hosts, runbook.start, runbook.end)
            state.reserve(
                db, held, run_id, now, module.params["forced_by"], module.params["force_reason"]
            )
        result["changed"] = not booked
        module.exit_json(**result)
    live = state.reservation_status(db, runbook.id, run_id) == "live"
    if live and not module.check_mode:
        state.release(db, runbook.id, run_id, now, module.params["outcome"])
    result["changed"] = live
    module.exit_json(**result)


if __name__ == "__main__":
    main()
