#!/usr/bin/python
"""Ansible module maintenance_notify: documentation and argument spec.

The work runs in the controller process as the action plugin of the same name.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: maintenance_notify
short_description: Send one maintenance notice to every channel of the maintenance, once
description:
  - Renders a notice of one kind for each channel's audience (internal notices carry the
    detail, public ones only what customers need) and sends it to every channel of the
    maintenance that takes that kind - C(outbox) (JSON lines), C(slack) (incoming webhook, or
    Web API token with the maintenance's thread), C(email) (SMTP, STARTTLS, AUTH) and
    C(webhook) (JSON POST, optionally HMAC-signed).
  - A notice goes out once per maintenance, kind and channel; notices of a run (C(start),
    C(progress), C(rollback), C(complete), ...) once per run, keyed by the id of C(run).
    Deliveries are claimed in the ledger of the state database before sending, so two
    processes never send one twice.
  - Failed attempts are retried with backoff (per channel C(retries), C(retry_delay)); a
    channel marked C(required) that could not be reached fails the task.
  - Secrets are never arguments; channels name environment variables (C(*_env)).
  - Runs on the controller as an action plugin.
version_added: "0.1.0"
author: maintbook developers
extends_documentation_fragment: [maintbook, maintbook.batch]
options:
  notice:
    description: Which notice to send.
    type: str
    required: true
    choices: [announce, reminder, rescheduled, cancelled, missed, start, emergency, progress,
              rollback, extended, complete]
  message:
    description: Extra text for internal channels (a progress line, a reason).
    type: str
  ending:
    description: How the run ended (C(maintbook_end)), for the C(complete) notice.
    type: dict
  min_interval:
    description: For C(progress), skip a channel whose last progress notice of this run is
      younger than this many seconds.
    type: int
    default: 0
notes:
  - Supports check mode; it sends and records nothing.
"""

EXAMPLES = r"""
- name: Send the start notice
  maintenance_notify:
    notice: start
    context: "{{ maintbook_context }}"
    root: "{{ maintbook_root }}"
    run: "{{ maintbook_run }}"
"""

RETURN = r"""
deliveries:
  description: What happened on each channel (status sent, failed or skipped, attempts,
    error, why skipped).
  returned: always
  type: list
  elements: dict
"""

NOTICES = ["announce", "reminder", "rescheduled", "cancelled", "missed", "start", "emergency",
           "progress", "rollback", "extended", "complete"]
ARGUMENT_SPEC = {
    "notice": {"type": "str", "required": True, "choices": NOTICES},
    "context": {"type": "dict", "required": True},
    "root": {"type": "path", "required": True},
    "run": {"type": "dict"},
    "message": {"type": "str"},
    "ending": {"type": "dict"},
    "batch": {"type": "dict", "options": {"number": {"type": "int", "required": True},
                                          "total": {"type": "int", "required": True}}},
    "min_interval": {"type": "int", "default": 0},
}

if __name__ == "__main__":
    from ansible.module_utils.basic import AnsibleModule

    AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).fail_json(
        msg="maintenance_notify runs in the controller as an action plugin: put "
        "maintbook's action_plugins/ on the action plugin path")
