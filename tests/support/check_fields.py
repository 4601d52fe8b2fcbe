"""One assertion on a check's JSON entry (an inner run's report): its outcome, and
the texts its fields hold or must not hold; one on an inner run's outcome and output.

    expect(checks["upgrade-stripped"], "skipped", message=("decided before routing",),
           not_diagnosis=("nginx",))
    expect_run(result, ["*✘ upgrade-present*"], absent=("Traceback",), failed=1)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

__all__ = ["expect", "expect_run"]


def expect(check: Mapping[str, Any], outcome: str | None = None, /, **texts: Sequence[str]) -> None:
    """Assert ``check``'s outcome (unless None) and, for each ``field=(text, ...)``,
    that the field holds every text; ``not_field=(text, ...)``: that the field,
    if present, holds none of them."""
    if outcome is not None:
        assert check["outcome"] == outcome, check
    for name, wanted in texts.items():
        assert not isinstance(wanted, str), f"{name}= takes a tuple of texts"
        if name.startswith("not_"):
            field = check.get(name.removeprefix("not_"), "")
            for text in wanted:
                assert text not in field, (text, check)
        else:
            for text in wanted:
                assert text in check[name], (text, check)


def expect_run(
    result: pytest.RunResult, lines: Sequence[str], /, *, absent: Sequence[str] = (), **counts: int
) -> None:
    """Assert an inner run's outcome counts (``failed=1``), that its output has
    ``lines`` in order (fnmatch patterns), and that it holds none of ``absent``."""
    result.assert_outcomes(**counts)
    result.stdout.fnmatch_lines(list(lines))
    output = result.stdout.str()
    for text in absent:
        assert text not in output, text
