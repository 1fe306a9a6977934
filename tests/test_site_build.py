"""`course build`: the real site builds, and each build-time check fails with a clear message."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograder.config import load_course
from autograder.site import trained
from autograder.site.build import build_site
from autograder.site.counts import counts_table, lecture_counts, slide_problems, words
from autograder.site.mathml import MathError, to_mathml
from site_helpers import ROOT, real_site

# The model lectures (and the intro and evaluation lectures, held to the same standard): a 90-minute
# lecture's slides and a chapter of notes with complete derivations.
FULL_LECTURES = ("intro", "gmm", "autoregressive", "vae", "gan", "flows", "diffusion", "evaluation")
SLIDES_RANGE = (30, 45)
NOTES_WORDS_RANGE = (2500, 4000)

FIGURES = '''
import matplotlib.pyplot as plt

def fig_curve():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    return fig
'''


def tiny_course(tmp_path: Path, slides: str, notes: str = "## Notes\n\nText.\n", figures: str = FIGURES,
                problems: str | None = None, solutions: str | None = None):
    folder = tmp_path / "lectures" / "01-one"
    folder.mkdir(parents=True)
    (folder / "slides.md").write_text(slides, encoding="utf-8")
    (folder / "notes.md").write_text(notes, encoding="utf-8")
    (folder / "figures.py").write_text(figures, encoding="utf-8")
    if problems is not None:
        (folder / "problems.md").write_text(problems, encoding="utf-8")
    if solutions is not None:
        (tmp_path / "solutions" / "lectures" / "01-one").mkdir(parents=True)
        (tmp_path / "solutions" / "lectures" / "01-one" / "solutions.md").write_text(solutions, encoding="utf-8")
    lecture = SimpleNamespace(id="one", title="One", folder="lectures/01-one")
    return SimpleNamespace(title="T", code="T-1", term="now", lectures=[lecture],
                           instructors=[SimpleNamespace(name="A", email="a@b.c")])


def build(tmp_path, capsys, solutions_edition=False, **sources) -> tuple[int, str]:
    course = tiny_course(tmp_path, **sources)
    code = build_site(tmp_path, course, tmp_path / "out", solutions=solutions_edition)
    return code, capsys.readouterr().err


def test_a_good_tiny_course_builds(tmp_path, capsys):
    code, err = build(tmp_path, capsys, slides="## A\n\n$p(x)$\n\n![c](figures/curve.png)\n\n---\n\n## B\n")
    assert code == 0, err
    html = (tmp_path / "out" / "one" / "slides.html").read_text()
    assert "<math" in html and "Do not edit" in html
    assert (tmp_path / "out" / "one" / "figures" / "curve.png").is_file()


def test_missing_figure_fails_the_build(tmp_path, capsys):
    code, err = build(tmp_path, capsys, slides="## A\n\n![c](figures/nope.png)\n")
    assert code == 1
    assert "lecture 'one' (lectures/01-one/slides.md): figure figures/nope.png does not exist" in err
    assert "curve.png" in err  # says which figures figures.py did make


def test_bad_formula_fails_the_build_naming_lecture_line_and_formula(tmp_path, capsys):
    code, err = build(tmp_path, capsys, slides="## A\n\nfine $x$\n\n---\n\n## B\n\nbad $\\foo{x}$\n")
    assert code == 1
    assert "lecture 'one' (lectures/01-one/slides.md:9): formula $\\foo{x}$ does not convert" in err


def test_broken_internal_link_fails_the_build(tmp_path, capsys):
    code, err = build(tmp_path, capsys, slides="## A\n", notes="## N\n\nSee [x](../two/notes.html) and [y](#nowhere).\n")
    assert code == 1
    assert "link ../two/notes.html does not resolve: no such file" in err
    assert "link #nowhere does not resolve: no element with id 'nowhere'" in err


def test_a_failing_figure_function_fails_the_build(tmp_path, capsys):
    code, err = build(tmp_path, capsys, slides="## A\n", figures="def fig_broken():\n    raise RuntimeError('boom')\n")
    assert code == 1
    assert "fig_broken() failed: RuntimeError: boom" in err


@pytest.mark.parametrize("latex, why", [
    (r"\foo x", "unknown command"),                      # passed through as text by latex2mathml
    (r"a &= b", "not well-formed"),                      # '&' outside an environment: a bare '&' in the output
    (r"a \\ b", "line breaks"),                          # <mspace linebreak> that browsers ignore
    (r"\frac{1}{2", "unbalanced braces"),                # closed silently
    (r"\operatorname*{arg\,max}", "empty"),              # starred form dropped
    (r"\underbrace{a + b}_{c}", "misplaced"),            # converts, but drawn wrong in Chromium
])
def test_formulas_latex2mathml_mangles_are_refused(latex, why):
    with pytest.raises(MathError, match=why):
        to_mathml(latex)


def test_good_formulas_convert():
    markup = to_mathml(r"\mathbb{E}_{q_\phi(z \mid x)}\left[\log p_\theta(x \mid z)\right]", display=True)
    assert markup.startswith("<math") and 'display="block"' in markup


def test_function_names_get_a_thin_space_outside_their_scripts():
    """\\log p needs a space after log; \\log_2 p after the subscript, not inside <msub> (a third child breaks it)."""
    import xml.etree.ElementTree as ET

    tree = ET.fromstring(to_mathml(r"-\log_2 p(x) + \log q"))
    ns = "{http://www.w3.org/1998/Math/MathML}"
    assert all(len(script) == 2 for script in tree.iter(f"{ns}msub"))
    row = [node.tag[len(ns):] for node in tree.find(f"{ns}mrow")]
    assert row[:3] == ["mo", "msub", "mspace"] and row.count("mspace") == 2


def test_aligned_blocks_break_long_formulas_into_aligned_rows():
    markup = to_mathml(r"\begin{aligned} \log p(x) &= \log \sum_z q(z) \\ &\ge \sum_z q(z) \end{aligned}", display=True)
    assert markup.count("<mtr>") == 2 and 'columnalign="left"' in markup
    with pytest.raises(MathError, match="display math"):
        to_mathml(r"\begin{aligned} a &= b \end{aligned}", display=False)


def test_words_count_prose_not_formulas_code_or_captions():
    text = "Two words $x + y = z$ and.\n\n$$\na + b\n$$\n\n![a long caption here](f.png)\n\n```\ncode here\n```\n| a | b |\n|---|---|\n"
    assert words(text) == 6  # "Two", "words", the inline formula, "and.", and the table cells "a", "b"
    assert words("<!-- hidden -->visible") == 1


@pytest.mark.parametrize("body, why", [
    ("## T\n\n" + "word " * 41, "41 words"),
    ("## T\n\n$$\na\n$$\n\n$$\nb\n$$\n", "2 display formulas"),
    ("## T\n\n![a](a.png)\n\n![b](b.png)\n", "2 figures"),
])
def test_slide_rule_names_what_is_too_much(body, why):
    problems = slide_problems(body)
    assert len(problems) == 1 and why in problems[0]
    assert slide_problems("## A title with many many many words in it\n\n" + "word " * 40) == []


def test_a_full_slide_fails_the_build_naming_slide_and_line(tmp_path, capsys):
    code, err = build(tmp_path, capsys, slides="## A\n\nfine\n\n---\n\n## B\n\n" + "word " * 50 + "\n")
    assert code == 1
    assert "lecture 'one' (lectures/01-one/slides.md:7): slide 3 is too full: 50 words" in err


TABLES = FIGURES + '''

def table_scores():
    return "| model | nats |\\n|---|---:|\\n| $x^2$ | 1.5 |\\n"
'''


def test_tables_made_by_code_are_placed_and_unknown_ones_fail(tmp_path, capsys):
    code, err = build(tmp_path, capsys, slides="## A\n\n{{ table:scores }}\n", notes="## N\n\nText.\n\n{{ table:nope }}\n",
                      figures=TABLES)
    assert code == 1
    assert "lecture 'one' (lectures/01-one/notes.md:5): table 'nope' is not made by figures.py (it has: scores)" in err
    slides = (tmp_path / "out" / "one" / "slides.html").read_text()
    assert "<table>" in slides and ">1.5</td>" in slides and "<msup>" in slides and "{{" not in slides


def test_problems_always_and_solutions_only_in_the_instructor_edition(tmp_path, capsys):
    sources = dict(slides="## A\n", problems="## Problem 1: easy\n\nShow $x$.\n",
                   solutions="## Problem 1: easy\n\nBecause $x$.\n")
    code, err = build(tmp_path / "student", capsys, **sources)
    assert code == 0, err
    out = tmp_path / "student" / "out"
    assert (out / "one" / "problems.html").is_file() and not (out / "one" / "solutions.html").exists()
    assert "solutions" not in (out / "index.html").read_text().lower().replace("without <code>--solutions", "")
    code, err = build(tmp_path / "instructor", capsys, solutions_edition=True, **sources)
    assert code == 0, err
    out = tmp_path / "instructor" / "out"
    page = (out / "one" / "solutions.html").read_text()
    assert "Instructor edition" in page and "Because" in page
    assert 'href="one/solutions.html"' in (out / "index.html").read_text()
    assert "WITH SOLUTIONS" in (out / ".course-site").read_text()


def test_cached_figure_data_is_computed_once_and_reloaded_from_disk(tmp_path, monkeypatch):
    (tmp_path / "source.py").write_text("x = 1\n")
    calls = []

    def compute():
        calls.append(1)
        return {"values": [1.0, 2.0]}

    first = trained.cached_arrays(tmp_path, "demo", ["source.py"], {"k": 1}, compute)
    monkeypatch.setattr(trained, "_MEMORY", {})  # a new process: only the disk cache is left
    second = trained.cached_arrays(tmp_path, "demo", ["source.py"], {"k": 1}, compute)
    assert calls == [1] and second["values"].tolist() == first["values"].tolist() == [1.0, 2.0]
    (tmp_path / "source.py").write_text("x = 2\n")  # an edited source is a new key: computed again
    trained.cached_arrays(tmp_path, "demo", ["source.py"], {"k": 1}, compute)
    assert calls == [1, 1]


def test_the_real_site_builds(tmp_path_factory):
    """The instructor edition (a superset of the student one): every lecture has slides, notes,
    problems and worked solutions, none loading anything remote."""
    output, code, _ = real_site(tmp_path_factory, solutions=True)
    assert code == 0, "course build --solutions failed; run it to see the problems"
    assert (output / "index.html").is_file()
    for lecture in load_course(ROOT / "course.yml").lectures:
        for page in ("slides.html", "notes.html", "problems.html", "solutions.html"):
            assert (output / lecture.id / page).is_file(), f"lecture {lecture.id} has no {page}"
            text = (output / lecture.id / page).read_text(encoding="utf-8")
            assert "Do not edit" in text
            assert not re.search(r'src="(https?:)?//', text), f"{lecture.id}/{page} loads something remote"


def test_worked_solutions_live_only_under_solutions():
    """Solutions are hidden material: never in lectures/ (which the student release ships)."""
    for lecture in load_course(ROOT / "course.yml").lectures:
        folder = ROOT / lecture.folder
        assert (folder / "problems.md").is_file(), f"{lecture.folder} has no problems.md"
        assert (ROOT / "solutions" / "lectures" / folder.name / "solutions.md").is_file(), \
            f"no worked solutions for {lecture.folder} in solutions/lectures/{folder.name}/solutions.md"
        leaked = [p.name for p in folder.rglob("*") if "solution" in p.name.lower()]
        assert not leaked, f"{lecture.folder} holds solution files: {leaked}"


def test_lecture_counts_in_the_docs_are_current():
    course = load_course(ROOT / "course.yml")
    document = (ROOT / "docs" / "lectures.md").read_text(encoding="utf-8")
    assert counts_table(ROOT, course) in document, \
        "docs/lectures.md is stale: run `course lecture-counts --update docs/lectures.md`"


@pytest.mark.parametrize("lecture_id", FULL_LECTURES)
def test_full_lectures_have_a_lecture_s_worth_of_slides_and_notes(lecture_id):
    lecture = next((l for l in load_course(ROOT / "course.yml").lectures if l.id == lecture_id), None)
    if lecture is None:
        pytest.skip(f"{lecture_id} is not in course.yml")
    counts = lecture_counts(ROOT, lecture)
    assert SLIDES_RANGE[0] <= counts.slides <= SLIDES_RANGE[1], f"{lecture_id}: {counts.slides} slides"
    assert NOTES_WORDS_RANGE[0] <= counts.notes_words <= NOTES_WORDS_RANGE[1], \
        f"{lecture_id}: {counts.notes_words} words of notes"
    assert counts.problems >= 5, f"{lecture_id}: {counts.problems} problems"


def test_no_figure_is_committed():
    images = [p for p in (ROOT / "lectures").rglob("*") if p.suffix in {".png", ".jpg", ".pdf", ".svg"}]
    assert not images, f"figures are made by figures.py at build time, not committed: {images}"


def test_the_evaluation_lecture_covers_flows_and_diffusion():
    """Issue 16: the lecture on evaluation covers the two families added after the GAN lecture, in its notes and
    its slides, after both have been taught (course.yml orders the lectures)."""
    course = load_course(ROOT / "course.yml")
    order = [lecture.id for lecture in course.lectures]
    assert order.index("gan") < order.index("flows") < order.index("diffusion") < order.index("evaluation")
    folder = ROOT / next(lecture.folder for lecture in course.lectures if lecture.id == "evaluation")
    notes = (folder / "notes.md").read_text(encoding="utf-8")
    slides = (folder / "slides.md").read_text(encoding="utf-8")
    assert re.search(r"^## .*[Ff]lows? and diffusion", notes, flags=re.MULTILINE), "no notes section on them"
    assert re.search(r"^## Evaluating a flow", slides, flags=re.MULTILINE)
    assert re.search(r"^## Evaluating a diffusion model", slides, flags=re.MULTILINE)
