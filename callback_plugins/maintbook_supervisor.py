"""Callback plugin maintbook_supervisor: the playbook does not outlive `maintbook run`."""

from __future__ import annotations

DOCUMENTATION = r"""
name: maintbook_supervisor
type: aggregate
short_description: Stop the playbook when the maintbook run that started it is gone
description:
  - C(maintbook run) starts the playbook in a session of its own. When the environment
    variable C(MAINTBOOK_SUPERVISOR_PID) names the run's process, this plugin watches it
    from the playbook's start; if that process disappears (killed, crashed), the playbook
    stops at once (its whole process group), so nothing of a crashed run goes on
    unsupervised. The run's lease then shows it as crashed and C(maintbook recover)
    closes what it left open.
  - Does nothing when the variable is not set (plain ansible-playbook, AWX).
requirements:
  - enabled in callbacks_enabled (maintbook run does it)
"""

from maintbook.plugins.supervisor import CallbackModule  # noqa: E402

__all__ = ["CallbackModule"]
