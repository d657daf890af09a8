"""Runbook model → playbook data (plain lists and dicts): the lifecycle of SPEC §7.

Four plays, so that closing never depends on a target host surviving:

1. Open (controller): check the window, book it, open the status page, silence
   alerts, send the start notice. A refusal ends the playbook before anything opens.
2. Precheck (targets, all at once): nothing has changed yet.
3. Maintain (targets, in `serial` batches): maintenance mode, steps, verify; a failure
   is rescued on its host (the step's own rollback, then the runbook's), so a host
   never "fails" in Ansible's sense and the closing play always runs.
4. Close (controller): maintenance mode was already turned off on each host; close the
   page, expire the silence, send the completion notice, release the window, and end
   with the run's outcome.
"""

from __future__ import annotations

from typing import Any

from maintbook.calls import Calls, Target
from maintbook.emit import Unsafe
from maintbook.model import Runbook
from maintbook.tasks import set_fact, step_task, with_own_rollback
from maintbook.timeparse import format_utc

CONTROLLER_VARS = {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}
STOP = "hostvars['localhost'].maintbook_stop | default(false)"
# `maintbook run --limit P` narrows the target plays only: the controller plays must run.
IN_LIMIT = (
    "{{ maintbook_limit is not defined "
    "or inventory_hostname in query('inventory_hostnames', maintbook_limit) }}"
)


def take_part() -> dict[str, Any]:
    """Decided once per host, so that each task of the block checks a plain fact."""
    return set_fact(
        {"maintbook_go": f"{{{{ (maintbook_in_limit | bool) and not ({STOP}) }}}}"},
        "Decide whether this host takes part",
        tags=["always"],
    )


# The two gate tasks: a failure of either refuses the run before anything opens.
TARGETS_CHECK = "Check that the targets match hosts"
WINDOW_CHECK = "Check the maintenance window"


def _controller(task: dict[str, Any]) -> dict[str, Any]:
    """A task on the controller, once, from a play on the targets."""
    return {**task, "delegate_to": "localhost", "run_once": True, "vars": CONTROLLER_VARS}


