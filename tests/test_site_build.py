"""`course build`: the real site builds, and each build-time check fails with a clear message."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograder.site.build import build_site
from autograder.site.mathml import MathError, to_mathml
from site_helpers import ROOT, real_site

FIGURES = '''
import matplotlib.pyplot as plt

def fig_curve():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    return fig
'''


def tiny_course(tmp_path: Path, slides: str, notes: str = "## Notes\n\nText.\n", figures: str = FIGURES):
    folder = tmp_path / "lectures" / "01-one"
    folder.mkdir(parents=True)
    (folder / "slides.md").write_text(slides, encoding="utf-8")
    (folder / "notes.md").write_text(notes, encoding="utf-8")
    (folder / "figures.py").write_text(figures, encoding="utf-8")
    lecture = SimpleNamespace(id="one", title="One", folder="lectures/01-one")
    return SimpleNamespace(title="T", code="T-1", term="now", lectures=[lecture],
                           instructors=[SimpleNamespace(name="A", email="a@b.c")])


def build(tmp_path, capsys, **sources) -> tuple[int, str]:
    course = tiny_course(tmp_path, **sources)
    code = build_site(tmp_path, course, tmp_path / "out")
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
    (r"\begin{aligned}a&=b\end{aligned}", "not well-formed"),  # bare '&' in the output
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


def test_the_real_site_builds(tmp_path_factory):
    output, code, seconds = real_site(tmp_path_factory)
    assert code == 0, "course build failed; run `course build` to see the problems"
    assert (output / "index.html").is_file()
    for lecture in ("intro", "gmm", "autoregressive", "vae", "gan", "flows", "diffusion", "references"):
        for page in ("slides.html", "notes.html"):
            text = (output / lecture / page).read_text(encoding="utf-8")
            assert "Do not edit" in text
            assert not re.search(r'src="(https?:)?//', text), f"{lecture}/{page} loads something remote"
    assert seconds < 120, f"the site took {seconds:.0f} s to build"


def test_no_figure_is_committed():
    images = [p for p in (ROOT / "lectures").rglob("*") if p.suffix in {".png", ".jpg", ".pdf", ".svg"}]
    assert not images, f"figures are made by figures.py at build time, not committed: {images}"
