"""Optuna pruners built on the prediction core."""

from optuna_srm.pruners._hyperband import SRMHyperbandPruner
from optuna_srm.pruners._srm import SRMPruner

__all__ = ["SRMHyperbandPruner", "SRMPruner"]
