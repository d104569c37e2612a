"""The prediction core: learning-curve features, regressors, sequential regression models and
the stopping rule. Plain numpy and scikit-learn; nothing here imports Optuna."""

from optuna_srm.prediction._sequential import SequentialRegressionModel

__all__ = ["SequentialRegressionModel"]
