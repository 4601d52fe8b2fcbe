"""The warning category of should-level findings."""

from __future__ import annotations

__all__ = ["PytestUpgradeWarning"]


class PytestUpgradeWarning(UserWarning):
    """A should-level check failed: the test passes, unless ``--upgrade-strict``.

    Filter it like any warning, for example ``-W error::pytest_upgrade.PytestUpgradeWarning``.
    """
