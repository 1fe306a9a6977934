"""`course build --pdf`: print each lecture's slides to PDF with headless Chromium (Playwright).

reveal.js lays a deck out for print when the URL has `?print-pdf`; `page.pdf` then prints one
slide per page. (`chromium --print-to-pdf` prints a blank page here, so Playwright drives it.)
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    """The system Chromium ($COURSE_CHROMIUM, /usr/bin/chromium, or chromium on PATH)."""
    for candidate in (os.environ.get("COURSE_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def launch(playwright):
    """A headless Chromium: the system one when there is one, else Playwright's own."""
    executable = chromium_path()
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)


def export_pdfs(site: Path, lecture_ids: list[str], browser=None) -> None:
    """Write <site>/<id>/slides.pdf for each lecture; `browser`: an open Playwright browser to reuse."""
    if browser is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                export_pdfs(site, lecture_ids, browser)
            finally:
                browser.close()
        return
    from tqdm import tqdm

    page = browser.new_page(viewport={"width": 1280, "height": 760})
    for lecture_id in tqdm(lecture_ids, desc="slides -> PDF", unit="lecture", file=sys.stderr):
        page.goto((site / lecture_id / "slides.html").as_uri() + "?print-pdf")
        page.wait_for_function("window.Reveal && Reveal.isReady()")
        page.pdf(path=str(site / lecture_id / "slides.pdf"), width="1280px", height="760px",
                 print_background=True)
    page.close()
