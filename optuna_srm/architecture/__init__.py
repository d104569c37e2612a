"""MetaQNN architecture search: layer specs, the search space, Q-learning and its sampler."""

from optuna_srm.architecture._layers import (
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
from optuna_srm.architecture._sampler import QLearningArchitectureSampler
from optuna_srm.architecture._space import MetaQNNSpace
from optuna_srm.architecture._suggest import suggest_architecture

__all__ = [
    "FC",
    "GAP",
    "Conv",
    "Dropout",
    "Layer",
    "MetaQNNSpace",
    "Pool",
    "QLearningArchitectureSampler",
    "Softmax",
    "format_architecture",
    "parse_architecture",
    "suggest_architecture",
]
