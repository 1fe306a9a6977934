"""Build-time check that every local href/src in the built site resolves (files and #anchors)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (tag, url)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key == "id" and value:
                self.ids.add(value)
            if key in ("href", "src") and value is not None:
                self.links.append((tag, value))


def _parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def broken_links(page: Path, site: Path) -> list[tuple[str, str, str]]:
    """[(tag, url, why)] for each local link of `page` that does not resolve inside `site`."""
    parsed = _parse(page)
    problems = []
    for tag, url in parsed.links:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:  # http:, https:, mailto:, data: ... are not files
            continue
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
        if parts.path and not target.is_relative_to(site.resolve()):
            problems.append((tag, url, "points outside the site"))
        elif not target.is_file():
            problems.append((tag, url, "no such file"))
        elif parts.fragment and target.suffix == ".html":
            ids = parsed.ids if target == page.resolve() else _parse(target).ids
            if parts.fragment not in ids:
                problems.append((tag, url, f"no element with id '{parts.fragment}'"))
    return problems
