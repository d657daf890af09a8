"""Headless Debian Chromium for the page tests, and what they need around it.

The tests skip only when Chromium is absent and MAINTBOOK_REQUIRE_BROWSER is unset; `make
test` sets it, so there a missing browser, playwright or axe-core is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / ".cache" / "node" / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
PHONE = (390, 844)
DESKTOP = (1280, 900)


def chromium() -> str:
    """The Chromium binary, or skip (fail when MAINTBOOK_REQUIRE_BROWSER is set)."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("MAINTBOOK_REQUIRE_BROWSER"):
        pytest.fail("MAINTBOOK_REQUIRE_BROWSER is set but chromium is not installed (make test)")
    pytest.skip("chromium is not installed; MAINTBOOK_REQUIRE_BROWSER=1 makes this a failure")


def axe_source() -> str:
    """axe-core's script, installed by `make node-deps`."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run `make node-deps`")
    return AXE.read_text(encoding="utf-8")


def keep(png: Path) -> None:
    """Copy a screenshot to MAINTBOOK_SCREENSHOT_DIR, when set, for a person to look at."""
    folder = os.environ.get("MAINTBOOK_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(folder) / png.name)


def ink(png: Path) -> float:
    """The share of pixels that differ from the most common colour (the background)."""
    with Image.open(png) as image:
        pixels = image.convert("RGB")
        colours = pixels.getcolors(maxcolors=pixels.width * pixels.height) or []
    background = max(count for count, _ in colours)
    return 1 - background / (pixels.width * pixels.height)


def size(png: Path) -> tuple[int, int]:
    with Image.open(png) as image:
        return image.size
