#!/usr/bin/python
"""Ansible module alertmanager_silence: documentation and argument spec.

The work runs in the controller process as the action plugin of the same name.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: alertmanager_silence
short_description: Create, move or expire the Alertmanager silence of a maintenance
description:
  - Creates the silence of the maintenance's matchers (from C(context), with the
    Alertmanager URL) through the Alertmanager API v2 for
    [window start - 15 minutes, window end + 15 minutes], the end following
    C(maintbook extend); or expires every active silence of the maintenance.
  - The silence is found again by the tag C(maintbook:MAINTENANCE_ID) in its comment, so the
    same call twice changes nothing and a moved end updates it in place.
  - Runs on the controller as an action plugin.
version_added: "0.1.0"
author: maintbook developers
extends_documentation_fragment: [maintbook]
options:
  state:
    description: C(present) creates or moves the silence; C(absent) expires it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Supports check mode.
"""

EXAMPLES = r"""
- name: Silence alerts for the window
  alertmanager_silence:
    state: present
    context: "{{ maintbook_context }}"
    root: "{{ maintbook_root }}"
"""

RETURN = r"""
silence_ids:
  description: Ids of the silences created, kept or expired.
  returned: always
  type: list
  elements: str
  sample: [6b8c1ae4-58a5-4d2b-a0d8-8b8f1d5c3d11]
"""

ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "context": {"type": "dict", "required": True},
    "root": {"type": "path", "required": True},
    "run": {"type": "dict"},
}

if __name__ == "__main__":
    from ansible.module_utils.basic import AnsibleModule

    AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).fail_json(
        msg="alertmanager_silence runs in the controller as an action plugin: put "
        "maintbook's action_plugins/ on the action plugin path")
