"""The seeds report in a real browser (Debian's headless Chromium driven by Playwright).

Screenshots at a phone's and a laptop's width go to artifacts/ (ignored by git, kept by CI). Skips,
saying why, where there is no Chromium or no Playwright.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Run

ARTIFACTS = ROOT / "artifacts"
WIDTHS = (390, 1280)
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _chromium() -> str | None:
    return next((p for name in ("chromium", "chromium-browser") if (p := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open(browser: Any, page_path: Path, width: int) -> tuple[Any, list[str], list[str]]:
    """A page at ``width`` showing the report; console errors and any request leaving the file."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(page_path.as_uri())
    page.wait_for_load_state("load")
    return page, errors, requests


@pytest.mark.parametrize("width", WIDTHS)
def test_seeds_report_renders_cleanly(browser: Any, run: Run, seeded: Path, tmp_path: Path, width: int) -> None:
    report = tmp_path / "report.html"
    assert run("report", "-o", str(report)).exit_code == 0
    concessions = len(run("list", "-f", "json").json())
    page, errors, requests = _open(browser, report, width)
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"report-seeds-{width}.png"))  # the first screen, as a reader sees it
        page.screenshot(path=str(ARTIFACTS / f"report-seeds-{width}-full.png"), full_page=True)
        page.locator("figure").nth(1).screenshot(path=str(ARTIFACTS / f"report-seeds-{width}-graph.png"))
        assert errors == []
        assert requests == [report.as_uri()]  # nothing fetched but the page itself
        assert page.locator("svg.timeline g.mark").count() == concessions
        assert page.locator("svg.graph g.arrow").count() == concessions
        assert page.locator("svg.graph .pair").count() == 7
        # Each mark is drawn: it has a size on screen.
        box = page.locator("svg.timeline g.mark").first.bounding_box()
        assert box is not None and box["width"] > 0
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"the page is {scroll}px wide in a {inner}px window"
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.closest('.scroll') === null"
            " && e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName + '.' + e.className)"
        )
        assert wide == []
    finally:
        page.close()


def test_hostile_names_stay_text_in_the_browser(browser: Any, run: Run, ledger_db: Path, tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    assert run("party", "add", "evil", "--name", evil, "--kind", "state").exit_code == 0
    assert run("party", "add", "pipes", "--name", "| x |", "--kind", "state").exit_code == 0
    assert run("add", "--id", "gift", "--giver", "evil", "--receiver", "pipes", "--kind", "aid",
               "--summary", f"gift {evil}", "--status", "offered").exit_code == 0  # fmt: skip
    report = tmp_path / "hostile.html"
    assert run("report", "-o", str(report)).exit_code == 0
    page, errors, _ = _open(browser, report, 390)
    try:
        assert errors == []  # no alert dialog, no script error
        assert page.locator("script").count() == 0
        assert evil in page.inner_text("body")
        assert page.locator("svg.timeline g.mark").count() == 1
    finally:
        page.close()
