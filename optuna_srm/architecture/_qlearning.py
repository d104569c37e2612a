"""Q-learning over layer sequences (MetaQNN): Q-table, replay and epsilon schedule.

Plain Python and numpy: no Optuna here. States and actions are strings; a trajectory is the
list of transitions of one architecture, and its reward arrives at the terminal transition.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optuna_srm._validation import is_int, is_number

# Baker et al. (ICLR 2017), Table 2: (epsilon, number of models) for SVHN and CIFAR-10.
PAPER_SCHEDULE: tuple[tuple[float, int], ...] = (
    (1.0, 1500),
    (0.9, 100),
    (0.8, 100),
    (0.7, 100),
    (0.6, 150),
    (0.5, 150),
    (0.4, 150),
    (0.3, 150),
    (0.2, 150),
    (0.1, 150),
)

# The default: uniformly random layers for the first third of the trials, then the greedy layer
# but for 5% random ones; over the paper's 2700 models unless scaled to a budget. Shorter than
# the paper's exploration, whose late per-layer epsilon puts a few random layers into nearly
# every architecture, leading to states whose Q-values have seldom been updated.
DEFAULT_SCHEDULE: tuple[tuple[float, int], ...] = ((1.0, 900), (0.05, 1800))


@dataclass(frozen=True)
class Transition:
    state: str
    action: str
    next_state: str | None  # None: the action terminates the architecture
    next_actions: tuple[str, ...]  # the legal actions of next_state


class QTable:
    """Q-values of (state, action) pairs, updated as in MetaQNN.

    ``Q(s, a) <- (1 - alpha) Q(s, a) + alpha (r + gamma max_a' Q(s', a'))`` along a trajectory,
    from its last transition back to its first; ``r`` is the reward at the terminal transition
    and 0 elsewhere. Pairs never updated have the value ``q_init``, or, when it is None, the
    mean of the rewards observed so far.
    """

    def __init__(self, learning_rate: float, discount_factor: float, q_init: float | None):
        self.learning_rate = learning_rate
        self.discount_factor = discount_factor
        self.q_init = q_init
        self.values: dict[str, dict[str, float]] = {}
        # Per state: the largest updated value and its action (None: recompute).
        self._best: dict[str, tuple[float, str] | None] = {}
        self._reward_sum = 0.0
        self._n_rewards = 0

    @property
    def default(self) -> float:
        if self.q_init is not None:
            return self.q_init
        return self._reward_sum / self._n_rewards if self._n_rewards else 0.0

    def observe_reward(self, reward: float) -> None:
        self._reward_sum += reward
        self._n_rewards += 1

    def value(self, state: str, action: str) -> float:
        return self.values.get(state, {}).get(action, self.default)

    def best_value(self, state: str, actions: Sequence[str]) -> float:
        """``max_a Q(state, a)`` over the legal ``actions``."""
        updated = self.values.get(state)
        if not updated:
            return self.default
        best = self._best.get(state)
        if best is None:
            action = max(updated, key=updated.__getitem__)
            best = (updated[action], action)
            self._best[state] = best
        if len(updated) < len(actions):
            return max(best[0], self.default)
        return best[0]

    def learn(self, trajectory: Sequence[Transition], reward: float) -> None:
        """Replay one trajectory backwards."""
        alpha, gamma = self.learning_rate, self.discount_factor
        for t in reversed(trajectory):
            if t.next_state is None:
                target = reward
            else:
                target = gamma * self.best_value(t.next_state, t.next_actions)
            row = self.values.setdefault(t.state, {})
            new = (1.0 - alpha) * row.get(t.action, self.default) + alpha * target
            row[t.action] = new
            best = self._best.get(t.state)
            if best is not None and new >= best[0]:
                self._best[t.state] = (new, t.action)
            elif best is not None and best[1] == t.action:
                self._best[t.state] = None
            elif best is None and len(row) == 1:
                self._best[t.state] = (new, t.action)


def choose(
    q: QTable,
    state: str,
    actions: Sequence[str],
    epsilon: float,
    rng: np.random.RandomState,
) -> str:
    """Epsilon-greedy: a uniform random action with probability ``epsilon``, else the best
    one by Q-value (ties broken at random)."""
    if rng.random_sample() < epsilon:
        return actions[int(rng.randint(len(actions)))]
    values = np.array([q.value(state, a) for a in actions])
    best = np.flatnonzero(values >= values.max())
    return actions[int(best[rng.randint(best.size)])]


def check_schedule(schedule: object) -> tuple[tuple[float, int], ...]:
    """Return ``schedule`` as a tuple of ``(epsilon, n_models)``, or raise ``ValueError``."""
    try:
        pairs = tuple((eps, n) for eps, n in schedule)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        pairs = ()
    ok = bool(pairs) and all(
        is_number(eps) and 0.0 <= eps <= 1.0 and is_int(n) and n >= 0 for eps, n in pairs
    )
    if not ok or sum(n for _, n in pairs) == 0:
        raise ValueError(
            "epsilon_schedule must be a non-empty sequence of (epsilon, n_models) pairs with "
            f"0 <= epsilon <= 1 and n_models >= 0 (not all 0), but got {schedule=}."
        )
    return tuple((float(eps), int(n)) for eps, n in pairs)


def scale_schedule(
    schedule: Sequence[tuple[float, int]], n_trials: int
) -> tuple[tuple[float, int], ...]:
    """Scale the model counts of ``schedule`` so that they add up to ``n_trials``."""
    total = sum(n for _, n in schedule)
    out, done, cumulative = [], 0, 0
    for eps, n in schedule:
        cumulative += n
        end = math.floor(cumulative * n_trials / total + 0.5)
        out.append((eps, end - done))
        done = end
    return tuple(out)


def epsilon_at(schedule: Sequence[tuple[float, int]], index: int) -> float:
    """The epsilon of the ``index``-th model (0-based); the last epsilon after the schedule."""
    end = 0
    for eps, n in schedule:
        end += n
        if index < end:
            return eps
    return schedule[-1][0]
