"""pytest wiring for pytest-upgrade (placeholder until the plugin lands)."""
