"""The package's exported members, pinned (httpx's tests/test_exported_members.py).

Every name in ``pytest_upgrade.__all__`` exists, every public name of the
package is in it, each is the kind of thing the docs say, and each has one
import path: the package. The fixture types are imported on first use, so that
``import pytest_upgrade`` does not pay for the server's dependencies.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import pathlib
import subprocess
import sys
import types

import pytest

import pytest_upgrade

SRC = pathlib.Path(pytest_upgrade.__file__).parent
DOCS = pathlib.Path(__file__).parents[2] / "docs"

# name -> (the module that defines it, what it is).
EXPORTED = {
    "AnsweredBy": ("pytest_upgrade._model", "enum"),
    "AppError": ("pytest_upgrade.server.recording", "frozen dataclass"),
    "BundledCA": ("pytest_upgrade.server.ca", "class"),
    "EvaluationPolicy": ("pytest_upgrade.judge", "frozen dataclass"),
    "Exchange": ("pytest_upgrade._model", "frozen dataclass"),
    "FailureKind": ("pytest_upgrade._model", "enum"),
    "Finding": ("pytest_upgrade._model", "frozen dataclass"),
    "HandshakeOutcome": ("pytest_upgrade._model", "enum"),
    "Observation": ("pytest_upgrade._model", "frozen dataclass"),
    "Offer": ("pytest_upgrade._model", "frozen dataclass"),
    "Outcome": ("pytest_upgrade._model", "enum"),
    "PolicyServer": ("pytest_upgrade.server.policy", "class"),
    "ProbeFailure": ("pytest_upgrade._model", "frozen dataclass"),
    "PytestUpgradeWarning": ("pytest_upgrade._warnings", "warning"),
    "RecordedExchange": ("pytest_upgrade.server.policy", "frozen dataclass"),
    "Requirement": ("pytest_upgrade._model", "frozen dataclass"),
    "RequirementResult": ("pytest_upgrade.judge", "frozen dataclass"),
    "RequirementVerdict": ("pytest_upgrade.judge", "enum"),
    "Response": ("pytest_upgrade._model", "frozen dataclass"),
    "ServerStartError": ("pytest_upgrade.server.bundled", "exception"),
    "Severity": ("pytest_upgrade._model", "enum"),
    "TlsHandshake": ("pytest_upgrade._model", "frozen dataclass"),
    "Transport": ("pytest_upgrade._model", "frozen dataclass"),
    "UpgradeOutcome": ("pytest_upgrade.glue.outcome", "class"),
    "UpgradeServer": ("pytest_upgrade.server.bundled", "class"),
    "evaluate": ("pytest_upgrade.judge", "function"),
}

# Bound in the package's namespace by its own imports, not exported.
_IMPORT_MACHINERY = {"annotations", "TYPE_CHECKING"}


def kind_of(value: object) -> str:
    if isinstance(value, types.FunctionType):
        return "function"
    assert isinstance(value, type), value
    if issubclass(value, enum.Enum):
        return "enum"
    if issubclass(value, Warning):
        return "warning"
    if issubclass(value, Exception):
        return "exception"
    if dataclasses.is_dataclass(value):
        frozen = value.__dataclass_params__.frozen  # type: ignore[attr-defined]
        return "frozen dataclass" if frozen else "dataclass"
    return "class"


def test_all_is_sorted_and_is_the_pinned_list() -> None:
    assert pytest_upgrade.__all__ == sorted(pytest_upgrade.__all__)
    assert pytest_upgrade.__all__ == sorted(EXPORTED)


def test_every_public_name_of_the_package_is_exported() -> None:
    public = {
        name
        for name, value in vars(pytest_upgrade).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)  # submodules, once imported
        and name not in _IMPORT_MACHINERY
    }
    assert public <= set(pytest_upgrade.__all__)


@pytest.mark.parametrize("name", sorted(EXPORTED))
def test_an_exported_name_is_its_defining_object_of_its_kind(name: str) -> None:
    module, kind = EXPORTED[name]
    value = getattr(pytest_upgrade, name)
    assert getattr(importlib.import_module(module), name) is value
    assert (value.__module__, value.__qualname__) == (module, name)
    assert kind_of(value) == kind


# What an optional extra installs (h3: aioquic): a module importing it is importable
# only with the extra, and the minimum-versions run has none.
_EXTRAS = frozenset({"aioquic"})


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.split(".")[0] in _EXTRAS:
            return False
        raise
    return True


def _public_modules() -> list[str]:
    """The public modules of src/ that can be imported here (an extra's only with it)."""
    names = []
    for path in sorted(SRC.rglob("*.py")):
        parts = ("pytest_upgrade", *path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if len(parts) > 1 and not any(part.startswith("_") for part in parts[1:]):
            names.append(".".join(parts))
    return [name for name in names if _importable(name)]


@pytest.mark.parametrize("name", sorted(EXPORTED))
def test_an_exported_name_has_one_import_path_the_package(name: str) -> None:
    """No public module lists it in its own ``__all__`` but the one defining it.

    (Python lets a name be imported from any module that imports it; ``__all__``
    says where it is meant to come from, and mypy --strict holds src/ to that.)
    """
    module, _ = EXPORTED[name]
    others = [
        other
        for other in _public_modules()
        if other != module and name in getattr(importlib.import_module(other), "__all__", ())
    ]
    assert others == []


def _all_of(module: str) -> list[str] | None:
    names = getattr(importlib.import_module(module), "__all__", None)
    return None if names is None else list(names)


@pytest.mark.parametrize("module", [m for m in _public_modules() if _all_of(m) is not None])
def test_every_name_in_a_public_modules_all_exists(module: str) -> None:
    names = _all_of(module) or []
    assert [n for n in names if not hasattr(importlib.import_module(module), n)] == []
    assert len(set(names)) == len(names)


def test_a_name_is_in_the_all_of_one_public_module() -> None:
    """One import path per name: no object is listed by two modules' ``__all__``.

    A package may list what its own submodules define (``pytest_upgrade``,
    ``grammar``: the httpx pattern); no other module passes a name on.
    """
    listed: dict[tuple[str, int], list[str]] = {}
    for module in _public_modules():
        for name in _all_of(module) or []:
            value = getattr(importlib.import_module(module), name)
            listed.setdefault((name, id(value)), []).append(module)
    doubles = {
        name: modules
        for (name, _), modules in listed.items()
        if len([m for m in modules if not any(o.startswith(m + ".") for o in modules)]) > 1
    }
    assert doubles == {}


def test_the_docs_import_exported_names_from_the_package() -> None:
    wrong = []
    for page in sorted(DOCS.rglob("*.md")):
        for line in page.read_text().splitlines():
            words = line.replace(",", " ").split()
            if line.lstrip().startswith("from pytest_upgrade.") and "import" in words:
                named = set(words[words.index("import") + 1 :]) & set(EXPORTED)
                wrong += [f"{page.relative_to(DOCS)}: {line.strip()}" for _ in named]
    assert wrong == []


def test_every_lazily_imported_name_is_in_the_type_checking_imports() -> None:
    """Type checkers see what ``__getattr__`` returns: the same names, from the same modules."""
    tree = ast.parse((SRC / "__init__.py").read_text())
    seen = {
        alias.name: f"pytest_upgrade.{node.module}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
        for alias in node.names
    }
    assert {name: seen.get(name) for name in EXPORTED} == {
        name: module for name, (module, _) in EXPORTED.items()
    }


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = pytest_upgrade.Nope  # type: ignore[attr-defined]


def test_importing_the_package_does_not_import_the_server() -> None:
    code = (
        "import sys, pytest_upgrade;"
        " heavy = [m for m in ('hypercorn', 'cryptography', 'httpx') if m in sys.modules];"
        " print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
