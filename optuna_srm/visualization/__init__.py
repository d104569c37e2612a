"""Watching the pruner at work: plots of its predictions and a study note for optuna-dashboard.

- :func:`optuna_srm.visualization.matplotlib.plot_prediction_history`: a trial's learning
  curve and the final values that the pruner predicted at its checks (``matplotlib``);
- :func:`write_study_note`: a summary of the pruner's work as the study's note in
  optuna-dashboard (``optuna-dashboard``).

Both read the storage only (the user attrs that :class:`~optuna_srm.SRMPruner` records) and
import their library when called: ``pip install "optuna-srm[dashboard]"`` installs both.
"""

from optuna_srm.visualization import matplotlib
from optuna_srm.visualization._note import write_study_note

__all__ = ["matplotlib", "write_study_note"]
