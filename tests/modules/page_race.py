"""A process that publishes COUNT maintenances on a `file` status page while its twin does.

    python -m tests.modules.page_race ROOT NAME COUNT

It loads the project ROOT, says it is ready (ROOT/ready-NAME), waits for ROOT/go, then
publishes the entries NAME-0 … NAME-<COUNT-1> as scheduled, one `publish` call each.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from maintbook import statuspage
from tests.modules.conftest import NOW, load_context
from tests.modules.notify_race import wait_for


def main(root: Path, name: str, count: int) -> None:
    ctx = load_context(root)
    (root / f"ready-{name}").touch()
    wait_for(root / "go")
    for i in range(count):
        mine = replace(ctx, facts=replace(ctx.facts, maintenance=f"{name}-{i}",
                                          title=f"Maintenance {name}-{i}"))
        statuspage.publish(mine, statuspage.change_for(mine, "scheduled"), now=NOW)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
