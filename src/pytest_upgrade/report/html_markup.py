"""What the HTML report's parts share: escaping, plurals, and the attributes that
tie an element to its requirement for the page's filters.
"""

from __future__ import annotations

import html

from .model import (
    describe,
    verdict,
)
from .schema import Entry

__all__ = ["esc", "filter_attributes", "follows", "plural"]


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _search_text(entry: Entry) -> str:
    words = [describe(entry), str(entry.get("nodeid", "")), str(entry.get("target", ""))]
    words.append(verdict(entry))
    for check in entry.get("checks", ()):
        words += [str(check.get("id", "")), str(check.get("message", ""))]
    if entry.get("error"):
        words.append(str(entry["error"]))
    return esc(" ".join(words).lower())


def filter_attributes(entry: Entry) -> str:
    """What the filters read: on the requirement's article only (the page stays small)."""
    return f'data-verdict="{verdict(entry)}" data-search="{_search_text(entry)}"'


def follows(entry: Entry, anchor: str) -> str:
    """An element shown or hidden with the requirement's article (matrix row, deadline)."""
    return f'data-verdict="{verdict(entry)}" data-entry="{anchor}"'
