"""Make student-derived text safe to show in results, a terminal or a web page.

Anything a submission controls (exception messages and type names, printed output, file and
zip member names, strings inside its outputs) may hold terminal escape sequences, control
characters, bidirectional overrides that reorder what a reader sees, fake newlines that
imitate the grader's own summary lines, or megabytes of text. `line` and `text` remove the
escapes, make every other invisible character visible as ``\\xNN`` / ``\\uNNNN``, and bound the
length, saying how much was cut. HTML escaping is left to the templates (autoescape).
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and two-character escapes.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
# C0 and C1 controls, DEL, bidirectional overrides/isolates, line/paragraph separators, BOM.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_NEWLINES = re.compile(r"\r\n?|\n")

LINE_LIMIT = 300
TEXT_LIMIT = 4000


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]} … [{len(text) - limit:,} more characters]"


def text(value, limit: int = TEXT_LIMIT) -> str:
    """`value` as text that keeps its newlines and tabs but nothing else invisible, at most ~`limit` characters."""
    value = str(value)[: limit * 4 + 1000]  # never scan megabytes
    value = _ESCAPES.sub("", _NEWLINES.sub("\n", value))
    return _shorten(_INVISIBLE.sub(_visible, value), limit)


def line(value, limit: int = LINE_LIMIT) -> str:
    """`value` on one line (newlines and tabs become spaces), escapes removed, at most ~`limit` characters."""
    value = str(value)[: limit * 4 + 1000]
    value = _ESCAPES.sub("", value).replace("\t", " ")
    value = _NEWLINES.sub(" ⏎ ", value)
    return _shorten(_INVISIBLE.sub(_visible, value), limit)


def quoted_block(value: str, prefix: str = "| ") -> str:
    """Multi-line student text with every line prefixed, so it can never pass for a line of the grader's own."""
    return "\n".join(prefix + row for row in text(value, limit=len(value) + 1).split("\n"))
