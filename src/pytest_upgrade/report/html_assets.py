# ruff: noqa: E501 (CSS and JavaScript, kept readable rather than wrapped)
"""The style sheet and the script of the HTML report, inlined into the page.

Nothing is loaded from anywhere: the report is one file that works opened
from disk, and its Content-Security-Policy forbids any request. The colours
pair a dark text with a light background (contrast above 7:1) and every
outcome also has a symbol, so that nothing depends on seeing colour.
"""

from __future__ import annotations

__all__ = ["CSP", "SCRIPT", "STYLE"]

# No request may leave the page: scripts and styles are inline, images data: URIs.
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

STYLE = """
:root {
  --fg: #1f2328; --muted: #4b535d; --line: #d0d7de; --bg: #ffffff; --soft: #f6f8fa;
  --passed-fg: #0f5323; --passed-bg: #dafbe1;
  --failed-fg: #8c0b20; --failed-bg: #ffebe9;
  --warned-fg: #5c3900; --warned-bg: #fff1c2;
  --skipped-fg: #343a41; --skipped-bg: #e6eaef;
  --noted-fg: #0a3069; --noted-bg: #ddf4ff;
  --error-fg: #7a2509; --error-bg: #ffe2cc;
  --focus: #0550ae;
}
* { box-sizing: border-box; }
body {
  margin: 0; color: var(--fg); background: var(--bg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
}
header, main { max-width: 78rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1rem; }
h1 { font-size: 1.6rem; margin: .4rem 0; }
h2 { font-size: 1.25rem; margin: 1.6rem 0 .6rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 0; display: inline; }
code, pre, .mono { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; }
.meta { color: var(--muted); margin: 0 0 .8rem; overflow-wrap: anywhere; }
.interrupted {
  font-weight: bold; color: var(--error-fg); background: var(--error-bg); padding: .4rem .8rem;
}
.requirement.brief { padding: .15rem 0; border-bottom: 1px solid var(--line); }
details.targets ul { max-height: 16rem; overflow: auto; margin: .3rem 0; }
a { color: var(--focus); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.counts { display: flex; flex-wrap: wrap; gap: .5rem; list-style: none; padding: 0; margin: .5rem 0; }
.counts li {
  min-width: 7.5rem; padding: .45rem .8rem; border-radius: .4rem; border: 1px solid var(--line);
}
.counts .n { display: block; font-size: 1.7rem; font-weight: 700; line-height: 1.1; }
.passed { color: var(--passed-fg); background: var(--passed-bg); }
.failed { color: var(--failed-fg); background: var(--failed-bg); }
.warned { color: var(--warned-fg); background: var(--warned-bg); }
.skipped { color: var(--skipped-fg); background: var(--skipped-bg); }
.noted { color: var(--noted-fg); background: var(--noted-bg); }
.error { color: var(--error-fg); background: var(--error-bg); }
.known, .waived { color: var(--skipped-fg); background: var(--noted-bg); }
.none { color: var(--muted); }
.counts li.zero { color: var(--muted); background: var(--bg); }
nav ul { display: flex; flex-wrap: wrap; gap: .3rem 1rem; list-style: none; padding: 0; margin: .3rem 0; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1.2rem; align-items: end;
  padding: .6rem .8rem; background: var(--soft); border: 1px solid var(--line); border-radius: .4rem; }
.filters fieldset { border: 0; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .2rem .8rem; }
.filters legend { font-weight: 600; padding: 0; margin-bottom: .2rem; }
.filters label { white-space: nowrap; }
.filters input[type=search] { font: inherit; padding: .3rem .5rem; min-width: 14rem; max-width: 100%;
  border: 1px solid #6e7781; border-radius: .3rem; }
.search label { display: block; font-weight: 600; }
#shown { margin: .3rem 0 0; color: var(--muted); }
.scroll { overflow-x: auto; max-width: 100%; position: relative; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--line); padding: .3rem .45rem; text-align: left; vertical-align: top; }
thead th { background: var(--soft); }
table.matrix td, table.matrix th { text-align: center; padding: .2rem .25rem; }
table.matrix th[scope=row] { text-align: left; font-weight: 400; min-width: 13rem; max-width: 22rem; }
table.matrix th[scope=row] small { color: var(--muted); display: block; overflow-wrap: anywhere; }
table.matrix thead th.check { height: 10.5rem; vertical-align: bottom; white-space: nowrap; }
table.matrix thead th.check span { writing-mode: vertical-rl; transform: rotate(180deg); font-weight: 500; }
table.matrix td a { display: block; min-width: 1.6rem; text-decoration: none; color: inherit; font-size: 1.05rem; }
.legend { color: var(--muted); margin: .4rem 0; }
.legend span { display: inline-block; padding: 0 .35rem; border-radius: .25rem; margin-right: .3rem; }
.timeline svg { width: 100%; height: auto; max-width: 60rem; display: block; }
.timeline text { font: 12px "DejaVu Sans", sans-serif; fill: var(--fg); paint-order: stroke; stroke: var(--bg); stroke-width: 4px; stroke-linejoin: round; }
.timeline table { margin-top: .6rem; }
.requirement { border: 1px solid var(--line); border-radius: .4rem; margin: .7rem 0; }
.requirement > details > summary { padding: .55rem .8rem; cursor: pointer; list-style-position: inside; }
.requirement > details > summary .badge { padding: .05rem .45rem; border-radius: .25rem; font-weight: 600; }
.requirement .body { padding: 0 .8rem .8rem; }
.requirement .nodeid { color: var(--muted); overflow-wrap: anywhere; }
.requirement h4 { margin: .9rem 0 .3rem; font-size: .95rem; }
.requirement table { width: 100%; font-size: .92rem; }
td.outcome { white-space: nowrap; font-weight: 600; }
td .detail { margin-top: .15rem; overflow-wrap: anywhere; }
td .detail b { font-weight: 600; }
table.checks td code { white-space: nowrap; }
.repro { position: relative; }
.repro pre { background: var(--soft); border: 1px solid var(--line); border-radius: .3rem; padding: .6rem;
  overflow-x: auto; margin: 0; font-size: .85rem; }
.repro button { font: inherit; margin-top: .3rem; padding: .25rem .8rem; border-radius: .3rem;
  border: 1px solid #6e7781; background: var(--bg); color: var(--fg); cursor: pointer; }
.repro .copied { margin-left: .5rem; color: var(--passed-fg); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
[hidden] { display: none !important; }
@media (max-width: 40rem) {
  body { font-size: 14px; }
  .counts li { min-width: 0; flex: 1 1 28%; }
  table.matrix th[scope=row] { min-width: 9rem; }
  .stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  .stack, .stack tbody, .stack tr, .stack td { display: block; width: 100%; }
  .stack tr { border: 1px solid var(--line); border-radius: .3rem; margin-bottom: .4rem; }
  .stack td { border: 0; border-bottom: 1px solid var(--soft); }
  .stack td::before { content: attr(data-label) ": "; font-weight: 600; color: var(--muted); }
}
"""

