"""``python -m pytest_upgrade``: the ``pytest-upgrade`` command (:mod:`pytest_upgrade.cli`)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
