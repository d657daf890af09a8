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

import os
from dataclasses import dataclass
from typing import Any

from maintbook.config import Config
from maintbook.emit import Commented, Unsafe
from maintbook.model import Runbook, Step
from maintbook.timeparse import format_utc, parse_duration

CONTROLLER_VARS = {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}
PHASE_LABEL = {"precheck": "Precheck", "steps": "Step", "verify": "Verify", "rollback": "Rollback"}
STOP = "hostvars['localhost'].maintbook_stop | default(false)"
# `maintbook run --limit P` narrows the target plays only: the controller plays must run.
IN_LIMIT = (
    "{{ maintbook_limit is not defined "
    "or inventory_hostname in query('inventory_hostnames', maintbook_limit) }}"
)
TARGET_WHEN = ["maintbook_in_limit | bool", f"not ({STOP})"]


@dataclass(frozen=True)
class Target:
    """What the compiled playbook needs to know about the project it runs in."""

    config: Config
    runbook_file: str  # relative to the project root


def task_name(phase: str, step: Step, parent: Step | None = None) -> str:
    """The Ansible task name of a step: its phase, then its runbook name."""
    if parent is not None:
        return f"Rollback of {parent.name} | {step.name}"
    return f"{PHASE_LABEL[phase]} | {step.name}"


def _seconds(step_delta: Any) -> int:
    return max(1, int(step_delta.total_seconds()))


def _action(step: Step, phase: str) -> dict[str, Any]:
    """The module call of one step."""
    read_only = phase in ("precheck", "verify")
    if step.kind == "role":
        prefix = f"{step.action}_"
        role_vars = {k if k.startswith(prefix) else prefix + k: v for k, v in step.vars.items()}
        call: dict[str, Any] = {"ansible.builtin.include_role": {"name": step.action}}
        if role_vars:
            call["vars"] = role_vars
        return call
    if step.kind in ("command", "shell"):
        return {f"ansible.builtin.{step.kind}": {"cmd": step.action}, "changed_when": not read_only}
    if step.kind == "http":
        http = dict(step.action)
        args: dict[str, Any] = {"url": http["url"], "method": http.get("method", "GET")}
        status = http.get("status", 200)
        args["status"] = status if isinstance(status, list) else [status]
        if "contains" in http:
            args["contains"] = Unsafe(http["contains"])
        if "max_latency" in http:
            args["max_latency_ms"] = int(parse_duration(http["max_latency"]).total_seconds() * 1000)
        return {"http_check": args}
    if step.kind == "wait":
        return {
            "ansible.builtin.pause": {"seconds": int(parse_duration(step.action).total_seconds())}
        }
    module = step.action
    return {module["name"]: dict(module.get("args", {}))}


# Rules that judge the author's own choices (a shell, a command line, literal braces in a
# step name), which the compiled task keeps exactly as the runbook says.
AUTHOR_CHOICE_RULES = {
    "shell": ("command-instead-of-module", "command-instead-of-shell", "risky-shell-pipe"),
    "command": ("command-instead-of-module",),
}


def _noqa(step: Step, name: str) -> str:
    rules = list(AUTHOR_CHOICE_RULES.get(step.kind, ()))
    if any(marker in name for marker in ("{{", "{%", "{#")):
        rules.append("name[template]")
    return "noqa: " + " ".join(rules) if rules else ""


def _step_task(step: Step, phase: str, file: str, parent: Step | None = None) -> dict[str, Any]:
    """A step as a task: its name, the action, and the options of SPEC §2."""
    name = task_name(phase, step, parent)
    task = Commented(f"{file}:{step.line}", {"name": Unsafe(name)})
    task.trailing = _noqa(step, name)
    action = _action(step, phase)
    task.update(action)
    if step.kind == "role":
        apply: dict[str, Any] = {}
        if step.timeout is not None:
            apply["timeout"] = _seconds(step.timeout)
        if apply:
            task["ansible.builtin.include_role"]["apply"] = apply
    elif step.timeout is not None:
        task["timeout"] = _seconds(step.timeout)
    if step.retries and step.kind != "role":
        task["register"] = "maintbook_attempt"
        task["retries"] = step.retries
        task["delay"] = _seconds(step.delay) if step.delay else 5
        task["until"] = "maintbook_attempt is succeeded"
    if step.when is not None:
        task["when"] = step.when
    if step.run_once is not None:
        task["run_once"] = step.run_once
    if step.delegate_to is not None:
        task["delegate_to"] = step.delegate_to
    task["tags"] = [phase if phase != "steps" or parent is None else "rollback", *step.tags]
    return task


