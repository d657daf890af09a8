"""Action plugin `maintenance_notify`: one notice kind to every channel of the maintenance."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from maintbook import notify
from maintbook.lifecycle import batch_progress
from maintbook.notify.render import Story
from maintbook.plugins.base import LifecycleAction, plain
from maintbook.plugins.window import ending_of
from maintbook.runtime.closing import outcome_notice_due, story_of


def with_batch(batch: Mapping[str, int] | None, message: str) -> str:
    """A progress line with the rolling run's batch in front ("Batch 2 of 4: ...")."""
    label = batch_progress(batch)
    if not label:
        return message
    return f"{label[0].upper()}{label[1:]}" + (f": {message}" if message else "")


class ActionModule(LifecycleAction):
    def work(self, args: dict[str, Any], check: bool, now: datetime) -> dict[str, Any]:
        ctx = self.context(args)
        run = plain(args.get("run") or {})
        kind = args["notice"]
        stamp = now.strftime("%Y-%m-%d %H:%M UTC")
        if args.get("ending") is not None:
            ending = ending_of(plain(args["ending"]))
            if not outcome_notice_due(ctx, ending.outcome):
                return {"changed": False, "skipped_reason": "not a notice of this type"}
            story = story_of(ending, stamp)
        else:
            story = Story(message=with_batch(args.get("batch"), str(args.get("message") or "")),
                          retry=bool(run.get("retry")), now=stamp)
        store = self.store(ctx)
        try:
            sent = notify.send(store, ctx, kind, run_id=run.get("run_id"), now=now, story=story,
                               detail=story.message if kind == "progress"
                               else "", min_interval=int(args.get("min_interval") or 0),
                               check=check)
        finally:
            store.close()
        result: dict[str, Any] = {
            "changed": any(d.status == "sent" for d in sent.deliveries),
            "deliveries": [d.__dict__ for d in sent.deliveries],
        }
        if sent.failed:
            result.update(failed=True, msg=f"notice {kind} not delivered to required channel(s) "
                          + "; ".join(sent.errors))
        elif sent.errors:
            self._display.warning(f"notice {kind}: " + "; ".join(sent.errors))
        return result
