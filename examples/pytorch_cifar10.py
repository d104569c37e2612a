"""
Optuna example that tunes a small PyTorch CNN on CIFAR-10 and stops unpromising trainings early
with optuna-srm's SRMPruner.

We optimize a fixed family of convolutional networks (1 to 3 blocks of convolution, batch
normalisation, ReLU and 2x2 max pooling, then a hidden fully connected layer): the number of
blocks, the width of each, the width of the hidden layer, the dropout rate, and Adam's learning
rate and weight decay, with ordinary ``trial.suggest_*`` calls and Optuna's TPESampler. This is
hyperparameter optimization; ``metaqnn_digits.py`` and ``metaqnn_hyperband.py`` search the
architecture itself. Each network trains with ``optuna_srm.torch.train_trial``, which reports
the validation accuracy after every epoch (on 10,000 images held out of CIFAR-10's training
set) and raises ``optuna.TrialPruned`` when ``SRMPruner`` predicts that the training will not
beat the best one. It trains on the first GPU that PyTorch sees (in mixed precision), else on
the CPU.

CIFAR-10 is read from ``--data-dir`` (``<data-dir>/cifar-10-batches-py/``, as torchvision keeps
it); where it is missing, torchvision downloads it there first (170 MB). The study lives in
SQLite (``pytorch_cifar10.db`` in the working directory): run the script again to resume it
(with the same ``--epochs`` and ``--max-train``: the pruner learns from the finished trials'
learning curves), and watch it with ``optuna-dashboard sqlite:///pytorch_cifar10.db``.

    $ pip install "optuna-srm[torch]"
    $ python examples/pytorch_cifar10.py [--data-dir ./data] [--n-trials 50] [--epochs 15]
        [--max-train 10000] [--storage sqlite:///pytorch_cifar10.db]

"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

import optuna

import optuna_srm

if TYPE_CHECKING:
    from torch import nn

    from optuna_srm.torch import Dataset

N_TRIALS = 50
EPOCHS = 15
BATCH_SIZE = 128
DATA_DIR = "./data"
SEED = 0
STORAGE = "sqlite:///pytorch_cifar10.db"
STUDY_NAME = "pytorch_cifar10"


def define_model(trial: optuna.Trial) -> nn.Module:
    """A CNN of the family, its widths and depth suggested by ``trial``."""
    # Imported here and in main(), not at the top: --help works without PyTorch.
    from torch import nn

    layers: list[nn.Module] = []
    in_channels = 3
    for i in range(trial.suggest_int("n_blocks", 1, 3)):
        out_channels = trial.suggest_int(f"n_channels_b{i}", 16, 128, log=True)
        layers += [
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]
        in_channels = out_channels
    n_units = trial.suggest_int("n_units", 32, 512, log=True)
    dropout = trial.suggest_float("dropout", 0.0, 0.5)
    layers += [
        nn.AdaptiveAvgPool2d(4),  # 4x4 features whatever the depth
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(in_channels * 4 * 4, n_units),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(n_units, 10),
    ]
    return nn.Sequential(*layers)


def objective(trial: optuna.Trial, data: Dataset, args: argparse.Namespace, device: str) -> float:
    import torch

    from optuna_srm.torch import train_trial

    torch.manual_seed(SEED + trial.number)  # the initial weights
    model = define_model(trial)
    lr = trial.suggest_float("lr", 1e-4, 1e-2, log=True)
    weight_decay = trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True)
    # Reports the validation accuracy after every epoch and raises TrialPruned when told.
    return train_trial(
        trial,
        model,
        data,
        epochs=args.epochs,
        device=device,
        lr=lr,
        weight_decay=weight_decay,
        batch_size=args.batch_size,
        seed=SEED + trial.number,
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Tune a small PyTorch CNN on CIFAR-10 with SRMPruner.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data-dir",
        default=DATA_DIR,
        help="Directory of CIFAR-10 (cifar-10-batches-py/); downloaded there when missing.",
    )
    parser.add_argument(
        "--n-trials", type=int, default=N_TRIALS, help="Number of trials to run (this run)."
    )
    parser.add_argument(
        "--epochs", type=int, default=EPOCHS, help="Training epochs of a trial that is not pruned."
    )
    parser.add_argument(
        "--max-train",
        type=int,
        default=None,
        help="Train on at most this many images, for a quick run (None: all 40,000).",
    )
    parser.add_argument(
        "--batch-size", type=int, default=BATCH_SIZE, help="Training images per step."
    )
    parser.add_argument(
        "--storage",
        default=STORAGE,
        help=f"Optuna storage URL; the study {STUDY_NAME!r} is resumed when it exists there.",
    )
    args = parser.parse_args()
    for option in ("n_trials", "epochs", "max_train", "batch_size"):
        value = getattr(args, option)
        if value is not None and value < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    try:
        from optuna_srm.torch import DatasetError, load_dataset, resolve_devices
    except ImportError:
        sys.exit('This example needs PyTorch: pip install "optuna-srm[torch]"')

    try:
        data = load_dataset("cifar10", args.data_dir, split_seed=SEED, max_train=args.max_train)
    except DatasetError as error:
        sys.exit(str(error))
    device = resolve_devices("auto")[0]  # the first GPU, else the CPU
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=args.storage,
        load_if_exists=True,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=SEED),
        pruner=optuna_srm.SRMPruner(),
    )
    start = time.perf_counter()
    study.optimize(lambda trial: objective(trial, data, args, device), n_trials=args.n_trials)
    elapsed = time.perf_counter() - start

    complete = study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.COMPLETE])
    pruned = study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.PRUNED])
    print("Study statistics:")
    print(f"  Device: {device}")
    print(f"  Images: {len(data.x_train)} training, {len(data.x_valid)} validation")
    print(f"  Number of finished trials: {len(complete) + len(pruned)}")
    print(f"  Number of complete trials: {len(complete)}")
    print(f"  Number of pruned trials: {len(pruned)}")
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


if __name__ == "__main__":
    main()
