"""The reports: a requirement's result as text and JSON (``results``), and the
session's HTML and Markdown reports (``model``, ``html``, ``markdown``, ``publish``)."""