def _with_own_rollback(step: Step, file: str) -> dict[str, Any]:
    """A step with its own rollback: undo it on failure, then fail on to the runbook's."""
    undo = [_step_task(s, "rollback", file, parent=step) for s in step.rollback]
    name = f"Step | {step.name} (with its rollback)"
    wrapper = Commented(
        f"{file}:{step.line}",
        {
            "name": Unsafe(name),
            "block": [_step_task(step, "steps", file)],
            "rescue": [
                {
                    "name": Unsafe(f"Roll back step | {step.name}"),
                    "block": undo,
                    "rescue": [
                        _set_fact(
                            {"maintbook_rollback_failed": True},
                            "Record that the step's rollback failed",
                        )
                    ],
                },
                {
                    "name": "Fail on to the runbook's rollback",
                    "ansible.builtin.fail": {
                        "msg": "{{ ansible_failed_result.msg | default('the step failed') }}"
                    },
                },
            ],
        },
    )
    wrapper.trailing = _noqa(Step(step.name, "block", None, step.line), name)
    return wrapper


def _set_fact(values: dict[str, Any], name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "ansible.builtin.set_fact": values, **extra}


def runbook_facts(rb: Runbook) -> dict[str, Any]:
    """What notices and pages say about a runbook; its text stays literal."""
    return {
        "id": rb.id,
        "title": Unsafe(rb.title),
        "type": rb.type,
        "owner": Unsafe(rb.owner),
        "description": Unsafe(rb.description),
        "systems": list(rb.systems),
        "window_start": format_utc(rb.start),
        "window_end": format_utc(rb.end),
    }


def _controller(task: dict[str, Any]) -> dict[str, Any]:
    """A task on the controller, once, from a play on the targets."""
    return {**task, "delegate_to": "localhost", "run_once": True, "vars": CONTROLLER_VARS}


