"""SRMPruner: stop trials whose predicted final value is unlikely to beat the best one."""

from __future__ import annotations

import bisect
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.pruners import BasePruner
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from optuna_srm import _keys
from optuna_srm._optuna_internals import set_user_attrs
from optuna_srm._study_cache import StudyCaches, finish_order
from optuna_srm._validation import check_int, check_seed, check_single_objective, is_number
from optuna_srm.prediction._features import ParamEncoder, ParamValue, clean_curve
from optuna_srm.prediction._regressors import REGRESSORS
from optuna_srm.prediction._rule import StepModel, fit_step_model, saved_fraction
from optuna_srm.pruners._history import with_check

_logger = logging.getLogger(__name__)

# The models learn from the first n finished trials, n from a schedule that grows by this
# fraction: they are refitted when the finished trials have grown by it.
_REFIT_GROWTH = 0.1
# Learn from at most this many finished trials unless told otherwise.
_DEFAULT_MAX_TRAIN_TRIALS = 200
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass
class _StepEntry:
    """The model of one step, and what it was fitted on."""

    n_fit: int  # it learned from the first this many finished trials, in the order they finished
    encoder: ParamEncoder
    model: StepModel | None  # None where no model applies at this step
    leader: float = math.inf  # the best value of the finished trials at this step


@dataclass
class _StudyState:
    """What the pruner derived from one study's finished (complete and pruned) trials."""

    finished: list[FrozenTrial] = field(default_factory=list)  # complete, with value and curve
    best: float = -math.inf  # the best value among ``finished``, times the direction's sign
    horizon: int = 0  # the last step among ``finished``
    n_fit: int = 0  # the models learn from the first this many of ``finished``
    grid: list[int] = field(default_factory=list)  # the steps that those trials reported
    steps: dict[int, _StepEntry] = field(default_factory=dict)  # the model of each step


