"""
Optuna example that tunes a scikit-learn multilayer perceptron on handwritten digits and stops
unpromising trials early with optuna-srm's SRMPruner.

We optimize the architecture (number of hidden layers and their widths) and the training
hyperparameters (learning rate, L2 penalty, batch size, activation) of
``sklearn.neural_network.MLPClassifier`` to maximize the validation accuracy on the digits
dataset bundled with scikit-learn (1797 8x8 images, 10 classes; nothing is downloaded). Every
trial trains one epoch per ``partial_fit`` call and reports the validation accuracy after each
epoch. ``SRMPruner`` predicts each trial's final accuracy from its partial learning curve and
hyperparameters, using the trials already finished in the study, and stops the trial when it is
unlikely to beat the best one. With ``--pruner srm-hyperband``, ``SRMHyperbandPruner`` runs the
trials in Hyperband's brackets, stops them at its rungs, and applies the same rule at the other
steps. ``--pruner median`` and ``--pruner none`` run Optuna's ``MedianPruner`` and no pruning,
for comparison (in another storage: a second run resumes the study in the same one).

The study lives in SQLite (``sklearn_digits.db`` in the working directory), so it can be resumed
by running the script again and watched with ``optuna-dashboard sqlite:///sklearn_digits.db``.

    $ python examples/sklearn_digits.py [--n-trials 60] [--storage sqlite:///sklearn_digits.db]
                                         [--pruner {srm,srm-hyperband,median,none}]

"""

from __future__ import annotations

import argparse
import time

import numpy as np
import optuna
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import optuna_srm

N_TRIALS = 60
EPOCHS = 30
SEED = 0
STORAGE = "sqlite:///sklearn_digits.db"
STUDY_NAME = "sklearn_digits"
VALIDATION_FRACTION = 0.25


Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

PRUNERS = {
    "srm": optuna_srm.SRMPruner,
    "srm-hyperband": lambda: optuna_srm.SRMHyperbandPruner(max_resource=EPOCHS),
    "median": optuna.pruners.MedianPruner,
    "none": optuna.pruners.NopPruner,
}


def load_data() -> Data:
    """Stratified train/validation split of the digits, standardised on the training part."""
    X, y = load_digits(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(
        X, y, test_size=VALIDATION_FRACTION, stratify=y, random_state=SEED
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_valid), y_train, y_valid


def objective(trial: optuna.Trial, data: Data) -> float:
    X_train, X_valid, y_train, y_valid = data
    classes = np.unique(y_train)

    n_layers = trial.suggest_int("n_layers", 1, 3)
    hidden_layer_sizes = tuple(
        trial.suggest_int(f"n_units_l{i}", 16, 256, log=True) for i in range(n_layers)
    )
    clf = MLPClassifier(
        hidden_layer_sizes=hidden_layer_sizes,
        activation=trial.suggest_categorical("activation", ["relu", "tanh", "logistic"]),
        alpha=trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
        batch_size=trial.suggest_categorical("batch_size", [64, 128, 256]),
        learning_rate_init=trial.suggest_float("learning_rate_init", 1e-4, 1e-1, log=True),
        shuffle=False,  # we reshuffle ourselves: partial_fit would reuse one permutation
        random_state=trial.number,
    )
    rng = np.random.default_rng(trial.number)

    accuracy = 0.0
    for epoch in range(EPOCHS):
        order = rng.permutation(len(y_train))
        try:
            clf.partial_fit(X_train[order], y_train[order], classes=classes)
        except ValueError:  # the weights became non-finite: too large a learning rate
            trial.set_user_attr("diverged_at_epoch", epoch)
            raise optuna.TrialPruned(f"diverged at epoch {epoch}") from None
        accuracy = clf.score(X_valid, y_valid)

        trial.report(accuracy, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()

    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description="Tune an MLP on digits with SRMPruner.")
    parser.add_argument("--n-trials", type=int, default=N_TRIALS)
    parser.add_argument("--storage", default=STORAGE)
    parser.add_argument("--pruner", choices=sorted(PRUNERS), default="srm")
    args = parser.parse_args()

    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=args.storage,
        load_if_exists=True,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=SEED),
        pruner=PRUNERS[args.pruner](),
    )
    data = load_data()
    start = time.perf_counter()
    # The matrices are small: extra BLAS threads only add overhead, most of all on a busy machine.
    with threadpool_limits(limits=1):
        study.optimize(lambda trial: objective(trial, data), n_trials=args.n_trials)
    elapsed = time.perf_counter() - start

    complete = study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.COMPLETE])
    pruned = study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.PRUNED])
    print("Study statistics:")
    print(f"  Number of finished trials: {len(complete) + len(pruned)}")
    print(f"  Number of complete trials: {len(complete)}")
    diverged = sum("diverged_at_epoch" in t.user_attrs for t in pruned)
    print(f"  Number of pruned trials: {len(pruned)} ({diverged} of them diverged)")
    # A trial the SRM rule stopped ends at its last check (Hyperband's rungs stop trials without
    # one; a diverged trial stops before reporting its epoch).
    stopped_by_srm = [
        t
        for t in pruned
        if t.user_attrs.get("srm_step") == t.last_step and "diverged_at_epoch" not in t.user_attrs
    ]
    print(f"  Number of trials stopped by the SRM rule: {len(stopped_by_srm)}")
    print(f"  Wall time of this run: {elapsed:.1f} s")

    print("Best trial:")
    print(f"  Value: {study.best_value:.4f}")
    print("  Params:")
    for key, value in study.best_params.items():
        print(f"    {key}: {value}")

    trained = sum(len(t.intermediate_values) for t in complete + pruned)
    without_pruning = EPOCHS * (len(complete) + len(pruned))
    print(
        f"Trained {trained} epochs instead of {without_pruning} without pruning: "
        f"pruning saved {1 - trained / without_pruning:.1%} of the training epochs "
        f"(speed-up {without_pruning / trained:.2f} x)."
    )

    if stopped_by_srm:
        trial = stopped_by_srm[-1]
        print(f"SRM prediction that stopped trial {trial.number} (its user attrs):")
        for key, value in sorted(trial.user_attrs.items()):
            if key.startswith("srm_"):
                print(f"    {key}: {value}")


if __name__ == "__main__":
    main()
