"""The built site in a real browser: headless Chromium (Debian's) driven by Playwright.

Every lecture's slides, notes and problems (and, in the instructor edition, solutions) load with
no console error, show no unrendered `$...$` or TeX command, render their formulas as MathML, and
make no request that is not `file:`. Layout is checked as a reader sees it, with Chromium's
scroll bars shown (Playwright hides them by default): no display formula in the notes shows a
scroll bar or is clipped or needs scrolling at the standard width (long ones break lines), and
everything on every slide fits the 1280x760 slide. Set SITE_SCREENSHOTS=DIR to keep screenshots
of the slides with figures or formulas (a few per lecture) and of each notes page there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from autograder.site.pdf import CHROMIUM_ARGS, chromium_path
from site_helpers import lecture_ids, real_site

pytestmark = pytest.mark.browser

CHROMIUM = chromium_path()
LECTURES = lecture_ids()
PAGES = ("notes.html", "problems.html", "solutions.html")
UNRENDERED_MATH = re.compile(r"\$[^$\s][^$]*\$")
TEX_COMMAND = re.compile(r"\\(frac|mathbb|mathcal|mathrm|operatorname|sum|log|mid|theta|mu|sigma|left|right|begin|end|[a-zA-Z]+\{)")
VIEWPORT = {"width": 1280, "height": 760}
SCREENSHOTS_PER_LECTURE = 6

# Display formulas that a reader would have to scroll, or that are cut off: a vertical scroll bar
# (it takes width from the element), a horizontal one (it takes height), content taller or wider
# than the box.
FORMULA_PROBLEMS = """() => [...document.querySelectorAll('math[display="block"]')].flatMap(e => {
    const r = e.getBoundingClientRect(), text = e.textContent.replace(/\\s+/g, ' ').slice(0, 50);
    const clipsY = getComputedStyle(e).overflowY !== 'visible' && e.scrollHeight > e.clientHeight + 2;
    return [
        r.width - e.clientWidth > 1 ? `vertical scroll bar: ${text}` : null,
        r.height - e.clientHeight > 1 ? `horizontal scroll bar: ${text}` : null,
        clipsY ? `taller than its box (${e.scrollHeight} > ${e.clientHeight} px): ${text}` : null,
        e.scrollWidth > e.clientWidth + 1 ? `wider than the column (${e.scrollWidth} > ${e.clientWidth} px), break it with aligned: ${text}` : null,
    ].filter(Boolean); })"""

# Everything on the current slide inside the slide's 1280x760 box (scaled to the window).
SLIDE_OVERFLOW = """() => {
    const box = document.querySelector('.reveal .slides').getBoundingClientRect();
    const slide = Reveal.getCurrentSlide(), out = [];
    for (const el of slide.querySelectorAll('h2, h3, p, li, img, math, table, pre, blockquote')) {
        if (el.closest('aside')) continue;
        const r = el.getBoundingClientRect();
        if (!r.width && !r.height) continue;
        if (r.bottom > box.bottom + 2 || r.right > box.right + 2 || r.left < box.left - 2 || r.top < box.top - 2)
            out.push(`${el.tagName.toLowerCase()} '${(el.textContent || el.getAttribute('src') || '').replace(/\\s+/g, ' ').slice(0, 40)}' `
                     + `reaches past the slide (${Math.round(r.right - box.right)} px right, ${Math.round(r.bottom - box.bottom)} px below)`);
    }
    return out; }"""

if CHROMIUM is None:
    pytest.skip("no system Chromium (/usr/bin/chromium or COURSE_CHROMIUM); install Debian's chromium",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[browser]' for the browser tests")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The instructor edition: every page the student edition has, and the solutions."""
    output, code, _ = real_site(tmp_path_factory, solutions=True)
    if code != 0:
        pytest.fail("course build --solutions failed; see test_site_build.py")
    return output


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        # Scroll bars as on a desktop: Playwright passes --hide-scrollbars unless told not to.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
                                             ignore_default_args=["--hide-scrollbars"])
        yield browser
        browser.close()


