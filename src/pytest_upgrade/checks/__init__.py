"""The checks: their registry (``registry``), the rules grouped by what they look at, and
the catalogue that registers them all in order (``catalogue``)."""
