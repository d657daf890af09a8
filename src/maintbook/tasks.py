"""One runbook step → one Ansible task; a step in its block, with the rescue that records it.

One small function per concern: the module call of each action kind, the step options of
SPEC §2, the lint notes for what the author chose on purpose, and the block that catches a
failure and records it on the host. Only action arguments and `when` stay templatable; every
other text a runbook gives (names, host patterns, delegate_to) goes in as literal data.
"""

from __future__ import annotations

import json
import re
from typing import Any

from maintbook.emit import Commented, Unsafe
from maintbook.expressions import failure
from maintbook.model import Step
from maintbook.timeparse import parse_duration
from maintbook.vocabulary import LABEL, StepRef

READ_ONLY = ("precheck", "verify", "soak", "recheck")
# Rules that judge the author's own choices (a shell, a command line, literal braces in a
# step name), which the compiled task keeps exactly as the runbook says.
AUTHOR_CHOICE_RULES = {
    "shell": ("command-instead-of-module", "command-instead-of-shell", "risky-shell-pipe"),
    "command": ("command-instead-of-module",),
}


# Facts a step can read (`ansible_facts`, or the names Ansible injects from them): with
# `gathering = explicit`, a target play gathers facts only when one of its steps reads one.
FACT_NAMES = re.compile(
    r"\bansible_(facts|distribution\w*|os_family|hostname|fqdn|nodename|domain|"
    r"default_ipv[46]|all_ipv[46]_addresses|interfaces|memtotal_mb|memfree_mb|swaptotal_mb|"
    r"processor\w*|kernel\w*|architecture|machine\w*|date_time|env|mounts|devices|lsb|"
    r"pkg_mgr|service_mgr|system\w*|uptime_seconds|virtualization_\w+|user_id)\b")


def needs_facts(step: Step) -> bool:
    """The step's templated parts (its action, vars, `when`) or its own rollback read facts.

    >>> needs_facts(Step("Patch", "command", "apt-get -y upgrade", 1))
    False
    >>> needs_facts(Step("Patch", "command", "echo {{ ansible_distribution }}", 1))
    True
    """
    text = json.dumps([step.action, step.vars, step.when], default=str)
    return bool(FACT_NAMES.search(text)) or any(needs_facts(s) for s in step.rollback)


def _seconds(delta: Any) -> int:
    return max(1, int(delta.total_seconds()))


def _http(step: Step) -> dict[str, Any]:
    http = dict(step.action)
    args: dict[str, Any] = {"url": http["url"], "method": http.get("method", "GET")}
    status = http.get("status", 200)
    args["status"] = status if isinstance(status, list) else [status]
    if "contains" in http:
        args["contains"] = Unsafe(http["contains"])
    if "max_latency" in http:
        args["max_latency_ms"] = int(parse_duration(http["max_latency"]).total_seconds() * 1000)
    for key in ("headers", "body", "validate_certs"):
        if key in http:
            args[key] = http[key]
    return {"http_check": args}


def action(step: Step, phase: str) -> dict[str, Any]:
    """The module call of one step."""
    if step.kind == "role":
        prefix = f"{step.action}_"
        role_vars = {k if k.startswith(prefix) else prefix + k: v for k, v in step.vars.items()}
        call: dict[str, Any] = {"ansible.builtin.include_role": {"name": step.action}}
        apply: dict[str, Any] = {}
        if step.timeout is not None:
            apply["timeout"] = _seconds(step.timeout)
        if step.delegate_to is not None:  # a role's tasks run where the step says
            apply["delegate_to"] = Unsafe(step.delegate_to)
        if apply:
            call["ansible.builtin.include_role"]["apply"] = apply
        if role_vars:
            call["vars"] = role_vars
        return call
    if step.kind in ("command", "shell"):
        return {f"ansible.builtin.{step.kind}": {"cmd": step.action},
                "changed_when": phase not in READ_ONLY}
    if step.kind == "http":
        return _http(step)
    if step.kind == "wait":
        return {"ansible.builtin.pause": {"seconds": _seconds(parse_duration(step.action))}}
    module = step.action
    return {module["name"]: dict(module.get("args", {}))}


def _noqa(step: Step, name: str) -> str:
    rules = list(AUTHOR_CHOICE_RULES.get(step.kind, ()))
    if any(marker in name for marker in ("{{", "{%", "{#")):
        rules.append("name[template]")
    return "noqa: " + " ".join(rules) if rules else ""


def step_task(step: Step, ref: StepRef, file: str, when: list[str]) -> Commented:
    """A step as a task: its name, the action, the options of SPEC §2, and its register."""
    task = Commented(f"{file}:{step.line}", {"name": Unsafe(ref.task)})
    task.trailing = _noqa(step, ref.task)
    task.update(action(step, ref.phase))
    if step.timeout is not None and step.kind != "role":
        task["timeout"] = _seconds(step.timeout)
    task["register"] = ref.register
    if step.retries and step.kind != "role":
        task["retries"] = step.retries
        task["delay"] = _seconds(step.delay) if step.delay else 5
        task["until"] = f"{ref.register} is succeeded"
    conditions = [*when, *([step.when] if step.when is not None else [])]
    if conditions:
        task["when"] = conditions if len(conditions) > 1 else conditions[0]
    if step.run_once is not None:
        task["run_once"] = step.run_once
    if step.delegate_to is not None and step.kind != "role":
        task["delegate_to"] = Unsafe(step.delegate_to)
    task["tags"] = [ref.phase if ref.phase in ("precheck", "steps", "verify") else "rollback",
                    *step.tags]
    return task


def guarded(task: Commented, ref: StepRef, record: list[dict[str, Any]],
            fact: str = "maintbook_failure") -> dict[str, Any]:
    """The step in a block whose rescue records the failure on the host in `fact` (then
    runs `record`)."""
    name_var = f"maintbook_names[{ref.register!r}]"
    return {
        "name": f"{LABEL[ref.phase]} {ref.index}, its failure recorded",
        "block": [task],
        "rescue": [
            set_fact({fact: failure(ref.phase, ref.index, name_var)},
                     "Record the failure on this host", tags=["always"]),
            *record,
        ],
    }


def set_fact(values: dict[str, Any], name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "ansible.builtin.set_fact": values, **extra}