class Compiler:
    """Builds the four plays for one runbook."""

    def __init__(self, runbook: Runbook, target: Target) -> None:
        self.rb = runbook
        self.config = target.config
        self.file = target.runbook_file

    # shared pieces ----------------------------------------------------------------

    def root_path(self, path: str | os.PathLike[str]) -> str:
        relative = os.path.relpath(self.config.path(str(path)), self.config.root)
        return "{{ maintbook_root }}/" + relative.replace(os.sep, "/")

    def runbook_vars(self) -> dict[str, Any]:
        return runbook_facts(self.rb)

    def play_vars(self) -> dict[str, Any]:
        return {
            "maintbook_root": "{{ playbook_dir }}/../..",
            "maintbook_targets": self.rb.targets.hosts,
            "maintbook_runbook": self.runbook_vars(),
        }

    def channels(self) -> list[dict[str, Any]]:
        out = []
        for name in self.rb.notify:
            options = dict(self.config.channels[name])
            if options.get("type") == "outbox":
                options["path"] = self.root_path(options.get("path", ".maintbook/outbox"))
            out.append({"name": name, "config": options})
        return out

    def notice(self, kind: str, name: str, **args: Any) -> list[dict[str, Any]]:
        if not self.rb.notify:
            return []
        params: dict[str, Any] = {
            "notice": kind,
            "channel": "{{ item.name }}",
            "channel_config": "{{ item.config }}",
            "runbook": "{{ maintbook_runbook }}",
            "run_id": "{{ maintbook_run_id | default('manual') }}",
            "state_db": self.root_path(self.config.state),
            "retries": "{{ item.config.retries | default(3) }}",
            "retry_delay": "{{ item.config.retry_delay | default(2) }}",
        }
        if self.config.templates is not None:
            params["templates_dir"] = self.root_path(self.config.templates)
        params.update(args)
        return [
            {
                "name": name,
                "maintenance_notify": params,
                "loop": self.channels(),
                "loop_control": {"label": "{{ item.name }}"},
                "tags": ["notify"],
            }
        ]

    def page(self, state: str, name: str, **args: Any) -> dict[str, Any]:
        page = self.config.statuspage
        params: dict[str, Any] = {
            "provider": page.get("provider", "file"),
            "runbook_id": self.rb.id,
            "name": "{{ maintbook_runbook.title }}",
            "state": state,
            "scheduled_for": format_utc(self.rb.start),
            "scheduled_until": format_utc(self.rb.end),
            "components": list(self.rb.components),
        }
        if params["provider"] == "file":
            params["path"] = self.root_path(page.get("path", ".maintbook/status"))
        else:
            params["page_id"] = page["page_id"]
            params["api_key_env"] = page["api_key_env"]
            if "base_url" in page:
                params["base_url"] = page["base_url"]
        params.update(args)
        return {"name": name, "statuspage_maintenance": params}

    def window(self, state: str, name: str, **args: Any) -> dict[str, Any]:
        params: dict[str, Any] = {
            "state": state,
            "runbook_file": "{{ maintbook_root }}/" + self.file,
            "state_db": self.root_path(self.config.state),
            "run_id": "{{ maintbook_run_id | default('manual') }}",
            # The hosts the pattern names in this inventory, so reservations compare real hosts.
            "hosts": "{{ query('inventory_hostnames', maintbook_targets) }}",
        }
        if self.config.file:
            params["config_file"] = self.root_path(self.config.file)
        params.update(args)
        return {"name": name, "maintenance_window": params}

    def silence(self, state: str, name: str) -> list[dict[str, Any]]:
        if not self.rb.silence or not self.config.alertmanager:
            return []
        params: dict[str, Any] = {
            "url": self.config.alertmanager["url"],
            "runbook_id": self.rb.id,
            "state": state,
        }
        if state == "present":
            params.update(
                {
                    "matchers": list(self.rb.silence),
                    "starts_at": format_utc(self.rb.start),
                    "ends_at": format_utc(self.rb.end),
                    "created_by": "maintbook",
                    "comment": "{{ maintbook_runbook.title }}",
                }
            )
        return [{"name": name, "alertmanager_silence": params}]

    # plays ------------------------------------------------------------------------

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
        tasks = [
            {**self.window("check", "Check the maintenance window", **forced), "tags": ["always"]},
            {
                "name": "Open the maintenance",
                "tags": ["always"],
                "block": opening,
                "rescue": [
                    _set_fact(
                        {"maintbook_stop": True, "maintbook_open_failed": True},
                        "Record that opening failed",
                    )
                ],
            },
        ]
        return self.controller_play(f"Open maintenance {self.rb.id}", tasks)

    def precheck_play(self) -> dict[str, Any]:
        checks = [_step_task(s, "precheck", self.file) for s in self.rb.precheck]
        share = _controller(
            _set_fact(
                {"maintbook_stop": True, "maintbook_precheck_failed": True},
                "Stop the maintenance when a precheck failed",
                delegate_facts=True,
                when="ansible_play_hosts_all | map('extract', hostvars) "
                "| selectattr('maintbook_precheck_error', 'defined') | list | length > 0",
            )
        )
        tasks = [
            {
                "name": "Run the prechecks",
                "when": TARGET_WHEN,
                "tags": ["precheck"],
                "block": checks,
                "rescue": [
                    _set_fact(
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
                _with_own_rollback(step, self.file)
                if step.rollback
                else _step_task(step, "steps", self.file)
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
            tasks += [_step_task(s, "verify", self.file) for s in self.rb.verify]
        tasks.append(
            _set_fact(
                {"maintbook_outcome": "succeeded"},
                "Record that this host succeeded",
                tags=["always"],
            )
        )
        return tasks

    def rescue_block(self) -> list[dict[str, Any]]:
        undo = [_step_task(s, "rollback", self.file) for s in self.rb.rollback]
        outcome = (
            "{{ 'rollback_failed' if maintbook_rollback_failed | default(false) "
            "else 'rolled_back' }}"
        )
        return [
            _set_fact(
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
                    _set_fact(
                        {"maintbook_outcome": outcome}, "Record the rollback", tags=["always"]
                    ),
                ],
                "rescue": [
                    _set_fact(
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
                        _set_fact(
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
                _set_fact(
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
            _set_fact(
                {"maintbook_outcome": "excluded"},
                "Leave out hosts outside --limit",
                when="not (maintbook_in_limit | bool)",
            ),
            {
                "name": "Run the maintenance",
                "when": TARGET_WHEN,
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
            _set_fact({"maintbook_final": outcome}, "Work out the outcome", tags=["always"]),
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
