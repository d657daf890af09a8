"""Action plugin `maintenance_window`: open a run (gate and lease), work out how it ended,
release it (SPEC §6, §10)."""

from __future__ import annotations

import getpass
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from maintbook.config import Config, default_config, load_config
from maintbook.context import Context, at_occurrence, gate_runbook, series_runbook
from maintbook.errors import UsageError
from maintbook.lifecycle import INTERRUPTED, drained, run_outcome
from maintbook.plugins.base import LifecycleAction, plain
from maintbook.runtime.closing import Ending, release
from maintbook.runtime.opening import Opened, Request, open_run
from maintbook.secrets import env_names, lookup
from maintbook.store import leases, runs
from maintbook.timeparse import format_utc, parse_rfc3339

IMPLICIT_LOCALHOST = ("localhost", "127.0.0.1")


def _config(ctx: Context) -> Config:
    if not ctx.config_file:
        return default_config(Path.cwd())
    config, problems = load_config(Path(ctx.config_file), warnings=False)
    if config is None:
        raise UsageError("maintbook.yml is not valid: " + "; ".join(p.message for p in problems))
    return config


def _hosts(given: list[str], pattern: str) -> tuple[str, ...]:
    return tuple(given) or ((pattern,) if pattern in IMPLICIT_LOCALHOST else ())


def run_facts(ctx: Context, opened: Opened, hosts: tuple[str, ...], operator: str,
              check: bool) -> dict[str, Any]:
    return {
        "run_id": opened.run_id,
        "status": opened.status,
        "deadline": opened.deadline,
        "retry": opened.retry,
        "check": check,
        "hosts": list(hosts),
        "operator": operator,
        "state": {"path": str(ctx.state.path) if ctx.state.path else None,
                  "url": ctx.state.url, "password_env": ctx.state.password_env},
        "refused": [r.message for r in opened.refusals],
    }


def _scrub(text: str, ctx: Context) -> str:
    for name in env_names([c.options for c in ctx.channels]):
        value = lookup(name)
        if value:
            text = text.replace(value, "********")
    return text


