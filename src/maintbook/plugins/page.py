"""Action plugin `statuspage_maintenance`: the maintenance's status-page entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from maintbook import statuspage
from maintbook.plugins.base import LifecycleAction, plain
from maintbook.plugins.window import ending_of
from maintbook.runtime.closing import close_change


class ActionModule(LifecycleAction):
    def work(self, args: dict[str, Any], check: bool, now: datetime) -> dict[str, Any]:
        ctx = self.context(args)
        if args["state"] == "closed":
            change = close_change(ctx, ending_of(plain(args["ending"])))
        else:
            body = args.get("body") or statuspage.batch_body(args.get("batch"))
            change = statuspage.change_for(ctx, args["state"], body=body)
        changed, record = statuspage.publish(ctx, change, now=now, check=check)
        return {"changed": changed, "maintenance": record}
