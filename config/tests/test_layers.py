"""Layers point one way: a package never imports one above it, not even inside a function."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Each package, and the packages above it that it must not import (its tests aside: they may use
# the fixtures of the apps above).
ABOVE = {
    "driver": {"config", "accounts", "postings", "webhooks", "dashboard"},
    "accounts": {"postings", "webhooks", "dashboard"},
    "postings": {"webhooks", "dashboard"},
    "webhooks": {"dashboard"},
}


def imported_packages(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ABOVE))
def test_a_package_imports_none_above_it(package):
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & ABOVE[package])
        for path in (ROOT / package).rglob("*.py") if "tests" not in path.relative_to(ROOT).parts
    }
    assert {path: names for path, names in wrong.items() if names} == {}
