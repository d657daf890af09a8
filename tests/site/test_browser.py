"""The page in real headless Chromium: screenshots at phone and desktop widths, focus, axe-core.

Screenshots go to pytest's tmp folder; set MAINTBOOK_SCREENSHOT_DIR to keep a copy to look at.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maintbook.site import render_site
from tests.site.browser import DESKTOP, FLAGS, PHONE, axe_source, chromium, ink, keep, size
from tests.site.sample import NOW, TITLE, URL, ZONES, sample

LONG_WORD = "https://example.com/" + "a-very-long-path-without-any-space" * 6
SIZES = {"phone": PHONE, "desktop": DESKTOP}
MEASURE = """() => {
  let right = 0;
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width && box.height) right = Math.max(right, box.right);
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    right: right,
    sheets: document.styleSheets.length,
    mainWidth: getComputedStyle(document.querySelector('main')).maxWidth,
    h1: document.querySelector('h1').textContent,
    background: getComputedStyle(document.body).backgroundColor,
  };
}"""


def _data() -> dict[str, Any]:
    """The sample plus text that cannot wrap at a space: it must not widen the page."""
    data = sample()
    data["maintenances"].append(
        {
            "id": "MNT-2026-0020", "name": "Move " + LONG_WORD, "status": "completed",
            "scheduled_for": "2026-11-20T01:00:00Z", "scheduled_until": "2026-11-20T02:00:00Z",
            "components": {"component-" + "x" * 60: "operational"},
            "updates": [{"status": "completed", "at": "2026-11-20T01:45:00Z", "body": LONG_WORD}],
        }
    )  # fmt: skip
    return data


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    for name, text in render_site(_data(), title=TITLE, url=URL, zones=ZONES, now=NOW).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder / "index.html"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=list(FLAGS))
        yield launched
        launched.close()


def _page(browser: Any, name: str, scheme: str = "light", **options: Any) -> Any:
    width, height = SIZES[name]
    context = browser.new_context(
        viewport={"width": width, "height": height}, color_scheme=scheme, **options
    )
    return context.new_page()


@pytest.mark.parametrize("name", ["phone", "desktop"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshot_renders_styled_and_fits_the_width(
    browser: Any, site: Path, tmp_path: Path, name: str, scheme: str
) -> None:
    page = _page(browser, name, scheme)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    page.goto(site.as_uri())
    seen = page.evaluate(MEASURE)
    png = tmp_path / f"status-{name}-{scheme}.png"
    page.screenshot(path=str(png), full_page=True)
    page.context.close()
    keep(png)
    width, height = SIZES[name]
    assert errors == []  # a blocked stylesheet or a CSP report would show here
    assert seen["h1"] == TITLE
    assert (seen["sheets"], seen["mainWidth"]) == (1, "736px")  # style.css applied
    assert seen["scrollWidth"] <= seen["innerWidth"] == width
    assert seen["right"] <= width
    dark = seen["background"] == "rgb(17, 20, 23)"
    assert dark == (scheme == "dark"), seen["background"]
    assert size(png)[0] == width and size(png)[1] > height  # nothing wider, a long page
    assert ink(png) > 0.15  # styled blocks; the same page unstyled measures under 0.08


def test_keyboard_focus_is_visible(browser: Any, site: Path) -> None:
    page = _page(browser, "phone")
    page.goto(site.as_uri())
    focused = []
    for _ in range(3):
        page.keyboard.press("Tab")
        focused.append(
            page.evaluate("""() => {
              const el = document.activeElement, box = el.getBoundingClientRect();
              const style = getComputedStyle(el);
              return [el.getAttribute('href'), style.outlineStyle,
                      parseFloat(style.outlineWidth), box.top >= 0 && box.bottom > 0];
            }""")
        )
    page.context.close()
    assert [f[0] for f in focused] == ["#main", "feed.atom", "maintenance.ics"]
    assert all(style == "solid" and width >= 2 and shown for _, style, width, shown in focused)


def _axe(page: Any) -> dict[str, Any]:
    page.add_script_tag(content=axe_source())
    result: dict[str, Any] = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']})"
    )
    return result


def _serious(result: dict[str, Any]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("name", ["phone", "desktop"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violation(
    browser: Any, site: Path, name: str, scheme: str
) -> None:
    page = _page(browser, name, scheme, bypass_csp=True)  # the page's CSP forbids axe's script
    page.goto(site.as_uri())
    result = _axe(page)
    page.context.close()
    assert len(result["passes"]) > 20  # axe ran its rules here, colour contrast among them
    assert "color-contrast" in {rule["id"] for rule in result["passes"]}
    assert _serious(result) == []


def test_axe_as_run_here_does_report_a_serious_violation(browser: Any) -> None:
    page = _page(browser, "phone", bypass_csp=True)
    page.set_content(
        '<html lang="en"><title>t</title><main><h1>t</h1>'
        '<p style="color:#ccc;background:#fff">faint</p><img src="x.png"></main></html>'
    )
    found = _serious(_axe(page))
    page.context.close()
    assert [line.split(" ")[0] for line in found] == ["color-contrast", "image-alt"]


def test_chromium_command_line_screenshot_at_phone_width(site: Path, tmp_path: Path) -> None:
    png = tmp_path / "status-cli-phone.png"
    command = [chromium(), "--headless", *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
               "--hide-scrollbars", f"--window-size={PHONE[0]},{PHONE[1]}",
               f"--screenshot={png}", site.as_uri()]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    keep(png)
    assert size(png) == PHONE
    assert ink(png) > 0.15  # styled blocks; the same page unstyled measures under 0.08
