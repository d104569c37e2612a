"""optuna-srm: learning-curve prediction and early stopping for Optuna (Baker et al., 2017)."""

from optuna_srm._pruner import SRMPruner
from optuna_srm._srm import SequentialRegressionModel

__all__ = ["SRMPruner", "SequentialRegressionModel"]
__version__ = "0.1.0"
