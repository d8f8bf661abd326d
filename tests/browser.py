"""A real browser for the tests: Debian's Chromium driven by Playwright's async API, and axe-core
(through axe-playwright-python) for accessibility. `.ci/run` installs the `chromium` package;
`EHCP_TEST_CHROMIUM` names another binary. Playwright never downloads a browser here. The
`browser` fixture is in conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("EHCP_TEST_CHROMIUM", "/usr/bin/chromium")
HAVE_CHROMIUM = Path(CHROMIUM).exists()
ARTIFACTS = Path(os.environ.get("EHCP_TEST_ARTIFACTS", ROOT / "test-artifacts"))
# As the machine's probe found: without these, Chromium keeps trying the network it cannot reach.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}


async def no_serious_violations(page: Page) -> None:
    """axe-core finds nothing serious or critical on the page as it is now."""
    results = await Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert bad == [], [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in bad]


async def no_violations(page: Page) -> None:
    """axe-core finds nothing at all on the page as it is now: no violation of any impact (minor
    and moderate too)."""
    results = await Axe().run(page)
    bad = results.response["violations"]
    assert bad == [], [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in bad]


async def screenshot(page: Page, folder: str, name: str) -> None:
    """Saved as a test artefact: test-artifacts/<folder>/<name>.png (`.ci/run` prints the folder)."""
    (ARTIFACTS / folder).mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / folder / f"{name}.png"), full_page=True)
