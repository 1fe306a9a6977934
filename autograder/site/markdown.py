"""Markdown -> HTML for the lecture site: CommonMark + tables + $math$ as MathML + heading anchors.

Problems (a formula that does not convert) are collected on the `Page` being rendered, so the
build can report every one of them with its lecture and source line, then fail.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

from autograder.site.mathml import MathError, to_mathml

SLIDE_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)
NOTES_MARKER = re.compile(r"^Note:[ \t]*$", re.MULTILINE)


@dataclass
class Page:
    """What one source file is, for messages: `lectures/02-gmm/notes.md` of lecture `gmm`."""

    lecture: str
    source: str
    problems: list[str] = field(default_factory=list)


def _math_renderer(display: bool):
    def render(self, tokens, idx, options, env):
        token = tokens[idx]
        page: Page = env["page"]
        try:
            return to_mathml(token.content, display=display)
        except MathError as error:
            line = f":{token.map[0] + 1 + env.get('line_offset', 0)}" if token.map else ""
            page.problems.append(
                f"lecture '{page.lecture}' ({page.source}{line}): formula "
                f"${token.content.strip()}$ does not convert: {error}")
            return f'<code class="math-error">{html.escape(token.content)}</code>'

    return render


def make_markdown() -> MarkdownIt:
    md = (MarkdownIt("commonmark", {"html": True, "typographer": False})
          .enable("table")
          .use(dollarmath_plugin, double_inline=True, allow_digits=False)
          .use(anchors_plugin, min_level=2, max_level=3)
          .use(footnote_plugin))
    md.add_render_rule("math_inline", _math_renderer(display=False))
    md.add_render_rule("math_inline_double", _math_renderer(display=True))
    md.add_render_rule("math_block", _math_renderer(display=True))
    md.add_render_rule("math_block_label", _math_renderer(display=True))
    return md


def render(md: MarkdownIt, text: str, page: Page, line_offset: int = 0) -> str:
    env = {"page": page, "line_offset": line_offset}
    tokens = md.parse(text, env)
    for token in tokens:  # inline formulas report the line of the paragraph they sit in
        for child in token.children or []:
            child.map = child.map or token.map
    return md.renderer.render(tokens, md.options, env)


def split_slides(text: str) -> list[tuple[str, str, int]]:
    """A slide deck's source -> [(slide markdown, speaker-notes markdown, first line)].

    Slides are separated by a line `---`; a line `Note:` starts the speaker notes of a slide.
    """
    slides, start = [], 0
    for chunk in SLIDE_SEPARATOR.split(text):
        body, *notes = NOTES_MARKER.split(chunk, maxsplit=1)
        if body.strip():
            slides.append((body, notes[0] if notes else "", start))
        start += chunk.count("\n")
    return slides


def first_heading(text: str) -> str | None:
    match = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else None
