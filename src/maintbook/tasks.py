"""One runbook step → one Ansible task (or a block, for a step with its own rollback).

One small function per concern: the task name, the module call of each action kind,
the step options of SPEC §2, and the lint notes for what the author chose on purpose.
"""

from __future__ import annotations

from typing import Any

from maintbook.emit import Commented, Unsafe
from maintbook.model import Step
from maintbook.timeparse import parse_duration

PHASE_LABEL = {"precheck": "Precheck", "steps": "Step", "verify": "Verify", "rollback": "Rollback"}


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


def step_task(step: Step, phase: str, file: str, parent: Step | None = None) -> dict[str, Any]:
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


def with_own_rollback(step: Step, file: str) -> dict[str, Any]:
    """A step with its own rollback: undo it on failure, then fail on to the runbook's."""
    undo = [step_task(s, "rollback", file, parent=step) for s in step.rollback]
    name = f"Step | {step.name} (with its rollback)"
    wrapper = Commented(
        f"{file}:{step.line}",
        {
            "name": Unsafe(name),
            "block": [step_task(step, "steps", file)],
            "rescue": [
                {
                    "name": Unsafe(f"Roll back step | {step.name}"),
                    "block": undo,
                    "rescue": [
                        set_fact(
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


def set_fact(values: dict[str, Any], name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "ansible.builtin.set_fact": values, **extra}
