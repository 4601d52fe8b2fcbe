"""The one place that knows about pytest-xdist workers.

Under pytest-xdist the workers collect and run the tests; their results ride
on the test reports to the controller, which alone writes the terminal
sections and the report files.
"""

from __future__ import annotations

import pytest

__all__ = ["is_xdist_worker"]


def is_xdist_worker(config: pytest.Config) -> bool:
    """Whether this process is a pytest-xdist worker (not the controller or a plain run)."""
    return hasattr(config, "workerinput")
