"""optuna-srm: learning-curve prediction and early stopping for Optuna (Baker et al., 2017).

The public names live in subpackages and are re-exported here:

- :mod:`optuna_srm.prediction`: :class:`SequentialRegressionModel` (numpy and scikit-learn);
- :mod:`optuna_srm.pruners`: :class:`SRMPruner`, :class:`SRMHyperbandPruner`;
- :mod:`optuna_srm.architecture`: MetaQNN's layer specs, :class:`MetaQNNSpace`,
  :class:`QLearningArchitectureSampler`, :func:`suggest_architecture`;
- :mod:`optuna_srm.torch` (the ``torch`` extra): models, data sets and training;
- :mod:`optuna_srm.visualization` (the ``dashboard`` extra): plots of the pruner's predictions
  and a study note for optuna-dashboard.
"""

from optuna_srm import visualization
from optuna_srm.architecture import (
    FC,
    GAP,
    Conv,
    Dropout,
    Layer,
    MetaQNNSpace,
    Pool,
    QLearningArchitectureSampler,
    Softmax,
    format_architecture,
    parse_architecture,
    suggest_architecture,
)
from optuna_srm.prediction import SequentialRegressionModel
from optuna_srm.pruners import SRMHyperbandPruner, SRMPruner

__all__ = [
    "FC",
    "GAP",
    "Conv",
    "Dropout",
    "Layer",
    "MetaQNNSpace",
    "Pool",
    "QLearningArchitectureSampler",
    "SRMHyperbandPruner",
    "SRMPruner",
    "SequentialRegressionModel",
    "Softmax",
    "format_architecture",
    "parse_architecture",
    "suggest_architecture",
    "visualization",
]
__version__ = "0.1.0"
