"""The Jinja programs of the compiled playbook, named and kept in one place (STYLE.md).

Each function returns one expression (no `{{ }}` unless it is a whole value) and says what
it decides. tests/fleet/test_batches.py renders the batch counts with Ansible's own templar;
the run tests exercise the rest in real playbooks.

Facts they read, per target host:
- `maintbook_go`: this host takes part (inside --limit, the run opened, not stopped at start);
- `maintbook_run`: the controller's `maintbook_run`, copied when its batch started;
- `maintbook_batch`: the hosts of this host's batch when it started;
- `maintbook_state`: `running` from the batch start until the host's end state is known;
- `maintbook_failure`: set when a step, check or precheck failed on this host;
- `maintbook_done`: every step and verify check passed here.
On the controller (`hostvars['localhost']`): `maintbook_run` (what the open step returned)
and `maintbook_stop` (the whole run stops: a precheck failed, opening failed, a batch failed).
"""

from __future__ import annotations

from collections.abc import Sequence

from maintbook.lifecycle import CLEAN_HOST_STATES

CONTROLLER = "hostvars['localhost']"
RUN = f"{CONTROLLER}.maintbook_run"
# Play variables of the maintain play: evaluated afresh, for the host at hand, at each use.
MAY_GO = "maintbook_may_go"
TAKES_PART = "maintbook_takes_part"
BATCH_FAILED = "maintbook_batch_failed"
# The hosts `maintbook run --limit P` names (the extra variable `maintbook_limit` holds P).
LIMIT_HOSTS = "query('inventory_hostnames', maintbook_limit)"


def batch_total(serial: int | str) -> str:
    """How many batches of this run hold a host that takes part: Ansible cuts the play's
    hosts into batches of `serial` (a count, or a percentage rounded down and at least 1, as
    Ansible's `pct_to_int`), and with `--limit` a batch without a limited host never starts,
    so it is not counted ("batch 2 of 2", never "of 4"). A whole value."""
    hosts = "ansible_play_hosts_all"
    if isinstance(serial, str) and serial.endswith("%"):
        size = f"([(({int(serial[:-1])} / 100.0) * ({hosts} | length)) | int, 1] | max)"
    else:
        size = str(int(serial))
    limited = f"({LIMIT_HOSTS} if maintbook_limit is defined else {hosts})"
    return (f"{{{{ {hosts} | batch({size}) | map('select', 'in', {limited}) | map('list') "
            "| select | list | length }}")


def batch_number() -> str:
    """The batch that starts now: one more than the last one counted on the controller.
    A whole value."""
    return f"{{{{ ({CONTROLLER}.maintbook_batch_number | default(0) | int) + 1 }}}}"


# The current batch, as the status-page and notice plugins take it (`batch:`).
BATCH = (f"{{{{ {{'number': {CONTROLLER}.maintbook_batch_number | int, "
         f"'total': {CONTROLLER}.maintbook_batch_total | int}} }}}}")


def run_stopped() -> str:
    """The whole run stops: a precheck failed, opening failed, or an earlier batch failed."""
    return f"({CONTROLLER}.maintbook_stop | default(false))"


def batch_failed(max_fail: int) -> str:
    """This batch failed: more of its hosts failed than `max_fail_percentage` allows (any,
    by default), or a host dropped out of it (unreachable). A whole value.

    A batch of one host (every run of a single target, and `serial: 1`) is decided by that
    host's own failure: reading each batch host's variables through `hostvars` costs Ansible
    tens of milliseconds."""
    failures = ("maintbook_batch | map('extract', hostvars) | selectattr('maintbook_failure', "
                "'defined') | list | length")
    failed = f"({failures} > 0)" if max_fail == 0 else \
        f"({failures}) * 100 > {max_fail} * (maintbook_batch | length)"
    dropped = (
        "maintbook_batch | difference(ansible_play_batch) | map('extract', hostvars, "
        "'maintbook_state') | select('eq', 'running') | list | length > 0"
    )
    alone = "maintbook_failure is defined" if max_fail < 100 else "false"
    return (f"{{{{ ({alone}) if maintbook_batch | length == 1 "
            f"else ({failed} or ({dropped})) }}}}")


def batch_copies() -> dict[str, str]:
    """The facts a host copies when its batch starts, and again when an unwind seeds it: the
    controller's run and the hosts of the batch, which the checks before every step read
    (`go`, `batch_failed`). Whole values, for a set_fact."""
    return {"maintbook_run": f"{{{{ {RUN} }}}}", "maintbook_batch": "{{ ansible_play_batch }}"}


