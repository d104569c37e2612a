"""PyTorch side of optuna-srm (the ``torch`` extra): MetaQNN layer specs as PyTorch models, the
data sets to train them on, a training loop that reports every epoch, and device selection."""

try:
    # torch.nn, not just torch: where PyTorch is missing, any directory named torch on sys.path
    # imports as an empty namespace package.
    import torch.nn  # noqa: F401
except ImportError as error:
    raise ImportError("optuna_srm.torch needs PyTorch: pip install 'optuna-srm[torch]'") from error

from optuna_srm.torch._data import DATASETS, Dataset, DatasetError, load_dataset
from optuna_srm.torch._devices import DeviceError, resolve_devices
from optuna_srm.torch._model import build_model
from optuna_srm.torch._train import TrainingError, train_trial

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetError",
    "DeviceError",
    "TrainingError",
    "build_model",
    "load_dataset",
    "resolve_devices",
    "train_trial",
]