def open_page(browser, url: str):
    """Load url; return (page, console errors, non-file requests)."""
    page = browser.new_page(viewport=VIEWPORT)
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


def screenshot_folder() -> Path | None:
    folder = os.environ.get("SITE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return None


@pytest.mark.parametrize("lecture", LECTURES)
@pytest.mark.parametrize("name", PAGES)
def test_pages_render_offline_without_scroll_bars(site, browser, lecture, name):
    path = site / lecture / name
    if name != "notes.html" and not path.exists():
        pytest.skip(f"{lecture} has no {name}")  # test_site_build requires problems and solutions
    page, errors, remote = open_page(browser, path.as_uri())
    where = f"{lecture}/{name}"
    try:
        assert not errors, f"{where} console errors: {errors}"
        assert not remote, f"{where} made non-file requests: {remote}"
        check_text(page.locator("main").text_content(), where)
        widths = page.eval_on_selector_all("math", "els => els.map(e => e.getBoundingClientRect().width)")
        assert not widths or min(widths) > 0, f"{where}: formulas not laid out"
        if name == "notes.html":
            assert widths, f"{where}: no formulas at all"
        broken = page.eval_on_selector_all("img", "els => els.filter(e => !e.naturalWidth).map(e => e.src)")
        assert not broken, f"{where}: images that did not load: {broken}"
        formulas = page.evaluate(FORMULA_PROBLEMS)
        assert not formulas, f"{where}: display formulas a reader would scroll or lose:\n" + "\n".join(formulas)
        shots = screenshot_folder()
        if shots and name == "notes.html":
            page.screenshot(path=str(shots / f"{lecture}-notes.png"), full_page=True)
    finally:
        page.close()


def test_the_formula_check_sees_the_old_vertical_scroll_bar(site, browser):
    """With the stylesheet the site had before (overflow-x: auto alone), Chromium shows a vertical
    scroll bar on display formulas; the check above must report it."""
    page, _, _ = open_page(browser, (site / "gmm" / "notes.html").as_uri())
    try:
        page.add_style_tag(content='math[display="block"] { overflow-x: auto; overflow-y: auto; padding: 0; }')
        problems = page.evaluate(FORMULA_PROBLEMS)
        assert any("vertical scroll bar" in problem for problem in problems), problems
    finally:
        page.close()


@pytest.mark.parametrize("lecture", LECTURES)
def test_slides_render_offline_and_fit(site, browser, lecture):
    page, errors, remote = open_page(browser, (site / lecture / "slides.html").as_uri())
    try:
        page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=10_000)
        assert not errors, f"{lecture}/slides.html console errors: {errors}"
        assert not remote, f"{lecture}/slides.html made non-file requests: {remote}"
        total = page.evaluate("Reveal.getTotalSlides()")
        assert total >= 5, f"{lecture}: too few slides for a talk"
        check_text(page.locator(".slides").text_content(), f"{lecture}/slides.html")
        shots, saved, overflowing = screenshot_folder(), 0, []
        for index in range(total):
            page.evaluate(f"Reveal.slide({index})")
            overflowing += [f"slide {index + 1}: {problem}" for problem in page.evaluate(SLIDE_OVERFLOW)]
            worth_a_look = page.evaluate("!!Reveal.getCurrentSlide().querySelector('img, math[display=\"block\"]')")
            if shots and worth_a_look and saved < SCREENSHOTS_PER_LECTURE and index % 3 == 0:
                page.wait_for_timeout(100)
                page.screenshot(path=str(shots / f"{lecture}-slide{index + 1:02d}.png"))
                saved += 1
        assert not overflowing, f"{lecture}/slides.html: content outside the slide:\n" + "\n".join(overflowing)
    finally:
        page.close()


def test_index_links_every_page(site, browser):
    page, errors, remote = open_page(browser, (site / "index.html").as_uri())
    try:
        assert not errors and not remote, (errors, remote)
        hrefs = page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")
        for lecture in LECTURES:
            for name in ("slides.html", *PAGES):
                if (site / lecture / name).exists():
                    assert f"{lecture}/{name}" in hrefs, f"the index does not link {lecture}/{name}"
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
