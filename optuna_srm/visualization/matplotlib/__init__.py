"""Plots with matplotlib, as :mod:`optuna.visualization.matplotlib` draws Optuna's."""

from optuna_srm.visualization.matplotlib._prediction_history import plot_prediction_history

__all__ = ["plot_prediction_history"]
