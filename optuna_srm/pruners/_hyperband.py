"""SRMHyperbandPruner: Hyperband's brackets with SRMPruner's early stopping inside them."""

from __future__ import annotations

import logging

import optuna
from optuna.pruners import HyperbandPruner
from optuna.trial import FrozenTrial

from optuna_srm._study_cache import PicklableLock
from optuna_srm._validation import check_int, check_single_objective, is_int
from optuna_srm.pruners._srm import SRMPruner

_logger = logging.getLogger(__name__)


class SRMHyperbandPruner(HyperbandPruner):
    """Hyperband whose trials are also stopped when a sequential regression model expects them
    to lose (after the paper's f-Hyperband).

    Every trial runs in one of Hyperband's successive-halving brackets and is stopped at a rung
    where it is not among the best ``1 / reduction_factor`` of its bracket, as with
    :class:`optuna.pruners.HyperbandPruner`. At every step that Hyperband lets it pass,
    ``srm_pruner`` (an :class:`SRMPruner`, default ``SRMPruner()``) also stops it when its
    predicted final value is unlikely to beat the best finished trial. The model learns from
    every finished trial of the study, whatever its bracket, and records its user attrs
    (``srm_predicted_final``, ...) at each check as :class:`SRMPruner` does. The threads of
    ``study.optimize(n_jobs=...)`` may share one pruner; should Hyperband's own check fail,
    the pruner logs a warning and the SRM rule alone decides.

    Example:

        .. testcode::

            import math

            import optuna

            import optuna_srm


            def objective(trial):
                rate = trial.suggest_float("rate", 0.01, 1.0, log=True)
                ceiling = trial.suggest_float("ceiling", 0.5, 1.0)
                for step in range(20):
                    accuracy = ceiling * (1.0 - math.exp(-rate * (step + 1)))
                    trial.report(accuracy, step)
                    if trial.should_prune():
                        raise optuna.TrialPruned()
                return accuracy


            pruner = optuna_srm.SRMHyperbandPruner(max_resource=20)
            study = optuna.create_study(direction="maximize", pruner=pruner)
            study.optimize(objective, n_trials=30)

    Args:
        min_resource:
            Steps a trial runs at least before its first rung; at least 1. As in
            :class:`optuna.pruners.HyperbandPruner`.
        max_resource:
            Steps of a fully trained trial (the number of ``trial.report`` calls), at least
            ``min_resource``, or ``"auto"`` to take them from the first finished trial. As in
            :class:`optuna.pruners.HyperbandPruner`.
        reduction_factor:
            A trial is promoted at a rung when it is among the best ``1 / reduction_factor``
            of its bracket there; at least 2.
        bootstrap_count:
            Trials a rung needs before any is promoted; at least 0, and 0 with
            ``max_resource="auto"``.
        srm_pruner:
            The :class:`SRMPruner` whose rule runs inside the brackets; ``None`` for
            ``SRMPruner()``.
    """

    def __init__(
        self,
        min_resource: int = 1,
        max_resource: str | int = "auto",
        reduction_factor: int = 3,
        bootstrap_count: int = 0,
        *,
        srm_pruner: SRMPruner | None = None,
    ) -> None:
        check_int("min_resource", min_resource, 1)
        if max_resource != "auto" and not (is_int(max_resource) and max_resource >= min_resource):
            raise ValueError(
                f"max_resource must be 'auto' or an integer >= min_resource ({min_resource}), "
                f"but got {max_resource=}."
            )
        check_int("reduction_factor", reduction_factor, 2)
        check_int("bootstrap_count", bootstrap_count, 0)
        if srm_pruner is not None and not isinstance(srm_pruner, SRMPruner):
            raise TypeError(f"srm_pruner must be an SRMPruner or None, but got {srm_pruner=}.")
        super().__init__(
            int(min_resource),
            max_resource if isinstance(max_resource, str) else int(max_resource),
            int(reduction_factor),
            int(bootstrap_count),
        )
        self._srm = SRMPruner() if srm_pruner is None else srm_pruner
        # HyperbandPruner builds its brackets at its first check without a lock: threads of
        # study.optimize(n_jobs=...) could build them twice and then fail on every trial.
        self._lock = PicklableLock()

    def prune(self, study: optuna.study.Study, trial: FrozenTrial) -> bool:
        check_single_objective(study, type(self).__name__)
        # Hyperband first: its rung checks record the trial's value at each rung it reaches.
        try:
            with self._lock:
                if super().prune(study, trial):
                    return True
        except Exception:  # A pruner must never stop the user's training.
            _logger.warning(
                "Hyperband could not decide on trial %d; the SRM rule alone decides.",
                trial.number,
                exc_info=True,
            )
        return self._srm.prune(study, trial)
