"""Runbook model → playbook data (plain lists and dicts): the lifecycle of SPEC §7, §10, §12.

Four plays, so that closing never depends on a target host surviving:

1. Open (controller): the gate and the lease (`maintenance_window`), the status page in
   progress, the alert silence, the start notice. A refusal ends the playbook before anything
   opens; an opening that fails stops the run before any change.
2. Precheck (every target at once): nothing has changed yet; a failure is a no-go.
3. Maintain (targets in `serial` batches): maintenance mode on, each step in a block whose
   rescue records the failure on its host. Before each step a host checks `go`: it has not
   failed, its batch has not failed (beyond `max_fail_percentage`, or a host dropped out), and
   the state database holds no stop for the run (an interrupt, the deadline). Then verify,
   maintenance mode off and the soak. Hosts that passed leave the play; the others undo what
   ran on them, newest first (each step's own rollback, then the runbook's where a step that
   changed something had none), run the prechecks again, and leave maintenance mode only when
   clean (SPEC §12).
4. Close (controller): how the maintenance ended, the page closed accordingly, the silence
   expired, the outcome notice, the lease released; then the playbook's exit status.

`unwind_plays` is the rollback half of the maintain play for `maintbook run` to call after an
interrupt, with what ran on each host given as extra variables.
"""

from __future__ import annotations

from typing import Any

from maintbook import expressions as x
from maintbook.calls import CONTROLLER_VARS, Calls, Target, literal
from maintbook.emit import Unsafe
from maintbook.model import Runbook, Step
from maintbook.tasks import guarded, needs_facts, set_fact, step_task
from maintbook.timeparse import format_duration, format_utc
from maintbook.vocabulary import StepRef

END_HOST = "ansible.builtin.meta"


def _controller(task: dict[str, Any]) -> dict[str, Any]:
    """A task on the controller, once per batch, from a play on the targets."""
    return {**task, "delegate_to": "localhost", "run_once": True, "vars": CONTROLLER_VARS}


def _end_host(when: str, name: str) -> dict[str, Any]:
    return {"name": name, END_HOST: "end_host", "when": when}


