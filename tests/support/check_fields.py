"""One assertion on a check's JSON entry (an inner run's report): its outcome, and
the texts its fields hold or must not hold.

    expect(checks["upgrade-stripped"], "skipped", message=("decided before routing",),
           not_diagnosis=("nginx",))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["expect"]


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
