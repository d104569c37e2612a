"""QLearningArchitectureSampler: MetaQNN's Q-learning, learned from the study's storage."""

from __future__ import annotations

import datetime
import logging
import math
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from optuna_srm import _keys
from optuna_srm._optuna_internals import all_trials
from optuna_srm._study_cache import StudyCaches, finish_order
from optuna_srm._validation import check_int, check_seed, check_single_objective, is_number
from optuna_srm.architecture._qlearning import (
    DEFAULT_SCHEDULE,
    PAPER_SCHEDULE,
    QTable,
    Transition,
    check_schedule,
    choose,
    epsilon_at,
    scale_schedule,
)
from optuna_srm.architecture._space import MetaQNNSpace, State

_logger = logging.getLogger(__name__)

# Mixed with a trial's number to seed the replay draws that follow it: every worker draws the
# same replays, whatever its own seed.
_REPLAY_SALT = 0x51EA7
_MEMORY_STATES = (TrialState.COMPLETE, TrialState.PRUNED)
# Source directories of optuna_srm and Optuna: a warning names the first caller outside them.
_INSIDE = (
    os.path.dirname(os.path.dirname(__file__)) + os.sep,
    os.path.dirname(optuna.__file__) + os.sep,
)


@dataclass
class _Memory:
    """What one study has taught: the replay memory and the Q-table built from it."""

    q: QTable
    seen: set[int] = field(default_factory=set)  # numbers of the trials looked at
    last_key: tuple[datetime.datetime, int] = (datetime.datetime.min, -1)
    trajectories: list[list[Transition]] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    learned_for: int | None = None  # the trial whose sampling last brought it up to date


