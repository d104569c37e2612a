"""optuna-srm: learning-curve prediction and early stopping for Optuna (Baker et al., 2017)."""

from optuna_srm._hyperband import SRMHyperbandPruner
from optuna_srm._layers import (
    FC,
    GAP,
    Conv,
    Dropout,
    Layer,
    Pool,
    Softmax,
    format_architecture,
    parse_architecture,
)
from optuna_srm._pruner import SRMPruner
from optuna_srm._sampler import QLearningArchitectureSampler
from optuna_srm._space import MetaQNNSpace
from optuna_srm._srm import SequentialRegressionModel
from optuna_srm._suggest import suggest_architecture

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
]
__version__ = "0.1.0"
