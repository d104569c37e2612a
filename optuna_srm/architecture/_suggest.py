"""suggest_architecture: a MetaQNN layer sequence through ordinary ``trial.suggest_*`` calls."""

from __future__ import annotations

import optuna

from optuna_srm import _keys
from optuna_srm._optuna_internals import fixed_params, set_trial_params, set_user_attrs
from optuna_srm.architecture._layers import Layer, format_architecture
from optuna_srm.architecture._sampler import QLearningArchitectureSampler
from optuna_srm.architecture._space import MetaQNNSpace, State


def suggest_architecture(
    trial: optuna.trial.BaseTrial, space: MetaQNNSpace | None = None
) -> list[Layer]:
    """Suggest a legal layer sequence of ``space``, one categorical param per layer.

    Each layer is chosen by ``trial.suggest_categorical`` among the legal layers at that point;
    the param is named after the position and what decides the legal layers there (for
    example ``"layer_01 (after Conv, size 8+)"``), so every name keeps the same choices
    throughout the study. Any sampler can therefore propose architectures: Optuna's
    ``RandomSampler`` walks the space uniformly at random, ``TPESampler`` learns per
    position, and :class:`~optuna_srm.QLearningArchitectureSampler` follows its learned
    policy. Steps with a single legal layer (the termination after ``max_depth`` layers) are
    not suggested. ``study.enqueue_trial(trial.params)`` reproduces the architecture in a
    study, and ``objective(optuna.trial.FixedTrial(trial.params))`` outside one.

    The architecture is also recorded as the trial's user attrs ``architecture`` (its text, for
    the dashboard), ``architecture_depth`` and ``architecture_num_params``, which
    :class:`~optuna_srm.SRMPruner` uses as features in place of the layer params.

    Example:

        .. code::

            import optuna
            import optuna_srm

            space = optuna_srm.MetaQNNSpace(input_shape=(1, 8, 8), conv_filters=(8, 16))


            def objective(trial):
                layers = optuna_srm.suggest_architecture(trial, space)
                return len(layers)


            study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
            study.optimize(objective, n_trials=5)
            print(study.best_trial.user_attrs["architecture"])

    Args:
        trial: The running trial (or a ``FixedTrial``).
        space: The search space (default: ``MetaQNNSpace()``, the paper's SVHN space).

    Returns:
        The layer specs, dropout layers included.
    """
    if space is not None and not isinstance(space, MetaQNNSpace):
        raise ValueError(f"space must be a MetaQNNSpace or None, but got {space=}.")
    space = MetaQNNSpace() if space is None else space
    if isinstance(trial, optuna.Trial):
        _store_planned_layers(trial, space)

    def suggest(state: State, choices: tuple[str, ...]) -> str:
        return str(trial.suggest_categorical(space.param_name(state), choices))

    tokens = [token for _, _, token in space.choose_walk(suggest) if token is not None]
    layers = space.with_dropout(tokens)
    features = space.features(layers)
    attrs = {
        _keys.ARCHITECTURE: format_architecture(layers),
        _keys.DEPTH: features["depth"],
        _keys.NUM_PARAMS: features["num_params"],
    }
    if isinstance(trial, optuna.Trial):
        set_user_attrs(trial.study, trial, attrs)
    else:
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
    return layers


def _store_planned_layers(trial: optuna.Trial, space: MetaQNNSpace) -> None:
    """Store the layers of a sampler that chooses the whole walk at once
    (QLearningArchitectureSampler) in one write, not one per layer; the suggestions then read
    them back."""
    sampler = trial.study.sampler
    if not isinstance(sampler, QLearningArchitectureSampler):
        return
    fixed = fixed_params(trial)
    if fixed is None or any(_keys.is_layer_param(name) for name in (*trial.params, *fixed)):
        return
    planned = sampler.plan_architecture(trial.study, trial.number, space)
    if planned:
        set_trial_params(trial, planned)