class SRMPruner(BasePruner):
    """Pruner that stops trials whose predicted final value is unlikely to beat the best.

    At every step a sequential regression model predicts the running trial's final value from
    its learning curve so far and its hyperparameters. The trial is pruned when its probability
    of ending better than the best finished trial is below ``relative_threshold / (n + 1)``,
    where ``1 / (n + 1)`` is the chance that one more trial like the ``n`` finished ones beats
    the best of them: a trial is stopped only when the model makes it at least
    ``1 / relative_threshold`` times less likely to win than a trial it knows nothing about.
    (A fixed threshold, the paper's ``Delta``, stops every trial without any evidence once
    enough trials have finished, since the chance to beat the best of many is small for all.)
    The threshold is further multiplied by the fraction of the training that stopping would
    save, ``(T - step) / (T - first step + 1)`` with ``T`` the finished trials' last step: late
    in a curve there is little to gain and a last-epoch jump can still decide the winner, so
    the evidence must be stronger.

    The model of a step learns from the finished trials' curves up to that step and, to start
    saving long before many trials have finished, from the trials stopped later than that step,
    with their final values estimated by the prediction recorded at their last check. The
    models learn from the first trials to finish (``n_startup_trials``, then 10% more at each
    refit): every worker on the same storage fits the same models and decides alike. The
    probability comes from Student's t with ``n - 1`` degrees of freedom around the prediction,
    scaled by the leave-one-out errors of nearby finished trials. A running trial's features
    beyond the range of the finished trials' (a learning rate larger than any tried so far)
    are clipped to it (widened by a tenth), so no trial is stopped on a wild extrapolation,
    and a trial whose value at a step is at least the best of the finished trials' at that step
    is never stopped there.
    Before it prunes at a step, the model must pass a self-check: replayed on the
    ``n_top_check`` best finished trials, each against the next-best final value below its
    own, the rule must not stop any of them. That keeps the pruner from stopping trials at
    steps where the curves still cross, such as before the drop of a learning-rate schedule.

    At each check where a model applies, the pruner records the user attrs
    ``srm_predicted_final``, ``srm_predicted_std``, ``srm_p_improve`` and ``srm_step`` of the
    trial, and adds the check to ``srm_history``: rows of ``[step, predicted final value, std,
    p_improve, best finished value]``, at most 200 (beyond them, the row whose neighbours lie
    closest together goes), which :mod:`optuna_srm.visualization` plots. Nothing is pruned
    before ``n_startup_trials`` trials have finished, nor at or past the last step of the
    finished trials (there is nothing left to save).

    Intermediate values that are NaN or infinite count as missing (the last finite value
    stands in for them); a trial without a finite value is not pruned; finished trials with a
    non-finite value or no intermediate values are not learned from. When fitting fails, the
    pruner logs a warning and does not prune. The threads of ``study.optimize(n_jobs=...)``
    may share one pruner: one at a time updates its caches and fits a model.

    Example:

        .. testcode::

            import optuna
            from sklearn.datasets import load_digits
            from sklearn.linear_model import SGDClassifier
            from sklearn.model_selection import train_test_split

            import optuna_srm

            X, y = load_digits(return_X_y=True)
            X_train, X_valid, y_train, y_valid = train_test_split(X, y, random_state=0)


            def objective(trial):
                alpha = trial.suggest_float("alpha", 1e-6, 1e-1, log=True)
                clf = SGDClassifier(alpha=alpha, random_state=0)
                for step in range(20):
                    clf.partial_fit(X_train, y_train, classes=list(range(10)))
                    trial.report(clf.score(X_valid, y_valid), step)
                    if trial.should_prune():
                        raise optuna.TrialPruned()
                return clf.score(X_valid, y_valid)


            study = optuna.create_study(direction="maximize", pruner=optuna_srm.SRMPruner())
            study.optimize(objective, n_trials=30)

    Args:
        relative_threshold:
            A trial is pruned when its probability of beating the best of ``n`` finished
            trials is below ``relative_threshold / (n + 1)`` times the fraction of the
            training that stopping saves; in ``(0, 1)``. Smaller is safer and slower.
        n_startup_trials:
            No pruning until this many trials have finished with a value and a learning
            curve; at least 3.
        n_warmup_steps:
            No pruning before this step; at least 0.
        interval_steps:
            Check every this many steps after the warm-up (at the first step reported in each
            interval, as Optuna's pruners do); at least 1.
        n_top_check:
            How many of the best finished trials the self-check replays; at least 1.
        max_train_trials:
            Learn from at most this many finished trials (the latest ones), which bounds the
            cost of a fit as the study grows; at least ``n_startup_trials``. ``None`` (the
            default) means 200, or ``n_startup_trials`` where that is more.
        regressor:
            The regression model: ``"auto"`` (kernel ridge regression of the gain over the
            last value, with the RBF plus linear kernel that closed-form leave-one-out
            prefers), ``"kernel_ridge"`` (the mean over every kernel of the grid, the linear
            one included, as in :class:`SequentialRegressionModel`) or one of the paper's
            ``"nu_svr_rbf"``, ``"nu_svr_linear"``, ``"random_forest"``, ``"ols"``.
        seed:
            Seed of the searched regressors (the default regressor is deterministic).

    See Baker et al., "Accelerating Neural Architecture Search using Performance Prediction",
    https://arxiv.org/abs/1705.10823.
    """

    def __init__(
        self,
        relative_threshold: float = 0.02,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        *,
        interval_steps: int = 1,
        n_top_check: int = 5,
        max_train_trials: int | None = None,
        regressor: str = "auto",
        seed: int | None = None,
    ) -> None:
        if not (is_number(relative_threshold) and 0.0 < relative_threshold < 1.0):
            raise ValueError(
                f"relative_threshold must be in (0, 1), but got {relative_threshold=}."
            )
        check_int("n_startup_trials", n_startup_trials, 3)
        check_int("n_warmup_steps", n_warmup_steps, 0)
        check_int("interval_steps", interval_steps, 1)
        check_int("n_top_check", n_top_check, 1)
        if max_train_trials is None:
            max_train_trials = max(_DEFAULT_MAX_TRAIN_TRIALS, n_startup_trials)
        check_int("max_train_trials", max_train_trials, n_startup_trials)
        if regressor not in REGRESSORS:
            raise ValueError(f"regressor must be one of {REGRESSORS}, but got {regressor=}.")
        seed = check_seed(seed)
        self._relative_threshold = float(relative_threshold)
        self._n_startup_trials = n_startup_trials
        self._n_warmup_steps = n_warmup_steps
        self._interval_steps = interval_steps
        self._n_top_check = n_top_check
        self._max_train_trials = max_train_trials
        self._regressor = regressor
        self._seed = 0 if seed is None else seed
        self._studies: StudyCaches[_StudyState] = StudyCaches()

    def prune(self, study: optuna.study.Study, trial: FrozenTrial) -> bool:
        check_single_objective(study, type(self).__name__)
        step = trial.last_step
        if step is None or not self._is_check_step(trial, step):
            return False
        try:
            return self._check(study, trial, step)
        except Exception:  # A pruner must never stop the user's training.
            _logger.warning(
                "SRMPruner could not decide on trial %d at step %d; the trial goes on.",
                trial.number,
                step,
                exc_info=True,
            )
            return False

    def _is_check_step(self, trial: FrozenTrial, step: int) -> bool:
        """Whether ``step`` is past the warm-up and the first reported step of its interval,
        as with Optuna's pruners."""
        if step < self._n_warmup_steps:
            return False
        boundary = step - (step - self._n_warmup_steps) % self._interval_steps
        return max((s for s in trial.intermediate_values if s < step), default=-1) < boundary

    def _check(self, study: optuna.study.Study, trial: FrozenTrial, step: int) -> bool:
        """Predict the trial's final value, record the prediction, and apply the rule."""
        sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
        prefix = _prefix(trial, step, sign)
        if not prefix.size:
            return False
        with self._studies.lock:
            # Read inside the lock: a thread never sees fewer finished trials than the cache.
            trials = study.get_trials(deepcopy=False, states=_FINISHED)
            state = self._study_state(study, trials, sign)
            entry = self._step_entry(state, trials, step, sign)
            best, horizon = state.best, state.horizon
        if entry is None or entry.model is None:
            return False
        model = entry.model  # fitted once, only read from here on
        mean, std = model.predict(prefix, entry.encoder.transform([trial_features(trial)]))
        if not (math.isfinite(mean) and math.isfinite(std)):
            raise ValueError(f"the model predicted {mean} with std {std}")
        p_improve = model.p_improve(mean, std, best)
        attrs: dict[str, Any] = {
            _keys.PREDICTED_FINAL: sign * mean,
            _keys.PREDICTED_STD: std,
            _keys.P_IMPROVE: p_improve,
            _keys.STEP: step,
        }
        # Only written, never read back by the rule: the decision is the same without it.
        history = with_check(
            trial.user_attrs.get(_keys.PREDICTION_HISTORY),
            step,
            sign * mean,
            std,
            p_improve,
            sign * best,
        )
        if history is not None:
            attrs[_keys.PREDICTION_HISTORY] = history
        set_user_attrs(study, trial, attrs)
        saved = saved_fraction(step, min(trial.intermediate_values), horizon)
        return model.should_stop(
            p_improve, self._relative_threshold, last=prefix[-1], leader=entry.leader, saved=saved
        )

    def _study_state(
        self, study: optuna.study.Study, trials: list[FrozenTrial], sign: float
    ) -> _StudyState:
        """The state of ``study``, whose finished trials are ``trials``, brought up to date."""
        derived = self._studies.get(study, trials, _StudyState)
        state = derived.value
        if derived.current(trials):
            return state
        state.finished, state.best, state.horizon = [], -math.inf, 0
        for t in trials:
            values = t.values  # (t.value checks the number of objectives at every call)
            complete = t.state == TrialState.COMPLETE and t.intermediate_values
            if complete and values and math.isfinite(values[0]):
                state.finished.append(t)
                state.best = max(state.best, sign * values[0])
                state.horizon = max(state.horizon, t.last_step or 0)
        # In the order they finished, so that those the models learn from stay the same as more
        # finish: every worker, whatever it checked before, fits the same models.
        state.finished.sort(key=finish_order)
        n_fit = _n_fit(len(state.finished), self._n_startup_trials)
        if n_fit != state.n_fit:  # the steps' models and their grid change together
            state.n_fit = n_fit
            state.grid = sorted({s for t in self._training(state) for s in t.intermediate_values})
        derived.derived_from(trials)
        return state

    def _step_entry(
        self, state: _StudyState, trials: list[FrozenTrial], step: int, sign: float
    ) -> _StepEntry | None:
        """The model that applies at ``step``, fitted where it is missing or out of date;
        ``None`` before ``n_startup_trials`` trials have finished or before their first step.

        Steps between two that the finished trials reported see the same finished prefixes:
        they share the model of the earlier one.
        """
        if len(state.finished) < self._n_startup_trials:
            return None
        position = bisect.bisect_right(state.grid, step) - 1
        if position < 0:
            return None
        key = state.grid[position]
        entry = state.steps.get(key)
        if entry is None or entry.n_fit != state.n_fit:
            entry = state.steps[key] = self._fit_step(state, trials, key, sign)
        return entry

    def _training(self, state: _StudyState) -> list[FrozenTrial]:
        """The finished trials the models learn from: the latest ``max_train_trials`` of the
        first ``n_fit`` to finish."""
        return state.finished[: state.n_fit][-self._max_train_trials :]

    def _fit_step(
        self, state: _StudyState, trials: list[FrozenTrial], step: int, sign: float
    ) -> _StepEntry:
        """Fit the model of ``step``.

        Its ``model`` is ``None`` where no model applies: too few finished trials reached
        ``step``, or ``step`` is at or past their last step (pruning would save nothing there).
        """
        training = self._training(state)
        no_model = _StepEntry(state.n_fit, ParamEncoder(), None)
        if step >= max(t.last_step or 0 for t in training):
            return no_model
        # Stopped before the last of the training trials finished: the same on every worker.
        cutoff = finish_order(state.finished[state.n_fit - 1])
        stopped = [
            t
            for t in trials
            if t.state == TrialState.PRUNED
            and t.last_step is not None
            and t.last_step > step
            and finish_order(t) <= cutoff
        ][-self._max_train_trials :]
        rows = [(t, _prefix(t, step, sign), sign * float(t.value or 0.0)) for t in training]
        rows = [row for row in rows if row[1].size]
        if len(rows) < self._n_startup_trials:
            return no_model
        n_observed = len(rows)
        leader = max(prefix[-1] for _, prefix, _ in rows)
        n_imputed = self._max_train_trials - n_observed
        if n_imputed > 0:
            rows += _imputed(stopped, step, sign)[-n_imputed:]
        log_names = frozenset(
            name
            for t, _, _ in rows
            for name, d in t.distributions.items()
            if isinstance(d, FloatDistribution | IntDistribution) and d.log
        ) | {_keys.NUM_PARAMS}
        encoder = ParamEncoder(log_names).fit([trial_features(t) for t, _, _ in rows])
        model = fit_step_model(
            [p for _, p, _ in rows],
            encoder.transform([trial_features(t) for t, _, _ in rows]),
            np.array([value for _, _, value in rows]),
            np.arange(len(rows)) < n_observed,
            relative_threshold=self._relative_threshold,
            regressor=self._regressor,
            n_top=self._n_top_check,
            seed=self._seed,
        )
        _logger.debug(
            "SRMPruner fitted the model of step %d on %d finished and %d stopped trials "
            "(trusted: %s).",
            step,
            n_observed,
            len(rows) - n_observed,
            model.trusted,
        )
        return _StepEntry(state.n_fit, encoder, model, leader)