class Compiler(Calls):
    """Builds the four plays for one runbook."""

    def controller_play(self, name: str, tasks: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "name": name,
            "hosts": "localhost",
            "gather_facts": False,
            "vars": {**CONTROLLER_VARS, **self.play_vars()},
            "tasks": tasks,
        }

    def open_play(self) -> dict[str, Any]:
        forced = {
            "force_reason": "{{ maintbook_force_reason | default(omit) }}",
            "forced_by": "{{ maintbook_operator | default(omit) }}",
        }
        start_kind = "emergency" if self.rb.is_emergency else "start"
        opening = [
            self.window("reserved", "Book the maintenance window"),
            self.page("scheduled", "Open the status page maintenance"),
            *self.silence("present", "Silence alerts for the window"),
            *self.notice(start_kind, "Send the start notice"),
        ]
        targeted = (
            "maintbook_targets == 'localhost' or query('inventory_hostnames', maintbook_targets) "
            "| select('in', query('inventory_hostnames', maintbook_limit | default('all'))) "
            "| list | length > 0"
        )
        tasks = [
            {
                "name": TARGETS_CHECK,
                "ansible.builtin.assert": {
                    "that": [targeted],
                    "quiet": True,
                    "fail_msg": "targets.hosts {{ maintbook_targets }} matches no host of this "
                    "inventory{{ ' within --limit ' ~ maintbook_limit if maintbook_limit "
                    "is defined else '' }}",
                },
                "tags": ["always"],
            },
            {**self.window("check", WINDOW_CHECK, **forced), "tags": ["always"]},
            {
                "name": "Open the maintenance",
                "tags": ["always"],
                "block": opening,
                "rescue": [
                    set_fact(
                        {"maintbook_stop": True, "maintbook_open_failed": True},
                        "Record that opening failed",
                    )
                ],
            },
        ]
        return self.controller_play(f"Open maintenance {self.rb.id}", tasks)

    def precheck_play(self) -> dict[str, Any]:
        checks = [step_task(s, "precheck", self.file) for s in self.rb.precheck]
        share = _controller(
            set_fact(
                {"maintbook_stop": True, "maintbook_precheck_failed": True},
                "Stop the maintenance when a precheck failed",
                delegate_facts=True,
                when="ansible_play_hosts_all | map('extract', hostvars) "
                "| selectattr('maintbook_precheck_error', 'defined') | list | length > 0",
            )
        )
        tasks = [
            take_part(),
            {
                "name": "Run the prechecks",
                "when": "maintbook_go",
                "tags": ["precheck"],
                "block": checks,
                "rescue": [
                    set_fact(
                        {
                            "maintbook_precheck_error": "{{ ansible_failed_task.name }}: "
                            "{{ ansible_failed_result.msg | default('failed') }}"
                        },
                        "Record the failed precheck",
                    )
                ],
            },
            {**share, "tags": ["always"]},
        ]
        return {
            "name": f"Precheck {self.rb.id}",
            "hosts": self.rb.targets.hosts,
            "gather_facts": False,
            "vars": {"maintbook_in_limit": IN_LIMIT},
            "tasks": tasks,
        }

    def maintain_block(self) -> list[dict[str, Any]]:
        tasks: list[dict[str, Any]] = [
            _controller(
                {**self.page("in_progress", "Mark the maintenance in progress"), "tags": ["always"]}
            )
        ]
        if self.rb.maintenance_mode:
            tasks.append(
                {
                    "name": "Turn maintenance mode on",
                    "ansible.builtin.include_role": {"name": "maintenance_mode"},
                    "vars": {"maintenance_mode_enabled": True},
                    "tags": ["steps"],
                }
            )
        total = len(self.rb.steps)
        for index, step in enumerate(self.rb.steps, start=1):
            tasks.append(
                with_own_rollback(step, self.file)
                if step.rollback
                else step_task(step, "steps", self.file)
            )
            if self.rb.progress_every is not None and index < total:
                tasks += [
                    _controller(t)
                    for t in self.notice(
                        "progress",
                        "Send a progress notice",
                        message=Unsafe(f"Step {index} of {total} done: {step.name}"),
                        min_interval=int(self.rb.progress_every.total_seconds()),
                    )
                ]
        if self.rb.verify:
            tasks.append(
                _controller(
                    {**self.page("verifying", "Mark the maintenance verifying"), "tags": ["always"]}
                )
            )
            tasks += [step_task(s, "verify", self.file) for s in self.rb.verify]
        tasks.append(
            set_fact(
                {"maintbook_outcome": "succeeded"},
                "Record that this host succeeded",
                tags=["always"],
            )
        )
        return tasks

    def rescue_block(self) -> list[dict[str, Any]]:
        undo = [step_task(s, "rollback", self.file) for s in self.rb.rollback]
        outcome = (
            "{{ 'rollback_failed' if maintbook_rollback_failed | default(false) "
            "else 'rolled_back' }}"
        )
        return [
            set_fact(
                {
                    "maintbook_failure": "{{ ansible_failed_task.name }}: "
                    "{{ ansible_failed_result.msg | default('failed') }}"
                },
                "Record the failure",
                tags=["always"],
            ),
            {
                "name": "Roll back the maintenance",
                "tags": ["rollback"],
                "block": [
                    *undo,
                    set_fact(
                        {"maintbook_outcome": outcome}, "Record the rollback", tags=["always"]
                    ),
                ],
                "rescue": [
                    set_fact(
                        {"maintbook_outcome": "rollback_failed"},
                        "Record that the rollback failed",
                        tags=["always"],
                    )
                ],
            },
            # The rollback is done: a notice that cannot be delivered must not fail the host.
            *[
                {**_controller(t), "ignore_errors": True, "register": "maintbook_rollback_notice"}
                for t in self.notice(
                    "rollback", "Send the rollback notice", message="{{ maintbook_failure }}"
                )
            ],
        ]

    def always_block(self) -> list[dict[str, Any]]:
        tasks: list[dict[str, Any]] = []
        if self.rb.maintenance_mode:
            tasks.append(
                {
                    "name": "Turn maintenance mode off",
                    "tags": ["always"],
                    "block": [
                        {
                            "name": "Turn maintenance mode off on this host",
                            "ansible.builtin.include_role": {"name": "maintenance_mode"},
                            "vars": {"maintenance_mode_enabled": False},
                        }
                    ],
                    "rescue": [
                        set_fact(
                            {"maintbook_outcome": "rollback_failed"},
                            "Record that maintenance mode stayed on",
                        )
                    ],
                }
            )
        return tasks

    def share_task(self) -> dict[str, Any]:
        """After each batch: every host's outcome to the controller, and whether to stop."""
        max_fail = self.rb.targets.max_fail_percentage or 0
        batch = "ansible_play_batch | map('extract', hostvars)"
        failed = (
            f"({batch} | selectattr('maintbook_outcome', 'defined') "
            "| selectattr('maintbook_outcome', 'in', ['rolled_back', 'rollback_failed']) "
            "| list | length)"
        )
        return {
            **_controller(
                set_fact(
                    {
                        "maintbook_outcomes": "{{ hostvars['localhost'].maintbook_outcomes "
                        "| default({}) "
                        "| combine(dict(ansible_play_batch | zip(ansible_play_batch "
                        "| map('extract', hostvars) | map(attribute='maintbook_outcome', "
                        "default='skipped')))) }}",
                        "maintbook_stop": f"{{{{ ({STOP}) or {failed} * 100 > "
                        f"{max_fail} * (ansible_play_batch | length) }}}}",
                    },
                    "Share this batch's results",
                    delegate_facts=True,
                )
            ),
            "tags": ["always"],
        }

    def maintain_play(self) -> dict[str, Any]:
        play: dict[str, Any] = {
            "name": f"Maintain {self.rb.id}",
            "hosts": self.rb.targets.hosts,
            "gather_facts": False,
        }
        if self.rb.targets.serial is not None:
            play["serial"] = self.rb.targets.serial
        play["vars"] = {"maintbook_in_limit": IN_LIMIT, **self.play_vars()}
        play["tasks"] = [
            set_fact(
                {"maintbook_outcome": "excluded"},
                "Leave out hosts outside --limit",
                when="not (maintbook_in_limit | bool)",
            ),
            take_part(),
            {
                "name": "Run the maintenance",
                "when": "maintbook_go",
                "block": self.maintain_block(),
                "rescue": self.rescue_block(),
                **({"always": always} if (always := self.always_block()) else {}),
            },
            self.share_task(),
        ]
        return play

    def close_play(self) -> dict[str, Any]:
        outcome = (
            "{% set results = (maintbook_outcomes | default({})).values() | list %}"
            "{{ 'rolled_back' if maintbook_open_failed | default(false) "
            "or maintbook_precheck_failed | default(false) "
            "else 'rollback_failed' if 'rollback_failed' in results "
            "else 'rolled_back' if 'rolled_back' in results else 'succeeded' }}"
        )
        cancelled = (
            "{{ 'cancelled' if maintbook_open_failed | default(false) "
            "or maintbook_precheck_failed | default(false) else 'completed' }}"
        )
        body = (
            "{{ {'succeeded': 'The maintenance is complete.', "
            "'rolled_back': 'The maintenance did not go as planned and was rolled back.', "
            "'rollback_failed': 'The maintenance failed and its rollback failed; "
            "engineers are working on it.'}[maintbook_final] }}"
        )
        closing = [
            self.page(cancelled, "Close the status page maintenance", body=body),
            *self.silence("absent", "Expire the alert silence"),
            *self.notice("complete", "Send the completion notice", outcome="{{ maintbook_final }}"),
            self.window(
                "released", "Release the maintenance window", outcome="{{ maintbook_final }}"
            ),
        ]
        for index, task in enumerate(closing):
            task["ignore_errors"] = True
            task["register"] = f"maintbook_closing_{index}"
            task.setdefault("tags", ["always"])
        tasks = [
            set_fact({"maintbook_final": outcome}, "Work out the outcome", tags=["always"]),
            *closing,
            {
                "name": "Finish with the outcome",
                "tags": ["always"],
                "ansible.builtin.assert": {
                    "that": ["maintbook_final == 'succeeded'"],
                    "quiet": True,
                    "fail_msg": "The maintenance ended {{ maintbook_final }}",
                },
            },
        ]
        return self.controller_play(f"Close maintenance {self.rb.id}", tasks)

    def plays(self) -> list[dict[str, Any]]:
        plays = [self.open_play()]
        if self.rb.precheck:
            plays.append(self.precheck_play())
        plays += [self.maintain_play(), self.close_play()]
        return plays


def compile_runbook(runbook: Runbook, target: Target) -> list[dict[str, Any]]:
    """The playbook data of one runbook."""
    return Compiler(runbook, target).plays()


def playbook_header(runbook: Runbook, target: Target) -> str:
    return (
        f"Compiled by maintbook from {target.runbook_file}: do not edit, edit the runbook.\n"
        f"{runbook.id} ({runbook.type}), window {format_utc(runbook.start)} "
        f"to {format_utc(runbook.end)}."
    )
