"""Every code example in the public docstrings, and the README's usage example, runs as written."""

from __future__ import annotations

import contextlib
import importlib
import inspect
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import optuna_srm

# An example is the indented block after one of these reStructuredText directives.
_DIRECTIVE = re.compile(r"^(?P<indent> *)\.\. (?:code|testcode|code-block)::.*$")


def _public_objects() -> Iterator[tuple[str, object]]:
    modules = [optuna_srm]
    with contextlib.suppress(ImportError):  # without the torch extra
        modules.append(importlib.import_module("optuna_srm.torch"))
    for module in modules:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            yield f"{module.__name__}.{name}", obj
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and inspect.isfunction(member):
                        yield f"{module.__name__}.{name}.{attr}", member


def examples(doc: str) -> list[str]:
    """The code blocks of ``doc``, dedented."""
    lines = doc.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        match = _DIRECTIVE.match(line)
        if match is None:
            continue
        indent = len(match["indent"])
        body = []
        for following in lines[i + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            body.append(following)
        blocks.append(textwrap.dedent("\n".join(body)).strip("\n"))
    return blocks


def _cases() -> list[Any]:
    cases = []
    for name, obj in _public_objects():
        for number, code in enumerate(examples(inspect.getdoc(obj) or "")):
            cases.append(pytest.param(code, id=f"{name}-{number}"))
    return cases


CASES = _cases()


def test_examples_finds_indented_blocks_after_each_directive() -> None:
    doc = "Intro.\n\nExample:\n\n    .. code::\n\n        a = 1\n\n        b = a\n    After.\n"
    assert examples(doc) == ["a = 1\n\nb = a"]
    # The pruner, estimator, sampler, space, suggest_architecture, the layer strings (and
    # build_model with the torch extra) have one each.
    assert len(CASES) >= 6


@pytest.mark.parametrize("code", CASES)
def test_docstring_example_runs(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # an example may write a storage file
    exec(compile(code, "<docstring example>", "exec"), {"__name__": "__example__"})


@pytest.mark.slow
def test_readme_usage_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)[0]  # "Usage"
    code = code.replace("n_trials=50", "n_trials=20")  # enough for the pruner to check
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "__example__"}
    exec(compile(code, "README.md", "exec"), namespace)
    study = namespace["study"]
    assert len(study.trials) == 20
    assert (tmp_path / "search.db").exists()
    assert any("srm_p_improve" in t.user_attrs for t in study.trials)


def _readme_blocks() -> list[str]:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)


def test_readme_prediction_example_runs() -> None:
    code = next(block for block in _readme_blocks() if "SequentialRegressionModel()" in block)
    namespace: dict[str, Any] = {"__name__": "__example__"}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["mean"].shape == namespace["std"].shape == (3,)


@pytest.mark.slow
def test_readme_architecture_search_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch")
    code = next(block for block in _readme_blocks() if "suggest_architecture" in block)
    code = code.replace("n_trials=60)", "n_trials=4)").replace("epochs=10", "epochs=2")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "__example__"}
    exec(compile(code, "README.md", "exec"), namespace)
    study = namespace["study"]
    assert len(study.trials) == 4
    assert all(t.user_attrs["architecture"].startswith("[") for t in study.trials)