class Compiler(Calls):
    """Builds the plays of one runbook."""

    def __init__(self, runbook: Runbook, target: Target) -> None:
        super().__init__(runbook, target)
        self.refs: list[StepRef] = []
        self.names: dict[str, str] = {}
        self.patterns: dict[str, str] = {}
        self.max_fail = runbook.targets.max_fail_percentage or 0
        self.go = x.MAY_GO
        self._numbering()

    # ---------------------------------------------------------------- identity

    def _ref(self, phase: str, index: int, step: Step, undoes: str | None = None) -> StepRef:
        ref = StepRef(phase, index, step.name, undoes)
        self.refs.append(ref)
        self.names[ref.register] = step.name
        if step.hosts is not None and step.hosts not in self.patterns.values():
            self.patterns[f"p{len(self.patterns) + 1}"] = step.hosts
        return ref

    def _numbering(self) -> None:
        rb = self.rb
        self.pre = [(s, self._ref("precheck", i, s)) for i, s in enumerate(rb.precheck, 1)]
        self.main = [(s, self._ref("steps", i, s)) for i, s in enumerate(rb.steps, 1)]
        self.ver = [(s, self._ref("verify", i, s)) for i, s in enumerate(rb.verify, 1)]
        self.soak = [(s, self._ref("soak", i, s))
                     for i, s in enumerate(rb.soak.checks if rb.soak else (), 1)]
        count = 0
        self.own: dict[int, list[tuple[Step, StepRef]]] = {}
        for index, step in enumerate(rb.steps, 1):
            for own in step.rollback:
                count += 1
                self.own.setdefault(index, []).append(
                    (own, self._ref("rollback", count, own, undoes=step.name)))
        self.undo = [(s, self._ref("rollback", count + i, s)) for i, s in
                     enumerate(rb.rollback, 1)]
        self.re = [(s, self._ref("recheck", i, s)) for i, s in enumerate(rb.precheck, 1)]

    def _when(self, step: Step, extra: list[str]) -> list[str]:
        found = list(extra)
        if step.hosts is not None:
            key = next(k for k, v in self.patterns.items() if v == step.hosts)
            found.append(f"maintbook_on.{key}")
        return found

    def target_vars(self) -> dict[str, Any]:
        found: dict[str, Any] = {"maintbook_root": self.target.root_from_playbook,
                                 "maintbook_names": literal(self.names)}
        if self.patterns:
            found["maintbook_patterns"] = literal(self.patterns)
        return found

    # ---------------------------------------------------------------- plays

    def controller_play(self, name: str, tasks: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "name": name,
            "hosts": "localhost",
            "gather_facts": False,
            "vars": {**CONTROLLER_VARS, **self.play_vars(),
                     "maintbook_targets": Unsafe(self.rb.targets.hosts)},
            "tasks": tasks,
        }

    def target_play(self, name: str, tasks: list[dict[str, Any]], serial: bool = False,
                    facts: bool = False) -> dict[str, Any]:
        """A play on the targets; `facts`: one of its steps reads facts, so it gathers them
        (the tuned ansible.cfg gathers nothing unless a play asks)."""
        play: dict[str, Any] = {"name": name, "hosts": Unsafe(self.rb.targets.hosts),
                                "gather_facts": facts}
        if serial and self.rb.targets.serial is not None:
            play["serial"] = self.rb.targets.serial
        play["vars"] = {**self.target_vars(), x.TAKES_PART: x.takes_part(x.in_limit()),
                        x.BATCH_FAILED: x.batch_failed(self.max_fail), x.MAY_GO: x.go()}
        play["tasks"] = tasks
        return play

    def open_play(self) -> dict[str, Any]:
        start = "emergency" if self.rb.is_emergency else "start"
        opening = [
            self.page("in_progress", "Mark the maintenance in progress on the status page"),
            *self.silence("present", "Silence alerts for the window"),
        ]
        if start == "emergency" or "start" in self.context.notice_offsets:
            opening += self.notice(start, "Send the start notice")
        hosts = "{{ query('inventory_hostnames', maintbook_targets) }}"
        limit = f"{{{{ {x.LIMIT_HOSTS} if maintbook_limit is defined else omit }}}}"
        tasks = [
            {**self.window("open", "Open the maintenance: check the gate, take the lease",
                           run_id="{{ maintbook_run_id | default(omit) }}",
                           operator="{{ maintbook_operator | default(omit) }}",
                           force_reason="{{ maintbook_force_reason | default(omit) }}",
                           now="{{ maintbook_now | default(omit) }}",
                           occurrence="{{ maintbook_occurrence | default(omit) }}",
                           hosts=hosts, limit="{{ maintbook_limit | default(omit) }}",
                           limit_hosts=limit),
             "tags": ["always"]},
            {
                "name": "Open the status page, the silence and the notices",
                "tags": ["always"],
                "block": opening,
                "rescue": [set_fact(
                    {"maintbook_stop": True,
                     "maintbook_opening_error": "{{ ansible_failed_task.name }}: "
                     "{{ ansible_failed_result.msg | default('failed') }}"},
                    "Stop before any change: opening failed")],
            },
        ]
        return self.controller_play(f"Open maintenance {self.rb.maintenance_id}", tasks)

    def decide(self) -> list[dict[str, Any]]:
        """Whether this host takes part, decided once at the start of its batch."""
        values: dict[str, Any] = {
            "maintbook_go": f"{{{{ {x.TAKES_PART} }}}}",
            "maintbook_state": f"{{{{ 'running' if {x.TAKES_PART} else 'not_started' }}}}",
            **x.batch_copies(),
        }
        if self.patterns:
            values["maintbook_on"] = {k: f"{{{{ {x.on_hosts('maintbook_patterns.' + k)} }}}}"
                                      for k in self.patterns}
        return [set_fact(values, "Decide whether this host takes part", tags=["always"]),
                _end_host("not maintbook_go", "Leave out hosts that take no part")]

    def precheck_play(self) -> dict[str, Any]:
        stop = _controller(set_fact({"maintbook_stop": True, "maintbook_no_go": True},
                                    "Stop the maintenance: a precheck failed",
                                    delegate_facts=True))
        checks = [guarded(step_task(s, r, self.file, self._when(s, ["maintbook_go"])), r,
                          [stop]) for s, r in self.pre]
        dropped = "ansible_play_hosts_all | difference(ansible_play_hosts) | length > 0"
        lost = {**_controller(set_fact(
            {"maintbook_stop": True, "maintbook_no_go": True,
             "maintbook_opening_error": "{{ ansible_play_hosts_all | difference("
             "ansible_play_hosts) | join(', ') }} could not be reached for the prechecks"},
            "Stop the maintenance: a target could not be reached", delegate_facts=True)),
            "when": dropped, "tags": ["always"]}
        return self.target_play(f"Precheck {self.rb.maintenance_id}",
                                [*self.decide()[:1], *checks, lost],
                                facts=any(needs_facts(s) for s in self.rb.precheck))

    def _batch_args(self) -> dict[str, Any]:
        return {} if self.rb.targets.serial is None else {"batch": x.BATCH}

    def batch_start(self) -> list[dict[str, Any]]:
        """A rolling run counts its batches on the controller and says which one starts
        ("batch 2 of 4") on the status page and, with `progress_every`, in a progress
        notice. Only a batch where some host takes part gets here."""
        serial = self.rb.targets.serial
        if serial is None:
            return []
        count = _controller(set_fact(
            {"maintbook_batch_number": x.batch_number(),
             "maintbook_batch_total": x.batch_total(serial)},
            "Count the batch that starts", delegate_facts=True, tags=["always"]))
        shown = [self.page("in_progress", "Show the batch on the status page",
                           **self._batch_args())]
        if self.rb.progress_every is not None:
            shown += self.notice("progress", "Send a progress notice for the batch",
                                 message="{{ ansible_play_batch | join(', ') }} start",
                                 min_interval=int(self.rb.progress_every.total_seconds()),
                                 **self._batch_args())
        # Showing progress never fails a batch: an error stays in the task's result.
        return [count, *[{**_controller(t), "ignore_errors": True,
                          "register": "maintbook_batch_shown"} for t in shown]]

    def _maintenance_mode(self, on: bool, name: str, when: str) -> list[dict[str, Any]]:
        if not self.rb.maintenance_mode:
            return []
        return [{"name": name,
                 "ansible.builtin.include_role": {"name": "maintenance_mode"},
                 "vars": {"maintenance_mode_enabled": on},
                 "when": when,
                 "tags": ["always"]}]

    def forward(self) -> list[dict[str, Any]]:
        """Maintenance mode on, the steps, verify: each guarded, each behind `go`."""
        tasks = self._maintenance_mode(True, "Turn maintenance mode on", self.go)
        total = len(self.main)
        for position, (step, ref) in enumerate(self.main, 1):
            tasks.append(guarded(step_task(step, ref, self.file, self._when(step, [self.go])),
                                 ref, []))
            if self.rb.progress_every is not None and position < total:
                tasks += [{**_controller(t), "when": self.go} for t in self.notice(
                    "progress", "Send a progress notice",
                    message=Unsafe(f"Step {position} of {total} done: {step.name}"),
                    min_interval=int(self.rb.progress_every.total_seconds()),
                    **self._batch_args())]
        if self.ver:
            tasks.append({**_controller(self.page("verifying", "Mark the maintenance "
                                                  "verifying")), "when": self.go})
            tasks += [guarded(step_task(s, r, self.file, self._when(s, [self.go])), r, [])
                      for s, r in self.ver]
        tasks.append(set_fact({"maintbook_done": True}, "Record that every step and check "
                              "passed here", when=self.go, tags=["always"]))
        return tasks

    def soak_tasks(self) -> list[dict[str, Any]]:
        """The tasks of one soak round (an included file, looped over the rounds)."""
        assert self.rb.soak is not None
        wait = {"name": "Wait for the next soak round",
                "ansible.builtin.pause": {"seconds": max(1, int(
                    self.rb.soak.every.total_seconds()))},
                "when": self.go}
        checks = [guarded(step_task(s, r, self.file, self._when(s, [self.go])), r, [])
                  for s, r in self.soak]
        return [wait, *checks]

    def soak_include(self, file_name: str) -> list[dict[str, Any]]:
        if self.rb.soak is None:
            return []
        soak = self.rb.soak
        label = f"Soak for {format_duration(soak.duration)}, every {format_duration(soak.every)}"
        return [
            *self._maintenance_mode(False, "Turn maintenance mode off before the soak",
                                    "maintbook_done | default(false)"),
            {"name": label,
             "ansible.builtin.include_tasks": "{{ playbook_dir }}/" + file_name,
             "loop": f"{{{{ range(1, {soak.rounds + 1}) | list }}}}",
             "loop_control": {"loop_var": "maintbook_soak_round",
                              "label": "round {{ maintbook_soak_round }}"},
             "when": "maintbook_done | default(false)"},
        ]

    def what_to_undo(self) -> dict[str, Any]:
        registers = [(r.index, r.register) for _, r in self.main]
        roles = [r.index for s, r in self.main if s.kind == "role"]
        return set_fact({"maintbook_rollback": x.needs_rollback(),
                         "maintbook_ran": x.ran(registers),
                         "maintbook_changed": x.changed(registers, roles)},
                        "Decide what to undo on this host", tags=["always"])

    def _undo_block(self, name: str, when: str, steps: list[tuple[Step, StepRef]]
                    ) -> dict[str, Any]:
        tasks = [step_task(s, r, self.file, self._when(s, [])) for s, r in steps]
        return {
            "name": name,
            "when": when,
            "tags": ["rollback"],
            "block": [*tasks, set_fact({"maintbook_undone": True}, "Record the undo",
                                       tags=["always"])],
            "rescue": [set_fact({"maintbook_rollback_failed": True,
                                 "maintbook_rollback_error": x.failure(
                                     "rollback", 0, "ansible_failed_task.name")},
                                "Record that the rollback failed", tags=["always"])],
        }

    def rollback_section(self) -> list[dict[str, Any]]:
        """Undo what ran here, newest first, then the prechecks again; the end state."""
        tasks: list[dict[str, Any]] = [
            {**_controller(t), "ignore_errors": True, "register": "maintbook_rollback_notice"}
            for t in self.notice(
                "rollback", "Send the rollback notice",
                message="{{ ansible_play_batch | join(', ') }} roll back")]
        tasks += self._maintenance_mode(True, "Drain this host again before rolling back",
                                        "maintbook_ran | length > 0")
        for index in sorted(self.own, reverse=True):
            tasks.append(self._undo_block(f"Undo step {index}", x.undo_own(index),
                                          self.own[index]))
        if self.undo:
            tasks.append(self._undo_block("Run the runbook's rollback",
                                          x.undo_runbook(sorted(self.own)), self.undo))
        failed = set_fact({"maintbook_rollback_failed": True},
                          "Record that the prechecks fail after the rollback", tags=["always"])
        tasks += [guarded(step_task(s, r, self.file, self._when(
            s, ["maintbook_undone | default(false)",
                "not (maintbook_rollback_failed | default(false))"])), r, [failed],
            fact="maintbook_rollback_error") for s, r in self.re]
        tasks.append(set_fact({"maintbook_state": x.end_state(self.rb.maintenance_mode)},
                              "Record this host's end state", tags=["always"]))
        tasks += self._maintenance_mode(False, "Turn maintenance mode off where the rollback "
                                        "left the host clean", x.clean())
        tasks.append({**_controller(set_fact(
            {"maintbook_stop": f"{{{{ {x.run_stopped()} or {x.BATCH_FAILED} }}}}"},
            "Stop later batches when this one failed", delegate_facts=True)),
            "tags": ["always"]})
        return tasks

    def maintain_play(self, soak_file: str) -> dict[str, Any]:
        passed = [
            self.what_to_undo(),
            set_fact({"maintbook_state": "succeeded"}, "Record that this host succeeded",
                     when="not maintbook_rollback", tags=["always"]),
            *([] if self.rb.soak else self._maintenance_mode(
                False, "Turn maintenance mode off", "not maintbook_rollback")),
            _end_host("not maintbook_rollback", "Finish hosts that succeeded"),
        ]
        tasks = [*self.decide(), *self.batch_start(), *self.forward(),
                 *self.soak_include(soak_file), *passed,
                 *self.rollback_section()]
        return self.target_play(f"Maintain {self.rb.maintenance_id}", tasks, serial=True,
                                facts=self.maintain_reads_facts())

    def maintain_reads_facts(self) -> bool:
        """A step, check or rollback of the maintain play (or its unwind) reads facts."""
        rb = self.rb
        every = [*rb.precheck, *rb.steps, *rb.verify, *rb.rollback,
                 *(rb.soak.checks if rb.soak else ())]
        return any(needs_facts(s) for s in every)

    def close_play(self) -> dict[str, Any]:
        ending = {
            "host_states": x.host_table("maintbook_run.hosts", "maintbook_state",
                                        "'not_started'"),
            "failures": x.host_table("maintbook_run.hosts", "maintbook_failure", "none"),
            "rollback_errors": x.host_table("maintbook_run.hosts", "maintbook_rollback_error",
                                            "none"),
            "no_go": "{{ maintbook_no_go | default(false) }}",
            "opening_error": "{{ maintbook_opening_error | default(omit) }}",
            "interrupted": "{{ maintbook_interrupted | default(false) }}",
            "maintenance_mode": self.rb.maintenance_mode,
        }
        closing = {
            "page": [self.page("closed", "Close the status page entry as the maintenance "
                               "ended", ending="{{ maintbook_end }}")],
            "silence": self.silence("absent", "Expire the alert silence"),
            "notice": self.notice("complete", "Send the outcome notice",
                                  ending="{{ maintbook_end }}"),
        }
        for name, tasks_of in closing.items():
            for task in tasks_of:
                task.update(ignore_errors=True, register=f"maintbook_closing_{name}",
                            tags=["always"])
        results = "{" + ", ".join(f"'{name}': maintbook_closing_{name}"
                                  for name, found in closing.items() if found) + "}"
        tasks = [
            {**self.window("ended", "Work out how the maintenance ended", **ending),
             "tags": ["always"]},
            *[task for found in closing.values() for task in found],
            {**self.window("released", "Release the window and record the outcome",
                           ending="{{ maintbook_end }}",
                           closing=f"{{{{ {results} }}}}"),
             "tags": ["always"]},
            {"name": "Finish with the outcome", "tags": ["always"],
             "ansible.builtin.assert": {
                 "that": ["maintbook_end.outcome == 'succeeded'",
                          "maintbook_release.closing_errors | length == 0"],
                 "quiet": True,
                 "fail_msg": "The maintenance ended {{ maintbook_end.outcome }}"
                             "{{ '; closing failed: ' ~ (maintbook_release.closing_errors "
                             "| join('; ')) if maintbook_release.closing_errors else '' }}"}},
        ]
        return self.controller_play(f"Close maintenance {self.rb.maintenance_id}", tasks)

    def plays(self, soak_file: str) -> list[dict[str, Any]]:
        plays = [self.open_play()]
        if self.pre:
            plays.append(self.precheck_play())
        plays += [self.maintain_play(soak_file), self.close_play()]
        return plays

    def unwind_plays(self) -> list[dict[str, Any]]:
        """Roll back what ran (given per host in `maintbook_unwind`), then close."""
        seed = set_fact({
            "maintbook_go": False,
            "maintbook_rollback": "{{ inventory_hostname in maintbook_unwind }}",
            "maintbook_ran": "{{ (maintbook_unwind[inventory_hostname] | default({})).ran "
                             "| default([]) }}",
            "maintbook_changed": "{{ (maintbook_unwind[inventory_hostname] | default({}))"
                                 ".changed | default([]) }}",
            **x.batch_copies(),
        }, "Take what ran on this host before the interrupt", tags=["always"])
        tasks = [seed, _end_host("not maintbook_rollback", "Leave hosts with nothing to undo"),
                 *self.rollback_section()]
        return [self.target_play(f"Unwind {self.rb.maintenance_id} after an interrupt", tasks,
                                 facts=self.maintain_reads_facts()),
                self.close_play()]


def playbook_header(runbook: Runbook, target: Target) -> str:
    return (
        f"Compiled by maintbook from {target.runbook_file}: do not edit, edit the runbook.\n"
        f"{runbook.maintenance_id} ({runbook.type}), window {format_utc(runbook.start)} "
        f"to {format_utc(runbook.end)}."
    )


def soak_file_name(stem: str) -> str:
    return f"{stem}.soak.yml"


