"""
Optuna example that searches CNN architectures with MetaQNN's Q-learning and stops unpromising
trainings early with optuna-srm's SRMPruner (Baker et al., 2017), on handwritten digits.

Each trial asks ``QLearningArchitectureSampler`` for a layer sequence of a small MetaQNN space
(convolutions, max pooling, fully connected layers, termination by global average pooling or
softmax) through ``optuna_srm.suggest_architecture``, and Optuna's RandomSampler for the
learning rate. The network is built with ``optuna_srm.torch.build_model`` and trained by
``optuna_srm.torch.train_trial`` with Adam on the digits dataset bundled with scikit-learn
(``load_dataset("digits")``: 1797 8x8 images; nothing is downloaded), reporting its validation
accuracy after every epoch. ``SRMPruner`` stops a training once its predicted final accuracy is
unlikely to beat the best, and the sampler learns from the stopped trials through that
prediction. It runs on a GPU when PyTorch sees one, else on the CPU (one to two minutes there).

The study lives in SQLite (``metaqnn_digits.db`` in the working directory): run the script again
to resume it, or start it in several terminals to search with several workers, and watch it with
``optuna-dashboard sqlite:///metaqnn_digits.db``.

    $ pip install "optuna-srm[torch]"
    $ python examples/metaqnn_digits.py [--n-trials 60] [--epochs 10] [--storage URL]

"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

import optuna

import optuna_srm

if TYPE_CHECKING:
    from optuna_srm.torch import Dataset

N_TRIALS = 60
EPOCHS = 10
BATCH_SIZE = 64
SEED = 0
STORAGE = "sqlite:///metaqnn_digits.db"
STUDY_NAME = "metaqnn_digits"
SPACE = optuna_srm.MetaQNNSpace(
    input_shape=(1, 8, 8),
    num_classes=10,
    max_depth=6,
    conv_filters=(8, 16, 32),
    pools=((3, 2), (2, 2)),
    fc_units=(64, 32),
    size_bins=(6, 4, 2),
)


def objective(trial: optuna.Trial, data: Dataset, epochs: int, device: str) -> float:
    # Imported here and in main(), not at the top: --help works without PyTorch.
    import torch

    from optuna_srm.torch import build_model, train_trial

    layers = optuna_srm.suggest_architecture(trial, SPACE)
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)

    torch.manual_seed(trial.number)
    model = build_model(layers, data.input_shape, data.num_classes)
    # Reports the validation accuracy after every epoch and raises TrialPruned when told.
    return train_trial(
        trial,
        model,
        data,
        epochs=epochs,
        device=device,
        lr=lr,
        batch_size=BATCH_SIZE,
        seed=trial.number,
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Search CNNs on scikit-learn's digits with MetaQNN and SRMPruner.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--n-trials",
        type=int,
        default=N_TRIALS,
        help="Number of trials to run (this run); the sampler's epsilon schedule is scaled to it.",
    )
    parser.add_argument(
        "--epochs", type=int, default=EPOCHS, help="Training epochs of a trial that is not pruned."
    )
    parser.add_argument(
        "--storage",
        default=STORAGE,
        help=f"Optuna storage URL; the study {STUDY_NAME!r} is resumed when it exists there.",
    )
    args = parser.parse_args()
    if args.n_trials < 1 or args.epochs < 1:
        parser.error("--n-trials and --epochs must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    try:
        import torch

        from optuna_srm.torch import load_dataset, resolve_devices
    except ImportError:
        sys.exit('This example needs PyTorch: pip install "optuna-srm[torch]"')

    device = resolve_devices("auto")[0]  # the first GPU, else the CPU
    if device == "cpu":
        torch.set_num_threads(1)  # small networks: more threads only add overhead
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=args.storage,
        load_if_exists=True,
        direction="maximize",
        sampler=optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=args.n_trials),
        pruner=optuna_srm.SRMPruner(),
    )
    data = load_dataset("digits", split_seed=SEED)
    start = time.perf_counter()
    study.optimize(
        lambda trial: objective(trial, data, args.epochs, device), n_trials=args.n_trials
    )
    elapsed = time.perf_counter() - start

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    finished = study.get_trials(deepcopy=False, states=states)
    n_pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in finished)
    print("Study statistics:")
    print(f"  Device: {device}")
    print(f"  Number of finished trials: {len(finished)} ({n_pruned} pruned)")
    print(f"  Wall time of this run: {elapsed:.1f} s")

    best = study.best_trial
    print("Best trial:")
    print(f"  Value: {best.value:.4f}")
    print(f"  Architecture: {best.user_attrs['architecture']}")
    print(f"  Parameters: {best.user_attrs['architecture_num_params']}")
    print(f"  Learning rate: {best.params['lr']:.2g}")

    trained = sum(len(t.intermediate_values) for t in finished)
    without_pruning = args.epochs * len(finished)
    print(
        f"Trained {trained} epochs instead of {without_pruning} without pruning: "
        f"pruning saved {1 - trained / without_pruning:.1%} of the training epochs "
        f"(speed-up {without_pruning / trained:.2f} x)."
    )


if __name__ == "__main__":
    main()
