"""The learning curve of a trial and the final values that the pruner predicted for it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import optuna
from optuna.trial import FrozenTrial, TrialState

from optuna_srm.visualization._history import Z_90, checks, curve, metric_name, trial_numbered

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_logger = logging.getLogger(__name__)
MISSING_MATPLOTLIB = (
    'optuna_srm.visualization.matplotlib needs matplotlib: pip install "optuna-srm[dashboard]"'
)


def plot_prediction_history(study: optuna.Study, trial_number: int) -> Axes:
    """Plot a trial's learning curve and the final values predicted at the pruner's checks.

    The curve is the trial's intermediate values by step. At each step where
    :class:`~optuna_srm.SRMPruner` (or :class:`~optuna_srm.SRMHyperbandPruner`) checked the
    trial, an error bar shows the final value it predicted, with the 90% interval of a normal
    distribution of that standard deviation (the pruner's own probability is from Student's
    t, a little wider where few trials have finished). A dashed step line shows the best
    finished value that each check compared with, and a dotted line the trial's final value
    once it is complete. Everything is read from the storage: the trial's intermediate values
    and its ``srm_history`` user attr. A trial that the pruner never checked shows its curve
    only (with a warning in the log); non-finite intermediate values are left out.

    Example:

        .. code-block:: python

            import math

            import matplotlib.pyplot as plt
            import optuna

            import optuna_srm
            from optuna_srm.visualization.matplotlib import plot_prediction_history


            def objective(trial):
                ceiling = trial.suggest_float("ceiling", 0.5, 1.0)
                rate = trial.suggest_float("rate", 0.05, 0.5)
                for step in range(20):
                    accuracy = ceiling * (1.0 - math.exp(-rate * (step + 1)))
                    trial.report(accuracy, step)
                    if trial.should_prune():
                        raise optuna.TrialPruned()
                return accuracy


            study = optuna.create_study(direction="maximize", pruner=optuna_srm.SRMPruner())
            study.optimize(objective, n_trials=20)
            plot_prediction_history(study, trial_number=study.best_trial.number)
            plt.savefig("prediction_history.png")

    Args:
        study: A single-objective study whose trials the pruner checked.
        trial_number: The number of the trial to plot.

    Returns:
        The :class:`matplotlib.axes.Axes` of a new figure.

    Raises:
        ImportError: matplotlib is not installed.
        ValueError: the study has no trial numbered ``trial_number``, or several objectives.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(MISSING_MATPLOTLIB) from None
    if len(study.directions) > 1:
        raise ValueError(
            "plot_prediction_history needs a single-objective study, but the study has "
            f"{len(study.directions)} objectives."
        )
    trial = trial_numbered(study, trial_number)
    if not checks(trial):
        _logger.warning("Trial %d holds no predictions of the pruner.", trial_number)
    _, ax = plt.subplots()
    draw(ax, trial, metric_name(study))
    return ax


def draw(ax: Axes, trial: FrozenTrial, metric_name: str = "Objective value") -> None:
    """Draw ``trial``'s curve and predictions on ``ax``."""
    from matplotlib.ticker import MaxNLocator

    history = checks(trial)
    steps, values = curve(trial)
    ax.plot(steps, values, marker=".", label="reported value")
    if history:
        ax.errorbar(
            [c.step for c in history],
            [c.predicted for c in history],
            yerr=[Z_90 * c.std for c in history],
            fmt="o",
            capsize=3,
            label="predicted final value (90% interval)",
        )
        bars = [(c.step, c.bar) for c in history if c.bar is not None]
        if bars:
            ax.plot(
                [step for step, _ in bars],
                [bar for _, bar in bars],
                linestyle="--",
                drawstyle="steps-post",
                label="best finished value at the check",
            )
    if trial.state == TrialState.COMPLETE and trial.value is not None:
        ax.axhline(trial.value, linestyle=":", color="black", label="final value")
    ax.set_title(f"Prediction history of trial {trial.number} ({trial.state.name.lower()})")
    ax.set_xlabel("Step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(metric_name)
    ax.legend(loc="best")


def save_png(trials: list[FrozenTrial], metric_name: str, path: str) -> None:
    """Save the plots of ``trials`` side by side as a PNG image at ``path`` (without pyplot,
    so that a server's threads may draw)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(MISSING_MATPLOTLIB) from None
    assert trials
    figure = Figure(figsize=(5.0 * len(trials), 3.8), layout="constrained")
    for ax, trial in zip(figure.subplots(1, len(trials), squeeze=False)[0], trials, strict=True):
        draw(ax, trial, metric_name)
    figure.savefig(path, dpi=80)