SCRIPT = """
(function () {
  "use strict";
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=verdict]"));
  var search = document.getElementById("search");
  var shown = document.getElementById("shown");
  var articles = Array.prototype.slice.call(document.querySelectorAll("article.requirement"));
  var followers = Array.prototype.slice.call(document.querySelectorAll("[data-entry]"));
  var total = articles.length;
  function show(element, visible) {
    if (element.hidden === !visible) { return; }  // thousands of rows: touch only what changes
    if (visible) { element.removeAttribute("hidden"); } else { element.setAttribute("hidden", ""); }
  }
  function apply() {
    var on = {};
    boxes.forEach(function (box) { on[box.value] = box.checked; });
    var query = search.value.trim().toLowerCase();
    var visible = {};
    var count = 0;
    articles.forEach(function (article) {
      var text = article.getAttribute("data-search") || "";
      var ok = on[article.getAttribute("data-verdict")] && (!query || text.indexOf(query) >= 0);
      visible[article.id] = ok;
      show(article, ok);
      if (ok) { count += 1; }
    });
    followers.forEach(function (element) { show(element, visible[element.getAttribute("data-entry")]); });
    shown.textContent = count + " of " + total + " requirement(s) shown";
  }
  boxes.forEach(function (box) { box.addEventListener("change", apply); });
  search.addEventListener("input", apply);
  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    document.body.removeChild(area);
    return done;
  }
  Array.prototype.slice.call(document.querySelectorAll("button[data-copy]")).forEach(function (button) {
    button.addEventListener("click", function () {
      var text = document.getElementById(button.getAttribute("data-copy")).textContent;
      var status = button.parentNode.querySelector(".copied");
      function report(ok) { status.textContent = ok ? "Copied" : "Could not copy: select the text"; }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () { report(true); },
          function () { report(fallbackCopy(text)); });
      } else {
        report(fallbackCopy(text));
      }
    });
  });
  apply();
})();
"""
