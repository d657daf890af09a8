"""`maintbook compile`: write one playbook per runbook (see maintbook.build), and with
`-o DIR` an ansible.cfg beside them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from maintbook.build import compile_runbook, compiled_ansible_cfg, write_atomically
from maintbook.project import load_clean, require_config, select_occurrence
from maintbook.resources import shipped
from maintbook.runner import plugin_paths
from maintbook.timeparse import utc_now

DEFAULT_BUILD = ".maintbook/build"


def run_compile(*, paths: Sequence[Path], config_path: Path | None, out_dir: Path | None,
                fmt: str) -> int:
    """Validate every runbook; only when all are clean, write their playbooks."""
    config = require_config(config_path, fmt)
    loaded = load_clean(paths, config, fmt)
    if loaded is None:
        return 1
    target_dir = (out_dir or config.root / DEFAULT_BUILD).resolve()
    for item in loaded:
        assert item.runbook is not None
        runbook = select_occurrence(item.runbook, config, utc_now(), ahead=True)
        compiled = compile_runbook(runbook, item.path, config, target_dir, item.path.stem)
        for name, text in compiled.files.items():
            write_atomically(target_dir / name, text)
        if fmt == "text":
            click.echo(f"{item.path} -> {target_dir / compiled.playbook}")
    if out_dir is not None:
        write_atomically(target_dir / "ansible.cfg",
                         compiled_ansible_cfg(plugin_paths(config.root, shipped)))
    return 0
