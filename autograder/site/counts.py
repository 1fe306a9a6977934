"""Measuring lecture sources: words of prose, slides, problems, and the readability rule for slides.

Words are counted the way a reader meets them: prose and table cells count, a formula inside
a sentence counts as one word, display formulas, code blocks, figure captions (alt text), HTML
comments and Markdown syntax do not.

A slide is readable when it holds at most `SLIDE_WORDS` words besides its title, at most one
display formula block (a multi-line `aligned` block counts as one) and at most one figure.
`course build` refuses slides that break the rule, and `course lecture-counts` writes the
per-lecture table of docs/lectures.md, which a test keeps current.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from autograder.site.markdown import split_slides

SLIDE_WORDS = 40
SLIDE_FORMULAS = 1
SLIDE_FIGURES = 1

_FENCED_CODE = re.compile(r"^```.*?^```[ \t]*$", re.MULTILINE | re.DOTALL)
_DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.DOTALL)
_INLINE_MATH = re.compile(r"\$[^$\n]+\$")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_TABLE_RULE = re.compile(r"^\|?[\s:|-]+\|[\s:|-]*$", re.MULTILINE)
_HEADING = re.compile(r"^#{1,6}[ \t].*$", re.MULTILINE)
_WORD = re.compile(r"[^\W_]", re.UNICODE)
PROBLEM_HEADING = re.compile(r"^##[ \t]+Problem\b", re.MULTILINE)

COUNTS_BEGIN = "<!-- lecture-counts:begin (made by `course lecture-counts --update docs/lectures.md`) -->"
COUNTS_END = "<!-- lecture-counts:end -->"


def prose(markdown: str) -> str:
    """The text a reader reads as words: no display math, code, images, comments or markup."""
    text = _FENCED_CODE.sub(" ", markdown)
    text = _DISPLAY_MATH.sub(" ", text)
    text = _INLINE_MATH.sub(" formula ", text)
    text = _IMAGE.sub(" ", text)
    text = _LINK.sub(r" \1 ", text)
    text = _COMMENT.sub(" ", text)
    text = _TAG.sub(" ", text)
    return _TABLE_RULE.sub(" ", text)


def words(markdown: str) -> int:
    """Number of words of prose in a Markdown source (see `prose`)."""
    return sum(1 for token in prose(markdown).split() if _WORD.search(token))


def slide_problems(body: str) -> list[str]:
    """Why a slide (its Markdown, speaker notes excluded) is too full to read; [] when it is fine."""
    problems = []
    count = words(_HEADING.sub(" ", body))
    if count > SLIDE_WORDS:
        problems.append(f"{count} words (at most {SLIDE_WORDS} besides the title): split it or move prose to the notes")
    formulas = len(_DISPLAY_MATH.findall(_FENCED_CODE.sub(" ", body)))
    if formulas > SLIDE_FORMULAS:
        problems.append(f"{formulas} display formulas (at most {SLIDE_FORMULAS}; "
                        "join the lines in one \\begin{aligned} block or split the slide)")
    figures = len(_IMAGE.findall(body))
    if figures > SLIDE_FIGURES:
        problems.append(f"{figures} figures (at most {SLIDE_FIGURES})")
    return problems


@dataclass(frozen=True)
class LectureCounts:
    lecture: str
    slides: int  # content slides of slides.md (the title slide made from course.yml not counted)
    slide_words: int  # words on the slides, speaker notes excluded
    notes_words: int
    problems: int  # `## Problem ...` sections of problems.md


def lecture_counts(root: Path, lecture) -> LectureCounts:
    folder = Path(root) / lecture.folder

    def read(name):
        path = folder / name
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    slides = split_slides(read("slides.md"))
    return LectureCounts(lecture.id, len(slides), sum(words(body) for body, _, _ in slides),
                         words(read("notes.md")), len(PROBLEM_HEADING.findall(read("problems.md"))))


def counts_table(root: Path, course) -> str:
    """The Markdown table of docs/lectures.md: one row per lecture of course.yml, then the totals."""
    rows = [lecture_counts(root, lecture) for lecture in course.lectures]
    lines = ["| lecture | slides | words on slides | words in notes | problems |",
             "| --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r.lecture} | {r.slides} | {r.slide_words:,} | {r.notes_words:,} | {r.problems} |" for r in rows]
    lines.append(f"| **all** | {sum(r.slides for r in rows)} | {sum(r.slide_words for r in rows):,} | "
                 f"{sum(r.notes_words for r in rows):,} | {sum(r.problems for r in rows)} |")
    return "\n".join(lines)


def with_counts(document: str, table: str) -> str:
    """`document` with the text between the lecture-counts markers replaced by `table`."""
    begin, end = document.find(COUNTS_BEGIN), document.find(COUNTS_END)
    if begin < 0 or end < begin:
        raise ValueError(f"the document has no '{COUNTS_BEGIN}' ... '{COUNTS_END}' block")
    return f"{document[:begin + len(COUNTS_BEGIN)]}\n{table}\n{document[end:]}"