def _imputed(
    stopped: list[FrozenTrial], step: int, sign: float
) -> list[tuple[FrozenTrial, np.ndarray, float]]:
    """Estimated final values of trials stopped after ``step``.

    Each is the prediction the pruner recorded at the trial's last check, where that was after
    ``step``: read from the storage, so every worker learns the same from it.
    """
    rows = []
    for t in stopped:
        predicted = t.user_attrs.get(_keys.PREDICTED_FINAL)
        checked = t.user_attrs.get(_keys.STEP)
        if not (isinstance(predicted, float) and isinstance(checked, int) and checked > step):
            continue
        if math.isfinite(predicted) and (own := _prefix(t, step, sign)).size:
            rows.append((t, own, sign * predicted))
    return rows


def _n_fit(n_finished: int, n_startup_trials: int) -> int:
    """The largest ``n`` at most ``n_finished`` in the schedule ``n_startup_trials``, then
    each time ``_REFIT_GROWTH`` more (at least one more)."""
    n = n_startup_trials
    while n < n_finished:
        following = max(n + 1, int(n * (1.0 + _REFIT_GROWTH)))
        if following > n_finished:
            break
        n = following
    return min(n, n_finished)


def _prefix(trial: FrozenTrial, step: int, sign: float) -> np.ndarray:
    values = [v for s, v in sorted(trial.intermediate_values.items()) if s <= step]
    return clean_curve(sign * np.asarray(values, dtype=float))


def trial_features(trial: FrozenTrial) -> dict[str, ParamValue]:
    """The trial's params as model features; an architecture from ``suggest_architecture``
    enters as its depth and parameter count (user attrs) instead of one categorical per layer."""
    out: dict[str, ParamValue] = {
        name: value for name, value in trial.params.items() if not _keys.is_layer_param(name)
    }
    for name in (_keys.DEPTH, _keys.NUM_PARAMS):
        value = trial.user_attrs.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = value
    return out
