"""The test function behind declarative requirements.

``upgrade_requirements`` (ini) and ``--upgrade-require`` lines become one
test item each, parametrized over this function: the probes and checks run
before its body, exactly as for a marked test.
"""

from __future__ import annotations

from typing import Any

__all__ = ["test_requirement"]


def test_requirement(upgrade_declared: Any) -> None:
    """One declared requirement; the plugin's checks decide its outcome."""
