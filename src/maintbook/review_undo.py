"""What rolls back when each step fails (SPEC §12), read from the runbook alone.

On a failure each host undoes what ran on it, newest first: the own `rollback` of every
step that ran there (the failing one included), then the runbook's `rollback` if a step
that ran there changed something and had no own rollback. The compiled playbook decides
"changed" from each step's result: a failed step counts as changed, and so does a role
step once it started; any other step counts when Ansible reported a change. So the page
says "yes" where the rule is certain from the runbook, and "if step N changed something"
where the run decides. A precheck failure changes nothing (no_go), and after a rollback
the prechecks run again (pass: rolled_back; fail: rollback_failed).
"""

from __future__ import annotations

from dataclasses import dataclass

from maintbook.model import Runbook, Step


@dataclass(frozen=True)
class Undo:
    failing: str  # `steps 2 'Restart PostgreSQL'`, `verify`, `soak`, `precheck`
    own: tuple[str, ...]  # own rollback steps, newest first: `'Revert' (step 3)`
    runbook: str  # yes | no | if step 1 or 2 changed something | none: no runbook rollback


def _own(steps: tuple[Step, ...], upto: int) -> tuple[str, ...]:
    return tuple(f"{undo.name!r} (step {index})"
                 for index in range(upto, 0, -1) for undo in steps[index - 1].rollback)


def _steps_text(numbers: list[int], conjunction: str) -> str:
    words = [str(n) for n in numbers]
    joined = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conjunction} {words[-1]}"
    return ("step " if len(words) == 1 else "steps ") + joined


def _runbook_rollback(rb: Runbook, ran: int, failing: int | None) -> str:
    """Whether the runbook's rollback runs after steps 1..ran, `failing` one of them."""
    if not rb.rollback:
        return "none: the runbook has no rollback"
    if failing is not None and not rb.steps[failing - 1].rollback:
        return f"yes: step {failing} failed and has no rollback of its own"
    bare = [n for n in range(1, ran + 1) if n != failing and not rb.steps[n - 1].rollback]
    if not bare:
        return "no: every step that ran has its own rollback"
    roles = [n for n in bare if rb.steps[n - 1].kind == "role"]
    if len(roles) == 1:
        return (f"yes: step {roles[0]} is a role without a rollback of its own (a role counts "
                "as changed once it ran)")
    if roles:
        return (f"yes: {_steps_text(roles, 'and')} are roles without rollbacks of their own "
                "(a role counts as changed once it ran)")
    return f"if {_steps_text(bare, 'or')} changed something"


def undo_plan(rb: Runbook) -> tuple[Undo, ...]:
    """One entry per way to fail: the precheck, each step, the verify, the soak."""
    count = len(rb.steps)
    plan = [Undo("precheck", (), "no: nothing has changed yet (no_go)")]
    for index, step in enumerate(rb.steps, 1):
        plan.append(Undo(f"steps {index} {step.name!r}", _own(rb.steps, index),
                         _runbook_rollback(rb, index, index)))
    if rb.verify:
        plan.append(Undo("verify", _own(rb.steps, count), _runbook_rollback(rb, count, None)))
    if rb.soak is not None:
        plan.append(Undo("soak", _own(rb.steps, count), _runbook_rollback(rb, count, None)))
    return tuple(plan)
