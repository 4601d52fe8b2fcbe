"""What the project's tests share: apps and servers they start, builders of hand-made
values, the documentation's example runner. pyproject.toml puts ``tests`` on the
import path (pytest's ``pythonpath``), so a test imports ``from support.apps import ...``.
"""
