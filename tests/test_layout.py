"""The package's dependencies run one way: what each part may import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "optuna_srm"


def imports(part: str) -> set[str]:
    """Every module that the files of ``optuna_srm/<part>`` import (absolute names)."""
    found = set()
    for path in (PACKAGE / part).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
    return found


def test_the_prediction_core_needs_numpy_and_scikit_learn_only() -> None:
    roots = {name.split(".")[0] for name in imports("prediction")}
    assert "optuna" not in roots and "torch" not in roots
    ours = {name for name in imports("prediction") if name.startswith("optuna_srm.")}
    assert all(
        name.startswith("optuna_srm.prediction") or name == "optuna_srm._validation"
        for name in ours
    ), ours


@pytest.mark.parametrize(
    ("part", "other"), [("pruners", "architecture"), ("architecture", "pruners")]
)
def test_pruners_and_architecture_search_do_not_import_each_other(part: str, other: str) -> None:
    assert not any(name.startswith(f"optuna_srm.{other}") for name in imports(part))


@pytest.mark.parametrize("part", ["prediction", "pruners", "architecture", "visualization"])
def test_only_the_torch_extra_and_the_command_import_torch(part: str) -> None:
    assert not any(name.split(".")[0] in ("torch", "torchvision") for name in imports(part))


def test_only_the_boundary_module_imports_optuna_internals() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.name == "_optuna_internals.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                private = [part for part in node.module.split(".")[1:] if part.startswith("_")]
                assert not (node.module.startswith("optuna.") and private), (path, node.module)
