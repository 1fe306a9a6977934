"""LaTeX -> MathML with latex2mathml, refusing what it would silently get wrong.

latex2mathml raises on some bad input but quietly passes other input through: an unknown
command comes out as the text `\\foo`, an unclosed brace is closed silently, its `aligned`
environment keeps its `&` as a bare, invalid character, and `\\\\` outside an environment becomes a
line break that browsers do not draw. `to_mathml` checks the output and raises `MathError`
naming the formula instead of shipping it.

Long display formulas break into lines with `\\begin{aligned} ... \\end{aligned}` (rows split by
`\\\\`, columns aligned at `&`): it is converted as latex2mathml's `align*`, an `<mtable>` that
Chromium lays out (the site's CSS aligns its columns).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from latex2mathml.converter import convert

ET.register_namespace("", "http://www.w3.org/1998/Math/MathML")  # serialise as <math xmlns=...>, not ns0:

MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"
_TOKENS = {f"{MATHML_NS}{tag}" for tag in ("mi", "mo", "mn")}
_FUNCTION_NAMES = {"log", "exp", "det", "tr", "sin", "cos", "tan", "lim", "max", "min", "sup", "inf", "ln"}
_SCRIPTS = {f"{MATHML_NS}{tag}" for tag in ("msub", "msup", "msubsup")}
_DRAWN_WRONG = re.compile(r"\\(underbrace|overbrace)\b")
_TEX_COMMAND = re.compile(r"\\[A-Za-z]+")
_ALIGNED = re.compile(r"\\(begin|end)\{aligned\}")


class MathError(ValueError):
    """A formula latex2mathml cannot convert faithfully."""


def to_mathml(latex: str, display: bool = False) -> str:
    """MathML markup for one formula; raise MathError when the result would be wrong."""
    source = latex.strip()
    if not source:
        raise MathError("empty formula")
    drawn_wrong = _DRAWN_WRONG.search(source)
    if drawn_wrong:
        raise MathError(f"{drawn_wrong.group(0)} converts, but Chromium draws the brace misplaced; "
                        "name the part in a second formula instead")
    unescaped = re.sub(r"\\[{}]", "", source)
    if unescaped.count("{") != unescaped.count("}"):
        raise MathError("unbalanced braces")
    if _ALIGNED.search(source) and not display:
        raise MathError("an aligned block needs display math ($$ on their own lines)")
    try:
        markup = convert(_ALIGNED.sub(r"\\\1{align*}", source), display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises many types, all meaning "cannot convert"
        raise MathError(f"latex2mathml cannot convert it ({type(error).__name__}: {error})") from None
    try:
        tree = ET.fromstring(markup)
    except ET.ParseError as error:
        raise MathError(f"the MathML it gives is not well-formed ({error}); "
                        "'&' aligns only inside \\begin{aligned} ... \\end{aligned}") from None
    spacers = {id(cell[0]) for cell in tree.iter(f"{MATHML_NS}mtd") if len(cell) and cell[0].tag == f"{MATHML_NS}mi"}
    for node in tree.iter():
        text = node.text or ""
        command = _TEX_COMMAND.search(text)
        if command:
            raise MathError(f"unknown command {command.group(0)} was passed through as text")
        if "\\" in text:
            raise MathError(f"a backslash was passed through as text ({text!r})")
        if node.tag == f"{MATHML_NS}mspace" and node.get("linebreak"):
            raise MathError("'\\\\' line breaks are not drawn by browsers outside an environment; "
                            "use \\begin{aligned} ... \\end{aligned}")
        if node.tag in _TOKENS and not text.strip() and not list(node) and id(node) not in spacers:
            raise MathError(f"a command produced an empty <{node.tag[len(MATHML_NS):]}>"
                            " (starred or unsupported form?)")
        if node.tag == f"{MATHML_NS}mtable" and not list(node):
            raise MathError("an empty table (matrix or environment) came out")
    return _space_after_function_names(tree)


def _space_after_function_names(tree: ET.Element) -> str:
    """latex2mathml writes \\log as <mi>log</mi> with nothing after it, and browsers then run "log p"
    together; a thin space after each function name restores TeX's spacing. When the name carries a
    subscript or superscript (\\log_2), the space goes after that script, never inside it."""
    parents = {child: parent for parent in tree.iter() for child in parent}
    for name in [node for node in tree.iter(f"{MATHML_NS}mi") if (node.text or "") in _FUNCTION_NAMES]:
        anchor, parent = name, parents.get(name)
        if parent is not None and parent.tag in _SCRIPTS and parent[0] is name:
            anchor, parent = parent, parents.get(parent)
        if parent is None:
            continue
        space = ET.Element(f"{MATHML_NS}mspace", {"width": "0.1667em"})
        parent.insert(list(parent).index(anchor) + 1, space)
    return ET.tostring(tree, encoding="unicode")
