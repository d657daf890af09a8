"""Shared fixtures: run the modules of library/ for real through ansible-playbook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "library"
SRC = REPO / "src"
CONTRACTS = REPO.parent / "shared" / "contracts"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "tests" / "support"))
if str(SRC) not in sys.path:
    sys.path.append(str(SRC))  # until the package is installed

RunPlay = Callable[..., list[dict[str, Any]]]


class _Unsafe(str):
    """A string written as ``!unsafe`` so Ansible never templates test data."""


def _unsafe_representer(dumper: yaml.SafeDumper, data: _Unsafe) -> yaml.Node:
    return dumper.represent_scalar("!unsafe", str(data), style="'")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Unsafe, _unsafe_representer)


def _mark_unsafe(value: Any) -> Any:
    if isinstance(value, str):
        return _Unsafe(value)
    if isinstance(value, dict):
        return {k: _mark_unsafe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_unsafe(v) for v in value]
    return value


def ansible_env(tmp_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_LIBRARY=str(LIBRARY),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / ".ansible-tmp"),
        ANSIBLE_REMOTE_TEMP=str(tmp_path / ".ansible-rtmp"),
        ANSIBLE_RETRY_FILES_ENABLED="False",
        PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")])),
    )
    env.update(extra or {})
    return env


def write_playbook(path: Path, tasks: list[tuple[str, dict[str, Any]]], out: Path) -> None:
    body: list[dict[str, Any]] = []
    for i, (module, args) in enumerate(tasks):
        body.append(
            {
                "name": f"Task {i}",
                module: _mark_unsafe(args),
                "register": f"r{i}",
                "ignore_errors": True,
            }
        )
    names = ", ".join(f"r{i}" for i in range(len(tasks)))
    body.append(
        {
            "name": "Save the results",
            "check_mode": False,
            "ansible.builtin.copy": {
                "content": "{{ [" + names + "] | to_json }}",
                "dest": str(out),
            },
        }
    )
    play = [{"name": "Module test", "hosts": "localhost", "gather_facts": False, "tasks": body}]
    path.write_text(yaml.dump(play, Dumper=_Dumper, sort_keys=False))


@pytest.fixture
def run_play(tmp_path: Path) -> RunPlay:
    """Run ``[(module, args), ...]`` as one playbook on localhost; return each task result."""
    counter = iter(range(1000))

    def run(
        tasks: list[tuple[str, dict[str, Any]]],
        *,
        check: bool = False,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> list[dict[str, Any]]:
        n = next(counter)
        playbook, out = tmp_path / f"play{n}.yml", tmp_path / f"result{n}.json"
        write_playbook(playbook, tasks, out)
        cmd = [
            str(BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            str(playbook),
        ]
        if check:
            cmd.append("--check")
        proc = subprocess.run(
            cmd,
            env=ansible_env(tmp_path, env),
            cwd=cwd or tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert out.exists(), f"playbook did not finish:\n{proc.stdout}\n{proc.stderr}"
        results: list[dict[str, Any]] = json.loads(out.read_text())
        return results

    return run


@pytest.fixture
def unique_marker(tmp_path: Path) -> Iterator[Path]:
    """A path that must never be created (template-injection canary)."""
    marker = tmp_path / "canary-must-not-exist"
    yield marker
    assert not marker.exists()
