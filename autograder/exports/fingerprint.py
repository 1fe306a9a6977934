"""Normalised fingerprints: find a piece of code or prose again after renaming and reformatting.

Code is read as a stream of tokens. Comments, whitespace, line continuations, semicolons and
trailing commas are dropped; every string literal becomes ``S``; every name that is not a
keyword, a builtin or an attribute (``x.sum``) becomes ``V``; numbers are written one way
(``.5``, ``0.5`` and ``5e-1`` alike). Two pieces of code that differ only in their variable
names or their layout give the same tokens. Prose keeps its words, in lower case.

A piece *appears* in a text when at least half of its overlapping runs of `SHINGLE` tokens
occur there (short pieces: when the whole token sequence occurs there). Pieces shorter than
`MIN_TOKENS` say too little to be recognised and are not fingerprinted.

    piece = Piece.of_code("solutions/gmm/gmm.py:41", source)
    piece.appears_in(Text.of_file(path))  -> bool
"""

from __future__ import annotations

import builtins
import json
import keyword
import re
from dataclasses import dataclass, field
from functools import cached_property
from html.parser import HTMLParser
from pathlib import Path

CODE, PROSE = "code", "prose"
SHINGLE = {CODE: 12, PROSE: 10}
MIN_TOKENS = {CODE: 8, PROSE: 20}
SHARE = 0.5  # of a piece's shingles that must occur in one text for the piece to appear there

_KEPT_NAMES = frozenset(keyword.kwlist) | frozenset(dir(builtins))
_PYTHON_STRING = r"""[rRbBuUfF]{0,2}(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')"""
# In prose, an apostrophe is not a quote: only "..." on one line and 'word' count as strings.
_PROSE_STRING = r"""(?:"[^"\n]*"|'[^'\s]*')"""
_REST = r"""
  | (?P<number>(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d[\d_]*)?[jJ]?)
  | (?P<name>[^\W\d]\w*)
  | (?P<op>\*\*=?|//=?|->|<<=?|>>=?|:=|[-+*/%@&|^<>=!]=|\S)
"""
_LEXERS = {
    python: re.compile(rf"(?P<skip>\s+|\#[^\n]*|\\\n) | (?P<string>{string}) {_REST}", re.VERBOSE)
    for python, string in ((True, _PYTHON_STRING), (False, _PROSE_STRING))
}
_DROPPED_OPS = frozenset({";", "\\"})
_CLOSING = frozenset({")", "]", "}"})
_WORD = re.compile(r"[^\W_]+")


def _number(text: str) -> str:
    try:
        return repr(float(text.replace("_", "")))
    except ValueError:
        return text.lower()


def code_tokens(text: str, python: bool = True) -> list[str]:
    """The normalised token stream of `text` read as code (`python=False`: code inside prose)."""
    tokens: list[str] = []
    for match in _LEXERS[python].finditer(text):
        kind, value = match.lastgroup, match.group()
        if kind == "skip" or value in _DROPPED_OPS:
            continue
        if kind == "string":
            tokens.append("S")
        elif kind == "number":
            tokens.append(_number(value))
        elif kind == "name":
            tokens.append(value if value in _KEPT_NAMES or (tokens and tokens[-1] == ".") else "V")
        else:
            if value in _CLOSING and tokens and tokens[-1] == ",":
                tokens.pop()  # a trailing comma is layout
            tokens.append(value)
    return tokens


def prose_tokens(text: str) -> list[str]:
    """The words and numbers of `text`, in lower case."""
    return _WORD.findall(text.lower())


def _shingles(tokens, size: int) -> set:
    return {hash(tuple(tokens[i:i + size])) for i in range(len(tokens) - size + 1)}


def _joined(tokens) -> str:
    return "\x1f" + "\x1f".join(tokens) + "\x1f"


@dataclass(frozen=True)
class Piece:
    """Something that must not appear in a text: an answer region, a hidden check."""

    label: str  # where it comes from, e.g. "solutions/gmm/gmm.py lines 41-47"
    kind: str  # CODE or PROSE
    tokens: tuple

    @classmethod
    def of_code(cls, label: str, source: str) -> "Piece":
        return cls(label, CODE, tuple(code_tokens(source)))

    @classmethod
    def of_prose(cls, label: str, text: str) -> "Piece":
        return cls(label, PROSE, tuple(prose_tokens(text)))

    @property
    def recognisable(self) -> bool:
        return len(self.tokens) >= MIN_TOKENS[self.kind]

    @cached_property
    def shingles(self) -> set:
        return _shingles(self.tokens, SHINGLE[self.kind])

    def share_in(self, text: "Text") -> float:
        """The fraction of this piece found in `text` (1.0 for a short piece found whole)."""
        if len(self.tokens) < SHINGLE[self.kind]:
            return 1.0 if _joined(self.tokens) in text.joined(self.kind) else 0.0
        return len(self.shingles & text.shingles(self.kind)) / len(self.shingles)

    def appears_in(self, text: "Text") -> bool:
        return self.recognisable and self.share_in(text) >= SHARE


class _TextOfHtml(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "p", "div", "pre", "li", "tr", "section", "h1", "h2", "h3", "h4"):
            self.parts.append("\n")


def html_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


@dataclass
class Text:
    """One file's text, read as code (`python` or code-in-prose parts) and as prose."""

    python: list[str] = field(default_factory=list)  # parts that are Python source
    other: list[str] = field(default_factory=list)  # markdown, HTML text, notebook outputs, ...

    @classmethod
    def of_file(cls, path: Path) -> "Text | None":
        """The text of `path`, or None for a binary file (images, PDFs) that cannot be read as text."""
        try:
            raw = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, ValueError):
            return None
        suffix = path.suffix.lower()
        if suffix == ".py":
            return cls(python=[raw])
        if suffix in (".html", ".htm", ".svg", ".xml"):
            return cls(other=[html_text(raw)])
        if suffix == ".ipynb":
            try:
                return cls.of_notebook(json.loads(raw))
            except (ValueError, TypeError, AttributeError):
                pass
        return cls(other=[raw])

    @classmethod
    def of_notebook(cls, notebook: dict) -> "Text":
        text = cls()
        for cell in notebook.get("cells", []):
            source = "".join(cell.get("source", ""))
            (text.python if cell.get("cell_type") == "code" else text.other).append(source)
            for output in cell.get("outputs", []):
                text.other.append("".join(output.get("text", "")))
                text.other.append("".join(output.get("data", {}).get("text/plain", "")))
        return text

    @cached_property
    def _tokens(self) -> dict:
        code = []
        for part in self.python:
            code += code_tokens(part) + ["\n"]  # a break no piece spans
        for part in self.other:
            code += code_tokens(part, python=False) + ["\n"]
        prose = prose_tokens("\n".join(self.python + self.other))
        return {CODE: code, PROSE: prose}

    @cached_property
    def _shingles(self) -> dict:
        return {kind: _shingles(tokens, SHINGLE[kind]) for kind, tokens in self._tokens.items()}

    @cached_property
    def _joined(self) -> dict:
        return {kind: _joined(tokens) for kind, tokens in self._tokens.items()}

    def shingles(self, kind: str) -> set:
        return self._shingles[kind]

    def joined(self, kind: str) -> str:
        return self._joined[kind]
