"""Q-table updates, epsilon-greedy choice and the epsilon schedule, without Optuna."""

from __future__ import annotations

import numpy as np
import pytest

from optuna_srm.architecture._qlearning import (
    PAPER_SCHEDULE,
    QTable,
    Transition,
    check_schedule,
    choose,
    epsilon_at,
    scale_schedule,
)


def _chain(*pairs: tuple[str, str], legal: tuple[str, ...] = ("a", "b")) -> list[Transition]:
    """A trajectory through states s0, s1, ... taking the given actions; the last terminates."""
    out = []
    for i, (state, action) in enumerate(pairs):
        last = i == len(pairs) - 1
        out.append(Transition(state, action, None if last else pairs[i + 1][0], legal))
    return out


def test_learn_replays_backwards_with_the_paper_update() -> None:
    q = QTable(learning_rate=0.5, discount_factor=1.0, q_init=0.0)
    q.learn(_chain(("s0", "a"), ("s1", "b")), reward=1.0)
    # Backwards: Q(s1, b) = 0.5 * 0 + 0.5 * 1 = 0.5, then Q(s0, a) = 0.5 * max Q(s1, .) = 0.25.
    assert q.value("s1", "b") == pytest.approx(0.5)
    assert q.value("s0", "a") == pytest.approx(0.25)
    q.learn(_chain(("s0", "a"), ("s1", "b")), reward=1.0)
    assert q.value("s1", "b") == pytest.approx(0.75)
    assert q.value("s0", "a") == pytest.approx(0.5 * 0.25 + 0.5 * 0.75)


def test_discount_factor_scales_the_future() -> None:
    q = QTable(learning_rate=1.0, discount_factor=0.5, q_init=0.0)
    q.learn(_chain(("s0", "a"), ("s1", "b")), reward=1.0)
    assert q.value("s0", "a") == pytest.approx(0.5)


def test_default_is_q_init_or_the_mean_reward() -> None:
    fixed = QTable(0.1, 1.0, q_init=0.5)
    fixed.observe_reward(0.9)
    assert fixed.value("s", "a") == 0.5
    mean = QTable(0.1, 1.0, q_init=None)
    assert mean.value("s", "a") == 0.0
    mean.observe_reward(0.2)
    mean.observe_reward(0.6)
    assert mean.value("s", "a") == pytest.approx(0.4)
    # An unvisited legal action keeps the best value of a state at least the default.
    mean.learn(_chain(("s", "a")), reward=-1.0)
    assert mean.best_value("s", ("a", "b")) == pytest.approx(0.4)
    assert mean.best_value("s", ("a",)) == pytest.approx(mean.value("s", "a"))


def test_best_value_cache_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(0)
    actions = tuple("abcdef")
    q = QTable(learning_rate=0.3, discount_factor=1.0, q_init=0.0)
    for _ in range(2000):
        state = f"s{rng.integers(3)}"
        action = str(rng.choice(list(actions)))
        q.learn([Transition(state, action, None, ())], reward=float(rng.normal()))
        for s in ("s0", "s1", "s2"):
            row = q.values.get(s, {})
            expected = max([row.get(a, 0.0) for a in actions])
            assert q.best_value(s, actions) == pytest.approx(expected)


def test_choose_is_greedy_at_epsilon_zero_and_uniform_at_one() -> None:
    q = QTable(0.5, 1.0, q_init=0.0)
    q.learn(_chain(("s", "b")), reward=1.0)
    rng = np.random.RandomState(0)
    assert {choose(q, "s", ("a", "b", "c"), 0.0, rng) for _ in range(50)} == {"b"}
    picks = [choose(q, "s", ("a", "b", "c"), 1.0, rng) for _ in range(3000)]
    counts = np.array([picks.count(a) for a in "abc"])
    assert counts.min() > 850


def test_choose_breaks_ties_at_random() -> None:
    q = QTable(0.5, 1.0, q_init=0.0)
    rng = np.random.RandomState(0)
    assert {choose(q, "s", ("a", "b", "c"), 0.0, rng) for _ in range(100)} == {"a", "b", "c"}


def test_paper_schedule_has_2700_models() -> None:
    assert sum(n for _, n in PAPER_SCHEDULE) == 2700
    assert epsilon_at(PAPER_SCHEDULE, 0) == 1.0
    assert epsilon_at(PAPER_SCHEDULE, 1499) == 1.0
    assert epsilon_at(PAPER_SCHEDULE, 1500) == 0.9
    assert epsilon_at(PAPER_SCHEDULE, 2699) == 0.1
    assert epsilon_at(PAPER_SCHEDULE, 10_000) == 0.1


@pytest.mark.parametrize("n_trials", [1, 7, 100, 600, 2700, 5000])
def test_scale_schedule_keeps_the_shares(n_trials: int) -> None:
    scaled = scale_schedule(PAPER_SCHEDULE, n_trials)
    assert [eps for eps, _ in scaled] == [eps for eps, _ in PAPER_SCHEDULE]
    assert sum(n for _, n in scaled) == n_trials
    for (_, n), (_, paper) in zip(scaled, PAPER_SCHEDULE, strict=True):
        assert abs(n - paper * n_trials / 2700) <= 1
    if n_trials >= 100:  # every epsilon gets at least one trial
        assert epsilon_at(scaled, n_trials - 1) == 0.1


@pytest.mark.parametrize(
    "schedule",
    [[], [(1.5, 10)], [(-0.1, 10)], [(0.5, -1)], [(0.5, 1.5)], [(0.5, 0)], "abc", None, [(1,)]],
)
def test_check_schedule_rejects(schedule: object) -> None:
    with pytest.raises(ValueError, match="epsilon_schedule"):
        check_schedule(schedule)


def test_check_schedule_accepts_pairs() -> None:
    assert check_schedule([(1, 5), (0.5, 0), (0.0, 3)]) == ((1.0, 5), (0.5, 0), (0.0, 3))
