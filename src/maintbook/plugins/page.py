"""Action plugin `statuspage_maintenance`: the maintenance's status-page entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from maintbook import statuspage
from maintbook.lifecycle import page_close
from maintbook.plugins.base import LifecycleAction, plain
from maintbook.plugins.window import ending_of
from maintbook.runtime.closing import page_body


class ActionModule(LifecycleAction):
    def work(self, args: dict[str, Any], check: bool, now: datetime) -> dict[str, Any]:
        ctx = self.context(args)
        if args["state"] == "closed":
            # what close_page does, keeping publish's answer so that `changed` tells the truth
            ending = ending_of(plain(args["ending"]))
            change = statuspage.close_change(ctx, page_close(ending.outcome, bool(ending.drained)),
                                             page_body(ending))
        else:
            change = statuspage.change_for(ctx, args["state"], body=args.get("body"))
        changed, record = statuspage.publish(ctx, change, now=now, check=check)
        return {"changed": changed, "maintenance": record}