def go() -> str:
    """A new step may start on this host: it takes part, has not failed, its batch goes on,
    and the state database has no stop for the run (interrupt, cancel, deadline).
    A whole value.

    Evaluated before every step, so it reads this host's own facts, not the controller's
    through `hostvars` (which costs Ansible milliseconds each time). The controller's
    `maintbook_stop` is in `maintbook_go` already: it changes only between batches (opening,
    prechecks, a failed batch), before the next batch decides."""
    return (
        "{{ maintbook_go and maintbook_failure is not defined "
        f"and not {BATCH_FAILED} and lookup('maintbook_run', maintbook_run) }}}}"
    )


def takes_part(in_limit: str) -> str:
    """Decided once per host at its batch's start."""
    return f"{{{{ ({in_limit}) and {RUN}.status in ['opened', 'adopted', 'check'] " \
        f"and not {run_stopped()} }}}}"


def in_limit() -> str:
    """`maintbook run --limit P` narrows the target plays only."""
    return f"maintbook_limit is not defined or inventory_hostname in {LIMIT_HOSTS}"


def on_hosts(pattern_var: str) -> str:
    """The step's `hosts:` pattern (a play variable holding literal text) names this host."""
    return f"inventory_hostname in query('inventory_hostnames', {pattern_var})"


def ran(registers: Sequence[tuple[int, str]]) -> str:
    """The step indices that started on this host (failed ones included), from their
    registered results; a step that never started has none, a skipped one says so."""
    items = ", ".join(f"[{index}, '{name}']" for index, name in registers)
    return (
        "{% set found = [] %}"
        f"{{% for index, name in [{items}] %}}"
        "{% set r = lookup('vars', name, default='') %}"
        "{% if r and r is not skipped %}{% set _ = found.append(index) %}{% endif %}"
        "{% endfor %}{{ found }}"
    )


def changed(registers: Sequence[tuple[int, str]], always: Sequence[int]) -> str:
    """The step indices that changed something here (`always`: role steps, which count as
    changed once they started)."""
    items = ", ".join(f"[{index}, '{name}']" for index, name in registers)
    return (
        "{% set found = [] %}"
        f"{{% for index, name in [{items}] %}}"
        "{% set r = lookup('vars', name, default='') %}"
        "{% if r and r is not skipped and (r is changed or r is failed "
        f"or index in {list(always)}) %}}{{% set _ = found.append(index) %}}{{% endif %}}"
        "{% endfor %}{{ found }}"
    )


def needs_rollback() -> str:
    """This host undoes what ran on it: it failed, did not finish, or its batch failed."""
    return (
        "{{ maintbook_failure is defined or not (maintbook_done | default(false)) "
        f"or {BATCH_FAILED} }}}}"
    )


def undo_own(index: int) -> str:
    return f"maintbook_rollback and {index} in maintbook_ran"


def undo_runbook(own: Sequence[int]) -> str:
    """The runbook's rollback: a step that changed something here had no own rollback."""
    return f"maintbook_rollback and (maintbook_changed | difference({list(own)}) | length > 0)"


def end_state(maintenance_mode: bool) -> str:
    """The host's end state (SPEC §9): succeeded, rolled_back, rollback_failed, drained or
    failed (a failure with nothing rolled back), not_started."""
    stuck = "drained" if maintenance_mode else "failed"
    return (
        "{{ 'succeeded' if not maintbook_rollback "
        "else 'rollback_failed' if maintbook_rollback_failed | default(false) "
        "else 'rolled_back' if maintbook_undone | default(false) "
        "else 'not_started' if maintbook_ran | length == 0 and maintbook_failure is not defined "
        f"else 'rolled_back' if maintbook_failure is not defined else '{stuck}' }}}}"
    )


def clean() -> str:
    """Maintenance mode goes off here: the host ended in a clean state."""
    return f"maintbook_state in {list(CLEAN_HOST_STATES)}"


def failure(phase: str, index: int, name_var: str) -> str:
    """What a rescue records about the failure it caught (msg, rc, the stderr tail)."""
    return (
        f"{{{{ {{'phase': '{phase}', 'index': {index}, 'step': {name_var}, "
        "'host': inventory_hostname, "
        "'msg': ansible_failed_result.msg | default('failed') | string | truncate(2000), "
        "'rc': ansible_failed_result.rc | default(none), "
        "'stderr': (ansible_failed_result.stderr_lines | default([]))[-20:], "
        "'task': ansible_failed_task.name | default('')} }}"
    )


def host_table(hosts: str, fact: str, default: str) -> str:
    """{host: that host's `fact`} for every host of the list `hosts`, for the controller."""
    return (
        "{% set table = {} %}"
        f"{{% for host in {hosts} %}}"
        f"{{% set _ = table.update({{host: hostvars[host].{fact} | default({default})}}) %}}"
        "{% endfor %}{{ table }}"
    )