class ActionModule(LifecycleAction):
    def work(self, args: dict[str, Any], check: bool, now: datetime) -> dict[str, Any]:
        ctx = self.context(args)
        if args.get("now"):
            now = parse_rfc3339(str(args["now"]))
        handler = getattr(self, f"state_{args['state']}")
        result: dict[str, Any] = handler(args, ctx, check, now)
        return result

    def state_open(self, args: dict[str, Any], ctx: Context, check: bool, now: datetime
                   ) -> dict[str, Any]:
        given = args.get("occurrence")
        if ctx.series is not None and not (given and given == ctx.facts.occurrence):
            ctx = resolve_occurrence(ctx, _config(ctx), now, args.get("occurrence"),
                                     ahead=bool(args.get("force_reason")) or check)
        hosts = _hosts(plain(args.get("hosts") or []), ctx.gate.targets)
        limit = args.get("limit")
        limited = set(_hosts(plain(args.get("limit_hosts") or []), limit or ""))
        operator = str(args.get("operator") or getpass.getuser())
        run_id = str(args.get("run_id") or
                     f"{ctx.facts.maintenance}-{now.strftime('%Y%m%dT%H%M%S%fZ')}")
        request = Request(run_id=run_id, operator=operator, check=check,
                          forced_reason=args.get("force_reason"), hosts=hosts, limit=limit,
                          limit_matched=limit is None or bool(limited & set(hosts)),
                          pid=os.getppid())
        store = self.store(ctx)
        try:
            opened = open_run(store, gate_runbook(ctx), ctx, _config(ctx).policy, request, now)
        finally:
            store.close()
        run = run_facts(ctx, opened, hosts, operator, check)
        facts = {"maintbook_run": run, "maintbook_context": ctx.to_dict(),
                 "maintbook_root_dir": str(args["root"])}
        if opened.refused:
            return {"failed": True, "refused": True, "reasons": run["refused"],
                    "msg": "refused: " + "; ".join(r.message for r in opened.refusals),
                    "ansible_facts": facts}
        return {"changed": opened.status == "opened", "ansible_facts": facts}

    def state_ended(self, args: dict[str, Any], ctx: Context, check: bool, now: datetime
                    ) -> dict[str, Any]:
        run = plain(args["run"])
        table = {h: ("unreachable" if s == "running" else s)
                 for h, s in plain(args.get("host_states") or {}).items()}
        failures = [f for f in plain(args.get("failures") or {}).values() if f]
        failures += [f for f in plain(args.get("rollback_errors") or {}).values() if f]
        store = self.store(ctx)
        try:
            with store.write() as tx:
                lease = leases.get(tx, run["run_id"])
                stop = lease.stop if lease else None
                interrupted = bool(args.get("interrupted")) or stop == "interrupt"
                outcome = INTERRUPTED if interrupted else run_outcome(
                    table, no_go=bool(args.get("no_go")))
                note = str(args.get("opening_error") or "")
                left = drained(table) if args.get("maintenance_mode") else []
                ending = Ending(outcome, table, tuple(failures), tuple(left), stop,
                                _scrub(note, ctx), check, bool(run.get("retry")))
                runs.update_summary(tx, run["run_id"], ending.summary())
        finally:
            store.close()
        masked = [{**f, "msg": _scrub(str(f.get("msg", "")), ctx),
                   "stderr": [_scrub(str(line), ctx) for line in f.get("stderr") or []]}
                  for f in ending.failures]
        end = {**ending.summary(), "outcome": outcome, "check": check,
               "retry": ending.retry, "failures": masked}
        return {"changed": False, "ansible_facts": {"maintbook_end": end}}

    def state_released(self, args: dict[str, Any], ctx: Context, check: bool, now: datetime
                       ) -> dict[str, Any]:
        run, end = plain(args["run"]), plain(args["ending"])
        errors = [f"{name}: {result.get('msg', 'failed')}"
                  for name, result in plain(args.get("closing") or {}).items()
                  if isinstance(result, dict) and result.get("failed")]
        errors = [_scrub(e, ctx) for e in errors]
        ending = ending_of(end)
        store = self.store(ctx)
        try:
            release(store, ctx, run["run_id"], ending, now, errors)
        finally:
            store.close()
        facts = {"maintbook_release": {"closing_errors": errors, "outcome": ending.outcome,
                                       "released_at": format_utc(now)}}
        return {"changed": not check, "ansible_facts": facts}

    def state_check(self, args: dict[str, Any], ctx: Context, check: bool, now: datetime
                    ) -> dict[str, Any]:
        return self.state_open(args, ctx, True, now)


def resolve_occurrence(ctx: Context, config: Config, now: datetime, occurrence: str | None,
                       *, ahead: bool) -> Context:
    """A recurring runbook's playbook runs the occurrence it is given, else the one whose
    run window is open now (with `ahead`, a forced or check run: the next one), as the
    policy places it; `maintbook run` gives the occurrence it compiled, already placed among
    the other runbooks, which is then used as compiled."""
    from datetime import UTC

    from maintbook.recurrence import NO_NOTICE, current_occurrence, next_occurrence, occurrences

    series = series_runbook(ctx)
    policy = config.policy
    if occurrence:
        planned = datetime.strptime(occurrence, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
        found = occurrences(series, policy, start=planned, end=planned + timedelta(seconds=1),
                            now=now, first=NO_NOTICE)
        chosen = found[0] if found else None
    else:
        chosen = current_occurrence(series, policy, now=now, first=NO_NOTICE)
        if (chosen is None or not chosen.takes_place) and ahead:
            chosen = next_occurrence(series, policy, now=now, first=NO_NOTICE)
    if chosen is None or not chosen.takes_place:
        raise UsageError(f"{series.id}: no occurrence of {ctx.series.rrule if ctx.series else ''}"
                         " is open now (a forced run takes the next one)")
    return at_occurrence(ctx, chosen.runbook)


def ending_of(end: dict[str, Any]) -> Ending:
    """The ending a `maintbook_end` fact describes."""
    return Ending(
        outcome=str(end["outcome"]),
        hosts=dict(end.get("hosts") or {}),
        failures=tuple(end.get("failures") or ()),
        drained=tuple(end.get("drained") or ()),
        stop_reason=end.get("stop_reason"),
        note=str(end.get("note") or ""),
        check=bool(end.get("check")),
        retry=bool(end.get("retry")),
    )