class QLearningArchitectureSampler(BaseSampler):
    """Sampler that proposes architectures by MetaQNN's Q-learning.

    The layers that :func:`~optuna_srm.suggest_architecture` asks for are chosen
    epsilon-greedily: with probability epsilon a uniformly random legal layer, otherwise the
    layer with the highest Q-value from the current state (ties broken at random). Epsilon is
    a function of the trial number: 1.0 for the first third of the trials, then 0.05, over
    ``n_trials`` trials (2700, the paper's budget, when it is not given). Every other parameter
    goes to ``independent_sampler``.

    The paper's schedule explores longer, 1.0 for the first 1500 of 2700 models, then 0.9, 0.8,
    0.7 for 100 models each and 0.6 down to 0.1 for 150 each, and learns with ``alpha = 0.01``:
    pass ``epsilon_schedule=QLearningArchitectureSampler.PAPER_EPSILON_SCHEDULE`` and
    ``learning_rate=0.01`` to follow it. The defaults turn to the learned layers sooner and
    learn faster: late in the paper's schedule nearly every architecture still has a few random
    layers, which lead to states whose Q-values have seldom been updated. The price is fewer
    distinct architectures late in the search.

    The Q-values are derived from the study's storage only, so all workers on one database
    learn the same values: the completed and pruned trials are taken in the order they finished,
    and after each one, ``n_replays`` trajectories drawn uniformly from those so far (by a
    random generator seeded with the trial's number) are replayed backwards with
    ``Q(s, a) <- (1 - alpha) Q(s, a) + alpha (r + gamma max Q(s', .))``. The reward is the
    trial's value, negated when the study minimizes; for a pruned trial it is the final value
    that :class:`~optuna_srm.SRMPruner` predicted last (user attr ``srm_predicted_final``), or
    its last reported value when it has none. Failed trials and trials whose params are not an
    architecture of ``space`` teach nothing. Each process keeps what it learned and only adds
    the trials that finished since, so the work per new trial is ``n_replays`` trajectories.

    Under :class:`~optuna.pruners.HyperbandPruner` the sampler reads the trials of the whole
    study, not only those of the bracket it is called for. Multi-objective studies are not
    supported.

    Example:

        .. code::

            import optuna
            import optuna_srm

            space = optuna_srm.MetaQNNSpace(input_shape=(1, 8, 8), conv_filters=(8, 16))
            sampler = optuna_srm.QLearningArchitectureSampler(space, n_trials=30, seed=0)


            def objective(trial):
                layers = optuna_srm.suggest_architecture(trial, space)
                lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
                return space.features(layers)["depth"] - abs(lr - 0.01)


            study = optuna.create_study(direction="maximize", sampler=sampler)
            study.optimize(objective, n_trials=30)

    Args:
        space: The search space that :func:`~optuna_srm.suggest_architecture` is called with
            (default: ``MetaQNNSpace()``).
        n_trials: Scale the epsilon schedule to this many trials (at least 1): the study's
            budget. ``None`` keeps the counts of the schedule.
        epsilon_schedule: A sequence of ``(epsilon, n_models)`` pairs, ``0 <= epsilon <= 1``,
            ``n_models >= 0``; after its end the last epsilon stays. Default:
            ``((1.0, 900), (0.05, 1800))``, the first third at random.
        learning_rate: ``alpha`` in ``(0, 1]``; 0.1 by default (the paper: 0.01).
        discount_factor: ``gamma`` in ``[0, 1]``. The paper's 1.0 by default.
        n_replays: Trajectories replayed after each finished trial, at least 1 (the paper: 100).
        q_init: Q-value of a pair never updated. ``None``: the mean reward so far (the paper
            used 0.5 for accuracies, "around the performance of an average model").
        independent_sampler: Sampler of the parameters that are not architecture layers
            (default: ``RandomSampler(seed=seed)``).
        seed: Seed of the epsilon-greedy choices.
    """

    #: Baker et al. (ICLR 2017), Table 2: ``(epsilon, n_models)`` for SVHN and CIFAR-10.
    PAPER_EPSILON_SCHEDULE: ClassVar[tuple[tuple[float, int], ...]] = PAPER_SCHEDULE

    def __init__(
        self,
        space: MetaQNNSpace | None = None,
        *,
        n_trials: int | None = None,
        epsilon_schedule: Sequence[tuple[float, int]] | None = None,
        learning_rate: float = 0.1,
        discount_factor: float = 1.0,
        n_replays: int = 100,
        q_init: float | None = None,
        independent_sampler: BaseSampler | None = None,
        seed: int | None = None,
    ) -> None:
        if space is not None and not isinstance(space, MetaQNNSpace):
            raise ValueError(f"space must be a MetaQNNSpace or None, but got {space=}.")
        if n_trials is not None:
            check_int("n_trials", n_trials, 1)
        schedule = DEFAULT_SCHEDULE if epsilon_schedule is None else epsilon_schedule
        schedule = check_schedule(schedule)
        if not (is_number(learning_rate) and 0.0 < learning_rate <= 1.0):
            raise ValueError(f"learning_rate must be in (0, 1], but got {learning_rate=}.")
        if not (is_number(discount_factor) and 0.0 <= discount_factor <= 1.0):
            raise ValueError(f"discount_factor must be in [0, 1], but got {discount_factor=}.")
        check_int("n_replays", n_replays, 1)
        if q_init is not None and not (is_number(q_init) and math.isfinite(q_init)):
            raise ValueError(f"q_init must be None or a finite number, but got {q_init=}.")
        if independent_sampler is not None and not isinstance(independent_sampler, BaseSampler):
            raise ValueError(
                f"independent_sampler must be an Optuna sampler, but got {independent_sampler=}."
            )
        seed = check_seed(seed)
        self._space = MetaQNNSpace() if space is None else space
        self._schedule = schedule if n_trials is None else scale_schedule(schedule, n_trials)
        self._learning_rate = float(learning_rate)
        self._discount_factor = float(discount_factor)
        self._n_replays = n_replays
        self._q_init = None if q_init is None else float(q_init)
        self._independent_sampler = independent_sampler or RandomSampler(seed=seed)
        self._rng = np.random.RandomState(seed)
        self._memories: StudyCaches[_Memory] = StudyCaches()
        self._warned_foreign = False  # about layer params of another space
        self._unscaled = n_trials is None and epsilon_schedule is None  # warn at the first layer

    @property
    def space(self) -> MetaQNNSpace:
        return self._space

    def epsilon(self, trial_number: int) -> float:
        """The epsilon of the trial numbered ``trial_number``."""
        return epsilon_at(self._schedule, trial_number)

    def q_values(self, study: optuna.study.Study) -> dict[str, dict[str, float]]:
        """The Q-values learned from ``study``'s finished trials, by state and layer.

        States read ``"depth|previous layer|size bin"``; pairs never updated are left out.
        """
        check_single_objective(study, type(self).__name__)
        with self._memories.lock:
            memory = self._learn(study)
            return {state: dict(row) for state, row in memory.q.values.items()}

    def reseed_rng(self) -> None:
        self._rng.seed()
        self._independent_sampler.reseed_rng()

    def infer_relative_search_space(
        self, study: optuna.study.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(
        self,
        study: optuna.study.Study,
        trial: FrozenTrial,
        search_space: dict[str, BaseDistribution],
    ) -> dict[str, Any]:
        check_single_objective(study, type(self).__name__)
        return {}

    def sample_independent(
        self,
        study: optuna.study.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        check_single_objective(study, type(self).__name__)
        state = self._state_before(trial, param_name, param_distribution)
        if state is None:
            if _keys.is_layer_param(param_name) and not self._warned_foreign:
                self._warned_foreign = True
                _warn_outside(
                    f"The layer param {param_name!r} is not one of the sampler's space, so "
                    "independent_sampler chooses it (and every other such layer): pass the "
                    "same MetaQNNSpace to QLearningArchitectureSampler and suggest_architecture."
                )
            return self._independent_sampler.sample_independent(
                study, trial, param_name, param_distribution
            )
        self._warn_unscaled()
        with self._memories.lock:
            q = self._learn(study, trial.number).q
            return self._choose(q, state, self.epsilon(trial.number))

    def plan_architecture(
        self, study: optuna.study.Study, trial_number: int, space: MetaQNNSpace
    ) -> dict[str, tuple[str, CategoricalDistribution]] | None:
        """All the layer params of one architecture, chosen at once.

        The choices are those that :meth:`sample_independent` would make one layer at a time
        for the trial numbered ``trial_number``; :func:`~optuna_srm.suggest_architecture` uses
        them to store the whole architecture in one write. ``None`` when ``space`` is not the
        sampler's space.

        Returns:
            ``{param name: (layer, distribution)}`` in the order of the layers.
        """
        if space is not self._space and repr(space) != repr(self._space):
            return None
        check_single_objective(study, type(self).__name__)
        self._warn_unscaled()
        planned: dict[str, tuple[str, CategoricalDistribution]] = {}
        with self._memories.lock:
            q = self._learn(study, trial_number).q
            epsilon = self.epsilon(trial_number)

            def choose_layer(state: State, actions: tuple[str, ...]) -> str:
                token = self._choose(q, state, epsilon)
                planned[self._space.param_name(state)] = (token, CategoricalDistribution(actions))
                return token

            self._space.choose_walk(choose_layer)
        return planned

    def before_trial(self, study: optuna.study.Study, trial: FrozenTrial) -> None:
        self._independent_sampler.before_trial(study, trial)

    def after_trial(
        self,
        study: optuna.study.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._independent_sampler.after_trial(study, trial, state, values)

    # --- internals ---------------------------------------------------------------------------

    def _choose(self, q: QTable, state: State, epsilon: float) -> str:
        """The epsilon-greedy layer after ``state``."""
        return choose(
            q, self._space.q_state(state), self._space.actions(state), epsilon, self._rng
        )

    def _warn_unscaled(self) -> None:
        if self._unscaled:
            self._unscaled = False
            _warn_outside(
                "QLearningArchitectureSampler's epsilon schedule spans 2700 trials, uniformly "
                "random for the first 900: pass n_trials= with your budget to scale it (or "
                "epsilon_schedule= to set your own)."
            )

    def _walk(self, params: Mapping[str, Any]) -> list[tuple[State, tuple[str, ...], str | None]]:
        """The steps of the architecture that ``params`` describe, as
        :meth:`MetaQNNSpace.choose_walk` gives them."""
        return self._space.choose_walk(lambda state, _: params.get(self._space.param_name(state)))

    def _state_before(
        self, trial: FrozenTrial, name: str, distribution: BaseDistribution
    ) -> State | None:
        """The state whose next layer the param ``name`` chooses, or None if it chooses none."""
        for state, actions, layer in self._walk(trial.params):
            if layer is None and self._space.param_name(state) == name:
                choices = getattr(distribution, "choices", None)
                return state if choices == actions else None
        return None

    def _trajectory(self, trial: FrozenTrial) -> list[Transition] | None:
        """The transitions of ``trial``'s architecture, or None if it has none of ``space``."""
        space = self._space
        out: list[Transition] = []
        for state, _, layer in self._walk(trial.params):
            if layer is None:
                return None
            nxt = space.step(state, layer)
            out.append(
                Transition(
                    space.q_state(state),
                    layer,
                    None if nxt.terminal else space.q_state(nxt),
                    space.actions(nxt),
                )
            )
        return out

    def _reward(self, study: optuna.study.Study, trial: FrozenTrial) -> float | None:
        value = trial.value
        if trial.state == TrialState.PRUNED:
            predicted = trial.user_attrs.get(_keys.PREDICTED_FINAL)
            if isinstance(predicted, int | float) and not isinstance(predicted, bool):
                value = float(predicted)
            elif value is None and trial.last_step is not None:
                # study.tell sets a pruned trial's value to its last report; add_trial does not.
                value = trial.intermediate_values[trial.last_step]
        if value is None or not math.isfinite(value):
            return None
        return value if study.direction == StudyDirection.MAXIMIZE else -value

    def _learn(self, study: optuna.study.Study, for_trial: int | None = None) -> _Memory:
        """Bring the study's memory up to date with the trials finished since the last call
        (only once per trial when ``for_trial``, the number of the trial being sampled, is
        given: its later layers are chosen from the same Q-values)."""
        known = self._memories.peek(study)
        if known is not None and for_trial is not None and known.value.learned_for == for_trial:
            return known.value
        trials = all_trials(study, _MEMORY_STATES)
        derived = self._memories.get(study, trials, self._new_memory)
        memory = derived.value
        if derived.current(trials):
            memory.learned_for = for_trial
            return memory
        new = sorted((t for t in trials if t.number not in memory.seen), key=finish_order)
        if new and finish_order(new[0]) < memory.last_key:
            # A trial that finished before one already learned from became visible late: learn
            # again from the start so that every worker agrees.
            memory = derived.value = self._new_memory()
            new = sorted(trials, key=finish_order)
        memory.learned_for = for_trial
        for trial in new:
            memory.seen.add(trial.number)
            memory.last_key = finish_order(trial)
            trajectory = self._trajectory(trial)
            reward = self._reward(study, trial)
            if trajectory is None or reward is None:
                continue
            memory.trajectories.append(trajectory)
            memory.rewards.append(reward)
            memory.q.observe_reward(reward)
            rng = np.random.default_rng([trial.number, _REPLAY_SALT])
            for i in rng.integers(len(memory.rewards), size=self._n_replays):
                memory.q.learn(memory.trajectories[i], memory.rewards[i])
        derived.derived_from(trials)
        return memory

    def _new_memory(self) -> _Memory:
        return _Memory(QTable(self._learning_rate, self._discount_factor, self._q_init))


def _warn_outside(message: str) -> None:
    """``warnings.warn`` a ``UserWarning`` attributed to the first caller outside optuna_srm
    and Optuna (the user's objective), however deep in them the warning arises."""
    level, frame = 2, sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_INSIDE):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, stacklevel=level)
