"""
Optuna example that searches 1-D CNN architectures with MetaQNN's Q-learning inside Hyperband's
brackets, where optuna-srm's SRMHyperbandPruner stops trainings early (the f-Hyperband of
Baker et al., 2017), on MNIST-1D.

Each trial asks ``QLearningArchitectureSampler`` for a layer sequence of a small MetaQNN space
for sequences of shape (1, 40) (1-D convolutions, max pooling, fully connected layers,
termination by global average pooling or softmax) through ``optuna_srm.suggest_architecture``,
and Optuna's RandomSampler for the learning rate. The network is built with
``optuna_srm.torch.build_model`` and trained by ``optuna_srm.torch.train_trial`` with Adam on
MNIST-1D (``load_dataset("mnist1d")``: 4,000 sequences generated locally by the ``mnist1d``
package; nothing is downloaded), reporting its validation accuracy after every epoch.
``SRMHyperbandPruner(max_resource=epochs)`` assigns each trial to one of Hyperband's brackets,
stops it at a rung of successive halving when it is not among the best of its bracket, and at
any other step when the SRM rule predicts that it will not beat the best finished trial. The
sampler learns from the trials of each bracket, the stopped ones through their predicted final
accuracy. It runs on a GPU when PyTorch sees one, else on the CPU.

The study lives in SQLite (``metaqnn_hyperband.db`` in the working directory): run the script
again to resume it (with the same ``--epochs``), and watch it with
``optuna-dashboard sqlite:///metaqnn_hyperband.db``.

    $ pip install "optuna-srm[torch]"
    $ python examples/metaqnn_hyperband.py [--n-trials 60] [--epochs 20] [--max-train 3200]
        [--storage sqlite:///metaqnn_hyperband.db]

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
EPOCHS = 20
BATCH_SIZE = 64
SEED = 0
STORAGE = "sqlite:///metaqnn_hyperband.db"
STUDY_NAME = "metaqnn_hyperband"
# A small space for MNIST-1D's sequences of 40 values: 8 layers at most, the representation
# size (the sequence length after the layers so far) in three bins.
SPACE = optuna_srm.MetaQNNSpace(
    input_shape=(1, 40),
    num_classes=10,
    max_depth=8,
    conv_filters=(16, 32, 64),
    conv_kernels=(3, 5, 7),
    pools=((3, 2), (2, 2)),
    fc_units=(128, 64),
    size_bins=(16, 8, 4),
)


def objective(trial: optuna.Trial, data: Dataset, epochs: int, device: str) -> float:
    # Imported here and in main(), not at the top: --help works without PyTorch.
    import torch

    from optuna_srm.torch import build_model, train_trial

    layers = optuna_srm.suggest_architecture(trial, SPACE)
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)

    torch.manual_seed(SEED + trial.number)
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
        seed=SEED + trial.number,
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Search 1-D CNNs on MNIST-1D with MetaQNN and SRMHyperbandPruner.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--n-trials",
        type=int,
        default=N_TRIALS,
        help="Number of trials to run (this run); the sampler's epsilon schedule is scaled to it.",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=EPOCHS,
        help="Training epochs of a trial that is not pruned: Hyperband's max_resource.",
    )
    parser.add_argument(
        "--max-train",
        type=int,
        default=None,
        help="Train on at most this many sequences, for a quick run (None: all 3,200).",
    )
    parser.add_argument(
        "--storage",
        default=STORAGE,
        help=f"Optuna storage URL; the study {STUDY_NAME!r} is resumed when it exists there.",
    )
    args = parser.parse_args()
    for option in ("n_trials", "epochs", "max_train"):
        value = getattr(args, option)
        if value is not None and value < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    try:
        import torch

        from optuna_srm.torch import DatasetError, load_dataset, resolve_devices
    except ImportError:
        sys.exit('This example needs PyTorch: pip install "optuna-srm[torch]"')

    try:
        data = load_dataset("mnist1d", split_seed=SEED, max_train=args.max_train)
    except DatasetError as error:  # the mnist1d package is missing
        sys.exit(str(error))
    device = resolve_devices("auto")[0]  # the first GPU, else the CPU
    if device == "cpu":
        torch.set_num_threads(1)  # small networks: more threads only add overhead
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=args.storage,
        load_if_exists=True,
        direction="maximize",
        sampler=optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=args.n_trials, seed=SEED),
        pruner=optuna_srm.SRMHyperbandPruner(max_resource=args.epochs),
    )
    start = time.perf_counter()
    study.optimize(
        lambda trial: objective(trial, data, args.epochs, device), n_trials=args.n_trials
    )
    elapsed = time.perf_counter() - start

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    finished = study.get_trials(deepcopy=False, states=states)
    pruned = [t for t in finished if t.state == optuna.trial.TrialState.PRUNED]
    # A trial the SRM rule stopped ends at its last check; one stopped at a rung of Hyperband
    # ends at a step the rule did not check (Hyperband decides first).
    by_srm = sum(t.user_attrs.get("srm_step") == t.last_step for t in pruned)
    print("Study statistics:")
    print(f"  Device: {device}")
    print(f"  Number of finished trials: {len(finished)}")
    print(f"  Number of complete trials: {len(finished) - len(pruned)}")
    print(f"  Number of pruned trials: {len(pruned)}")
    print(f"    stopped at a rung of Hyperband: {len(pruned) - by_srm}")
    print(f"    stopped by the SRM rule: {by_srm}")
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
