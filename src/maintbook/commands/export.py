"""`maintbook export RUNBOOK… --to DIR [-i INVENTORY]`: a self-contained Ansible project
(maintbook.export) that AWX/AAP can sync and run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from maintbook.errors import UsageError
from maintbook.export import export
from maintbook.project import load_clean, require_config, select_occurrence
from maintbook.resources import shipped
from maintbook.runner import plugin_paths
from maintbook.timeparse import utc_now


def run_export(*, paths: Sequence[Path], to: Path, inventory: Path | None,
               config_path: Path | None, fmt: str) -> int:
    config = require_config(config_path, fmt)
    loaded = load_clean(paths, config, fmt)
    if loaded is None:
        return 1
    source = inventory or config.root / "inventory" / "local.yml"
    if not source.is_file():
        raise UsageError(f"{source}: no such inventory (give one with -i)")
    now = utc_now()
    done = export([(item.path, item.runbook) for item in loaded if item.runbook], config,
                  source, to, plugin_paths(config.root, shipped),
                  lambda rb, cfg: select_occurrence(rb, cfg, now, ahead=True), now)
    click.echo(f"{done.folder}: {', '.join(done.playbooks)}"
               + (f"; {len(done.schedules)} schedule(s)" if done.schedules else ""))
    return 0
