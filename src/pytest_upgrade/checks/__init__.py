"""The checks: their registry (``registry``), the rules grouped by what they look at, and
the catalogue that registers them all in order (``catalogue``).

The catalogue these implement is docs/checks.md; each rule's RFC section is in
its registration and shown next to every finding.
"""
