"""ansible-doc as the tests read it: a module's documented options, its fragment included.

The lifecycle modules in library/ take their shared options from the documentation fragment
in doc_fragments/ (`extends_documentation_fragment`); Ansible finds it only through
`doc_fragment_plugins`. These helpers say which options a module's fragments add, from the
fragment itself, and what ansible-doc renders for a module where the tests point it.
"""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "library"
FRAGMENTS = REPO / "doc_fragments"
BIN = Path(sys.executable).parent
LIFECYCLE = ["alertmanager_silence", "maintenance_notify", "maintenance_window",
             "statuspage_maintenance"]


def module_names(module: str) -> dict[str, Any]:
    """The names the module file in library/ defines (DOCUMENTATION, ARGUMENT_SPEC, ...)."""
    return runpy.run_path(str(LIBRARY / f"{module}.py"))


def fragment_options(module: str) -> dict[str, dict[str, Any]]:
    """The options the module's `extends_documentation_fragment` adds, as the fragment
    documents them (`maintbook` is the fragment's DOCUMENTATION, `maintbook.batch` its BATCH)."""
    doc = yaml.safe_load(module_names(module)["DOCUMENTATION"])
    fragments = runpy.run_path(str(FRAGMENTS / "maintbook.py"))["ModuleDocFragment"]
    options: dict[str, dict[str, Any]] = {}
    for slug in doc.get("extends_documentation_fragment", []):
        name, _, attribute = slug.partition(".")
        assert name == "maintbook", f"{module}: unknown fragment {slug}"
        options.update(yaml.safe_load(getattr(fragments, (attribute or "documentation").upper()))
                       ["options"])
    return options


def rendered(modules: Sequence[str], cwd: Path, env: Mapping[str, str],
             *options: str) -> subprocess.CompletedProcess[str]:
    """`ansible-doc [OPTIONS] MODULE...` run in `cwd` with exactly `env`."""
    return subprocess.run([str(BIN / "ansible-doc"), *options, *modules], cwd=cwd,
                          env=dict(env), capture_output=True, text=True, timeout=300,
                          check=False)


def documented(modules: Sequence[str], cwd: Path, env: Mapping[str, str],
               *options: str) -> dict[str, dict[str, Any]]:
    """Each module's documentation as `ansible-doc --json` gives it (fragments merged)."""
    proc = rendered(modules, cwd, env, "--json", *options)
    assert proc.returncode == 0, proc.stderr
    docs: dict[str, dict[str, Any]] = {
        name: found["doc"] for name, found in json.loads(proc.stdout).items()}
    assert sorted(docs) == sorted(modules), proc.stderr
    return docs


def missing_fragment_options(docs: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Per module, the options its fragments add that its rendered doc lacks or words
    differently (empty when every fragment was found and merged)."""
    missing: dict[str, list[str]] = {}
    for module, doc in docs.items():
        shown = doc.get("options", {})
        lacking = [name for name, option in fragment_options(module).items()
                   if shown.get(name, {}).get("description") != option["description"]]
        if lacking:
            missing[module] = lacking
    return missing
