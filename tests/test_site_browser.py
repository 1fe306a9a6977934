"""The built site in a real browser: headless Chromium (Debian's) driven by Playwright.

Every lecture's slides and notes load with no console error, show no unrendered `$...$` or TeX
command, render their formulas as MathML, and make no request that is not `file:`.
Set SITE_SCREENSHOTS=DIR to keep one screenshot of a slide per lecture there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from autograder.site.pdf import CHROMIUM_ARGS, chromium_path
from site_helpers import real_site

pytestmark = pytest.mark.browser

CHROMIUM = chromium_path()
LECTURES = ("intro", "gmm", "autoregressive", "vae", "gan", "flows", "diffusion", "references")
UNRENDERED_MATH = re.compile(r"\$[^$\s][^$]*\$")
TEX_COMMAND = re.compile(r"\\(frac|mathbb|mathcal|mathrm|operatorname|sum|log|mid|theta|mu|sigma|left|right|begin|end|[a-zA-Z]+\{)")

if CHROMIUM is None:
    pytest.skip("no system Chromium (/usr/bin/chromium or COURSE_CHROMIUM); install Debian's chromium",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[browser]' for the browser tests")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    output, code, _ = real_site(tmp_path_factory)
    if code != 0:
        pytest.fail("course build failed; see test_site_build.py")
    return output


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def open_page(browser, url: str):
    """Load url; return (page, console errors, non-file requests)."""
    page = browser.new_page(viewport={"width": 1280, "height": 760})
    errors, remote = [], []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
    page.on("request", lambda request: request.url.startswith("file:") or remote.append(request.url))
    page.goto(url, wait_until="load")
    return page, errors, remote


def check_text(text: str, where: str):
    dollars = UNRENDERED_MATH.search(text)
    assert dollars is None, f"{where}: unrendered math in the page: {dollars.group(0)[:60]!r}"
    command = TEX_COMMAND.search(text)
    assert command is None, f"{where}: a TeX command is visible in the page: {text[max(0, command.start() - 30):command.end() + 30]!r}"


@pytest.mark.parametrize("lecture", LECTURES)
def test_notes_render_offline(site, browser, lecture):
    page, errors, remote = open_page(browser, (site / lecture / "notes.html").as_uri())
    try:
        assert not errors, f"{lecture}/notes.html console errors: {errors}"
        assert not remote, f"{lecture}/notes.html made non-file requests: {remote}"
        check_text(page.locator("main").text_content(), f"{lecture}/notes.html")
        widths = page.eval_on_selector_all("math", "els => els.map(e => e.getBoundingClientRect().width)")
        assert widths and min(widths) > 0, f"{lecture}/notes.html: formulas missing or not laid out"
        broken = page.eval_on_selector_all("img", "els => els.filter(e => !e.naturalWidth).map(e => e.src)")
        assert not broken, f"{lecture}/notes.html: images that did not load: {broken}"
    finally:
        page.close()


@pytest.mark.parametrize("lecture", LECTURES)
def test_slides_render_offline(site, browser, lecture):
    page, errors, remote = open_page(browser, (site / lecture / "slides.html").as_uri())
    try:
        page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=10_000)
        assert not errors, f"{lecture}/slides.html console errors: {errors}"
        assert not remote, f"{lecture}/slides.html made non-file requests: {remote}"
        assert page.evaluate("Reveal.getTotalSlides()") >= 5, f"{lecture}: too few slides for a talk"
        check_text(page.locator(".slides").text_content(), f"{lecture}/slides.html")
        shots = os.environ.get("SITE_SCREENSHOTS")
        if shots:  # one slide with a figure or a formula, to look at
            index = page.evaluate("""() => {
                const slides = [...document.querySelectorAll('.slides > section')];
                const i = slides.findIndex(s => s.querySelector('img'));
                return i > 0 ? i : 2; }""")
            page.evaluate(f"Reveal.slide({index})")
            page.wait_for_timeout(300)
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / f"{lecture}.png"))
    finally:
        page.close()


def test_index_links_every_lecture(site, browser):
    page, errors, remote = open_page(browser, (site / "index.html").as_uri())
    try:
        assert not errors and not remote, (errors, remote)
        hrefs = page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")
        for lecture in LECTURES:
            assert f"{lecture}/slides.html" in hrefs and f"{lecture}/notes.html" in hrefs
    finally:
        page.close()


def test_slides_export_to_pdf(site, browser):
    """`course build --pdf` prints a deck with one page per slide (title slide included)."""
    from autograder.site.pdf import export_pdfs

    export_pdfs(site, ["gmm"], browser)
    pdf = (site / "gmm" / "slides.pdf").read_bytes()
    slides = (site / "gmm" / "slides.html").read_text(encoding="utf-8").count("<section")
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == slides
