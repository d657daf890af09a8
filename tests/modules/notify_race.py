"""A process that sends the same notice as its twin at the same moment, REPEAT times.

    python -m tests.modules.notify_race BASE REPEAT NAME

For each repetition i it loads the project BASE/p<i> and opens its state database, says it is
ready (BASE/ready-<i>-NAME), waits for the parent's go (BASE/go-<i>), calls `notify.send` for
the announce notice and writes what it did to BASE/result-<i>-NAME. The parent gives the go
only when both twins are ready, so both calls start together.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from maintbook import notify
from maintbook.store import Store
from tests.modules.conftest import NOW, load_context

WAIT = 120.0  # give up on a parent that never says go (seconds)


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + WAIT
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{path} never appeared")
        time.sleep(0.001)


def main(base: Path, repeat: int, name: str) -> None:
    for i in range(repeat):
        ctx = load_context(base / f"p{i}")
        store = Store.open(ctx.state)
        try:
            (base / f"ready-{i}-{name}").touch()
            wait_for(base / f"go-{i}")
            sent = notify.send(store, ctx, "announce", run_id=None, now=NOW)
        finally:
            store.close()
        statuses = [(d.channel, d.status, d.reason) for d in sent.deliveries]
        partial = base / f".result-{i}-{name}"
        partial.write_text(json.dumps(statuses))
        partial.rename(base / f"result-{i}-{name}")  # the parent never reads half a file


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
