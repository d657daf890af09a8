"""Lookup plugin maintbook_run: may a new step of a maintbook run start?"""

DOCUMENTATION = r"""
name: maintbook_run
short_description: Whether a maintbook run may start its next step
description:
  - True while the run's lease in the maintbook state database is live, holds no stop
    (an interrupt or a cancel) and its deadline (window end minus the rollback reserve,
    moved by C(maintbook extend)) lies ahead; false otherwise.
  - Reaching the deadline records C(deadline) as the run's stop reason.
  - A check run (no lease) always goes on.
options:
  _terms:
    description: The run, as the C(maintenance_window) open step returned it (C(maintbook_run)).
    required: true
"""

EXAMPLES = r"""
- name: Step | Deploy the release
  ansible.builtin.command: /opt/app/bin/deploy
  when: lookup('maintbook_run', hostvars['localhost'].maintbook_run)
"""

RETURN = r"""
_raw:
  description: One boolean.
  type: list
  elements: bool
"""

from maintbook.plugins.lookup import LookupModule  # noqa: E402

__all__ = ["LookupModule"]
