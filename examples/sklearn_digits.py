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
for comparison.

The study lives in SQLite (``sklearn_digits.db`` in the working directory), one study per
pruner (``sklearn_digits-srm``, ``sklearn_digits-median``, ...), so runs with different pruners
never mix: run the script again to resume a study, and watch them all with
``optuna-dashboard sqlite:///sklearn_digits.db``. Keep ``--epochs`` the same across the runs of
one study: the pruner learns from the learning curves of its finished trials.

    $ python examples/sklearn_digits.py [--n-trials 60] [--epochs 30]
        [--pruner {srm,srm-hyperband,median,none}] [--storage sqlite:///sklearn_digits.db]
        [--study-name sklearn_digits-{pruner}]

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
STUDY_NAME = "sklearn_digits-{pruner}"  # {pruner} stands for --pruner
VALIDATION_FRACTION = 0.25
PRUNERS = ("srm", "srm-hyperband", "median", "none")


Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    """The pruner called ``name`` (one of ``PRUNERS``) for trainings of ``epochs`` epochs."""
    if name == "srm":
        return optuna_srm.SRMPruner()
    if name == "srm-hyperband":
        return optuna_srm.SRMHyperbandPruner(max_resource=epochs)
    if name == "median":
        return optuna.pruners.MedianPruner()
    return optuna.pruners.NopPruner()


def load_data() -> Data:
    """Stratified train/validation split of the digits, standardised on the training part."""
    X, y = load_digits(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(
        X, y, test_size=VALIDATION_FRACTION, stratify=y, random_state=SEED
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_valid), y_train, y_valid


def objective(trial: optuna.Trial, data: Data, epochs: int) -> float:
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
    for epoch in range(epochs):
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Tune an MLP on scikit-learn's digits with SRMPruner.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--n-trials", type=int, default=N_TRIALS, help="Number of trials to run (this run)."
    )
    parser.add_argument(
        "--epochs", type=int, default=EPOCHS, help="Training epochs of a trial that is not pruned."
    )
    parser.add_argument(
        "--pruner",
        choices=PRUNERS,
        default="srm",
        help="srm: SRMPruner; srm-hyperband: SRMHyperbandPruner; median: Optuna's MedianPruner; "
        "none: train every trial to the end. Each pruner has its own study (--study-name).",
    )
    parser.add_argument(
        "--storage",
        default=STORAGE,
        help="Optuna storage URL; the study is resumed when it exists there.",
    )
    parser.add_argument(
        "--study-name",
        default=STUDY_NAME,
        help="Study name; {pruner} in it stands for --pruner, so that runs with different "
        "pruners never share a study.",
    )
    args = parser.parse_args()
    if args.n_trials < 1 or args.epochs < 1:
        parser.error("--n-trials and --epochs must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    study = optuna.create_study(
        study_name=args.study_name.replace("{pruner}", args.pruner),
        storage=args.storage,
        load_if_exists=True,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=SEED),
        pruner=make_pruner(args.pruner, args.epochs),
    )
    data = load_data()
    start = time.perf_counter()
    # The matrices are small: extra BLAS threads only add overhead, most of all on a busy machine.
    with threadpool_limits(limits=1):
        study.optimize(lambda trial: objective(trial, data, args.epochs), n_trials=args.n_trials)
    elapsed = time.perf_counter() - start

    complete = study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.COMPLETE])
    pruned = study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.PRUNED])
    print(f"Study {study.study_name!r} ({args.pruner} pruner) statistics:")
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
    without_pruning = args.epochs * (len(complete) + len(pruned))
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
