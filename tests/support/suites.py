"""The source of the suites inner runs collect: marked tests with empty bodies (the
verdict is then the plugin's alone) and plain tests beside them.

    suite(marked("test_orders", "h2", "/v2/orders"), unmarked("test_plain"))
"""

from __future__ import annotations

__all__ = ["marked", "suite", "unmarked"]


def marked(name: str, protocol: str, path: str | None = None, **options: str) -> str:
    """``def name(): pass`` marked ``requires_upgrade(protocol, path=path, **options)``."""
    given = [f'path="{path}"'] if path is not None else []
    given += [f'{key}="{value}"' for key, value in options.items()]
    arguments = ", ".join([f'"{protocol}"', *given])
    return f"@pytest.mark.requires_upgrade({arguments})\ndef {name}():\n    pass\n"


def unmarked(name: str) -> str:
    """A plain test that passes."""
    return f"def {name}():\n    pass\n"


def suite(*tests: str) -> str:
    """A test module of ``tests``."""
    return "\nimport pytest\n\n" + "\n".join(tests)
