"""The direction of imports (DESIGN.md): the leaf apps import ``practice``, never
each other, and ``practice`` imports none of them; it reaches them through
settings and the extension points they fill (email kinds, reminder builders,
the Today page's panels, the appointment display hook).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
LEAF_APPS = ("consultations", "kap_sessions", "newsletter")


def imported_apps(package: str) -> dict[str, set[str]]:
    """For each module of ``package``: the top-level packages it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_practice_imports_no_leaf_app():
    offending = {
        module: sorted(names & set(LEAF_APPS))
        for module, names in imported_apps("practice").items()
        if names & set(LEAF_APPS)
    }

    assert offending == {}


@pytest.mark.parametrize("app", LEAF_APPS)
def test_a_leaf_app_imports_no_other_leaf_app(app):
    others = set(LEAF_APPS) - {app}
    offending = {
        module: sorted(names & others)
        for module, names in imported_apps(app).items()
        if names & others
    }

    assert offending == {}
