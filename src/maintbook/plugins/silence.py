"""Action plugin `alertmanager_silence`: the maintenance's silence, 15 minutes either side of
its window, following an extension (SPEC §12)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from maintbook import silence
from maintbook.plugins.base import LifecycleAction
from maintbook.store import maintenances
from maintbook.timeparse import parse_rfc3339


class ActionModule(LifecycleAction):
    def work(self, args: dict[str, Any], check: bool, now: datetime) -> dict[str, Any]:
        ctx = self.context(args)
        if ctx.silence is None:
            return {"changed": False, "skipped": True, "msg": "no Alertmanager configured"}
        api = silence.Alertmanager(ctx.silence.url)
        if args["state"] == "absent":
            changed, ids = silence.absent(api, ctx.facts.maintenance, check=check)
            return {"changed": changed, "silence_ids": ids}
        start, end = parse_rfc3339(ctx.facts.window_start), parse_rfc3339(ctx.facts.window_end)
        store = self.store(ctx)
        try:
            with store.read() as tx:
                found = maintenances.get(tx, ctx.facts.maintenance)
        finally:
            store.close()
        if found is not None:
            end = found.end
        start, end = silence.covered(start, end)
        changed, ids = silence.present(api, ctx.facts.maintenance, ctx.silence.matchers,
                                       start, end, ctx.facts.title, check=check)
        return {"changed": changed, "silence_ids": ids}
