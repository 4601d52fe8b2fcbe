"""``python -m pytest_upgrade diff OLD.json NEW.json``: what changed between two runs.

New failures, fixed ones, those still failing, requirements added or gone,
grouped by deployment; failures are matched by their fingerprint
(:mod:`pytest_upgrade.report.baseline`), never by ports, item ids or times.
Pure: two documents in, text, Markdown or HTML out; the exit status is the
caller's (1 with new failures).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence

from .baseline import Comparison, Fingerprint, compare
from .verdicts import MARKS

__all__ = ["compare_documents", "render_diff_html", "render_diff_markdown", "render_diff_text"]


def compare_documents(
    old: object, new: object, *, old_name: str = "OLD", new_name: str = "NEW"
) -> Comparison:
    return compare(old, new, old_name=old_name, new_name=new_name)


def _at(requirement: str, node: str) -> str:
    """A requirement as a node's test id names it: ``h2 GET / @192.0.2.11`` (one of several)."""
    return f"{requirement} @{node}" if node else requirement


def _by_deployment(items: Iterable[Fingerprint]) -> dict[str, list[Fingerprint]]:
    grouped: dict[str, list[Fingerprint]] = {}
    for item in sorted(items):
        grouped.setdefault(item.deployment or "(no deployment)", []).append(item)
    return grouped


def _where_by_deployment(items: Iterable[tuple[str, str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for deployment, node, requirement in sorted(items):
        grouped.setdefault(deployment or "(no deployment)", []).append(_at(requirement, node))
    return grouped


def _sections(diff: Comparison) -> list[tuple[str, Mapping[str, Sequence[str]]]]:
    def failures(items: Sequence[Fingerprint], marked: bool) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for deployment, group in _by_deployment(items).items():
            out[deployment] = [
                f"{_at(f.requirement, f.node)} [{f.check}]"
                + (f" ({diff.verdicts[f]})" if marked and diff.verdicts.get(f) != "failed" else "")
                for f in group
            ]
        return out

    return [
        ("new failures", failures(diff.new, True)),
        ("fixed", failures(diff.fixed, False)),
        ("still failing", failures(diff.still, True)),
        ("requirements added", _where_by_deployment(diff.added)),
        ("requirements gone", _where_by_deployment(diff.gone)),
    ]


def _headline(diff: Comparison) -> str:
    return (
        f"{len(diff.new)} new failure(s), {len(diff.fixed)} fixed, {len(diff.still)} still"
        f" failing; {len(diff.added)} requirement(s) added, {len(diff.gone)} gone"
    )


def render_diff_text(diff: Comparison) -> str:
    lines = [_headline(diff)]
    for title, groups in _sections(diff):
        count = sum(len(v) for v in groups.values())
        lines += ["", f"{title} ({count}):"]
        for deployment, items in groups.items():
            lines.append(f"  {deployment}")
            lines += [f"    {item}" for item in items]
    return "\n".join(lines) + "\n"


def _md(value: object) -> str:
    return html.escape(str(value), quote=False).replace("|", "\\|").replace("\n", " ")


def render_diff_markdown(diff: Comparison) -> str:
    mark = MARKS["failed"] if diff.new else MARKS["passed"]
    lines = [f"## Upgrade compliance: {mark} {_md(_headline(diff))}", ""]
    for title, groups in _sections(diff):
        if not groups:
            continue
        lines += [f"### {title.capitalize()}", ""]
        for deployment, items in groups.items():
            lines.append(f"- **{_md(deployment)}**")
            lines += ["  - `" + _md(item).replace("`", "'") + "`" for item in items]
        lines.append("")
    return "\n".join(lines) + "\n"


def render_diff_html(diff: Comparison) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\';'
        " style-src 'unsafe-inline'\">",
        "<title>Upgrade compliance: two runs compared</title>",
        "<style>body{font:15px/1.45 system-ui,sans-serif;margin:2rem;max-width:60rem}"
        ".new{color:#cf222e}.fixed{color:#1a7f37}code{font-size:90%}</style>",
        "</head><body>",
        f"<h1>{esc(_headline(diff))}</h1>",
    ]
    for title, groups in _sections(diff):
        css = {"new failures": "new", "fixed": "fixed"}.get(title, "")
        count = sum(len(v) for v in groups.values())
        parts.append(f'<section class="{css}"><h2>{esc(title.capitalize())} ({count})</h2>')
        for deployment, items in groups.items():
            rows = "".join(f"<li><code>{esc(item)}</code></li>" for item in items)
            parts.append(f"<h3>{esc(deployment)}</h3><ul>{rows}</ul>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
