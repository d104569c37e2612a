"""optuna_srm.torch is optional: the core never imports torch, and without it the error says why.

No ``pytest.importorskip`` here: these tests hold whether PyTorch is installed or not.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import optuna_srm  # noqa: F401  # imports scipy now: it fails on sys.modules["torch"] = None


def test_core_does_not_import_torch() -> None:
    code = (
        "import sys, optuna_srm\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision'))\n"
        "assert not loaded, loaded\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )

    assert completed.returncode == 0, completed.stderr[-2000:]


def test_without_torch_the_import_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # "import torch" now raises ImportError
    for name in ("optuna_srm.torch", "optuna_srm.torch._model"):
        monkeypatch.delitem(sys.modules, name, raising=False)

    with pytest.raises(ImportError, match=r"pip install 'optuna-srm\[torch\]'") as info:
        importlib.import_module("optuna_srm.torch")

    assert str(info.value) == "optuna_srm.torch needs PyTorch: pip install 'optuna-srm[torch]'"
    assert isinstance(info.value.__cause__, ImportError)
