"""The quick validators' compiled code is cached in the user's cache folder; a damaged or
foreign cache file is replaced, never trusted, and validation gives the same answers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from validate_support import CONFIG, INVALID, NOW, VALID

PROBE = """
import os
import sys

import fastjsonschema

if os.environ.get("CACHE_ONLY"):
    def refuse(*args, **kwargs):
        raise SystemExit("fastjsonschema generated a validator: the cache was not used")
    fastjsonschema.compile = fastjsonschema.compile_to_code = refuse
from click.testing import CliRunner
from maintbook.cli import main

result = CliRunner().invoke(main, sys.argv[1:], catch_exceptions=False)
print(result.exit_code)
"""


def _validate(cache: Path, target: Path, cache_only: bool = False) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "validate", str(target), "--config", str(CONFIG),
         "--now", NOW],
        capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cache), "XDG_CACHE_HOME": str(cache),
             **({"CACHE_ONLY": "1"} if cache_only else {}),
             **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}})
    assert done.returncode == 0, done.stderr
    return int(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("damage", [b"", b"not marshal", b"\xe9\x07\x00\x00\x00"])
def test_a_damaged_cache_is_replaced_and_answers_stay_the_same(tmp_path: Path,
                                                                damage: bytes) -> None:
    assert _validate(tmp_path, VALID) == 0
    files = sorted((tmp_path / "maintbook" / "validators").glob("*.code"))
    assert files, "the first run caches the compiled validators"
    for path in files:
        path.write_bytes(damage)  # truncated, garbage, or valid marshal of an int
    assert _validate(tmp_path, VALID) == 0
    assert _validate(tmp_path, INVALID) == 1
    assert all(path.stat().st_size > 1000 for path in files)  # rewritten


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    (tmp_path / "maintbook").write_text("a file where the cache folder would be")
    assert _validate(tmp_path, VALID) == 0
    assert _validate(tmp_path, INVALID) == 1


def test_a_second_run_takes_the_validators_from_the_cache(tmp_path: Path) -> None:
    """Generating the validators costs about 0.3 s per process: only the first pays it."""
    assert _validate(tmp_path, VALID) == 0
    assert _validate(tmp_path, VALID, cache_only=True) == 0
    assert _validate(tmp_path, INVALID, cache_only=True) == 1
