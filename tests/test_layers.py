"""The library's layers: model <- logs <- book <- chapters <- cli, one direction of dependency.

A module may import from its own layer or the layers below it, never from above (model is
the science, usable without the book; the command line sits on top).
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rayint_lib"
LAYERS = ["model", "logs", "book", "chapters", "cli"]


def imported_layers(path: Path) -> set[str]:
    """Layers of ``rayint_lib`` that the module at ``path`` imports (relative or absolute)."""
    here = path.relative_to(PACKAGE).parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[:-node.level]) if node.level <= len(here) - 1 else []
                target = base + (node.module.split(".") if node.module else [])
                names = [a.name for a in node.names] if not target else []
                parts = target or names
            else:
                mod = (node.module or "").split(".")
                parts = mod[1:] if mod[0] == "rayint_lib" else []
                if mod == ["rayint_lib"]:
                    parts = [a.name for a in node.names]
            found.update(p for p in parts[:1] if p in LAYERS)
            if not node.level and (node.module or "") == "rayint_lib":
                found.update(a.name for a in node.names if a.name in LAYERS)
        elif isinstance(node, ast.Import):
            for a in node.names:
                mod = a.name.split(".")
                if mod[0] == "rayint_lib" and len(mod) > 1 and mod[1] in LAYERS:
                    found.add(mod[1])
    return found


MODULES = sorted(p for layer in LAYERS for p in (PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_its_layer_or_below(path):
    layer = path.relative_to(PACKAGE).parts[0]
    above = set(LAYERS[LAYERS.index(layer) + 1:])
    assert not imported_layers(path) & above, f"{path.name} ({layer}) imports from {above}"


def test_the_checker_sees_an_upward_import(tmp_path):
    bad = PACKAGE / "model" / "_upward_probe.py"
    bad.write_text("from ..chapters import minimal_bandit\nfrom rayint_lib.cli import main\n")
    try:
        assert imported_layers(bad) == {"chapters", "cli"}
    finally:
        bad.unlink()
