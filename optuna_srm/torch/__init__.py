"""PyTorch side of optuna-srm (the ``torch`` extra): MetaQNN layer specs as PyTorch models."""

try:
    # torch.nn, not just torch: where PyTorch is missing, any directory named torch on sys.path
    # imports as an empty namespace package.
    import torch.nn  # noqa: F401
except ImportError as error:
    raise ImportError("optuna_srm.torch needs PyTorch: pip install 'optuna-srm[torch]'") from error

from optuna_srm.torch._model import build_model

__all__ = ["build_model"]
