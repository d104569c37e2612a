"""
Optuna example that searches CNN architectures with MetaQNN's Q-learning and stops unpromising
trainings early with optuna-srm's SRMPruner (Baker et al., 2017), on handwritten digits.

Each trial asks ``QLearningArchitectureSampler`` for a layer sequence of a small MetaQNN space
(convolutions, max pooling, fully connected layers, termination by global average pooling or
softmax) through ``optuna_srm.suggest_architecture``, and Optuna's RandomSampler for the
learning rate. The network is built with ``optuna_srm.torch.build_model``, trained with Adam on
the digits dataset bundled with scikit-learn (1797 8x8 images; nothing is downloaded), and
reports its validation accuracy after every epoch. ``SRMPruner`` stops a training once its
predicted final accuracy is unlikely to beat the best, and the sampler learns from the stopped
trials through that prediction. It runs on a GPU when PyTorch sees one, else on the CPU (one to
two minutes there).

The study lives in SQLite (``metaqnn_digits.db`` in the working directory): run the script again
to resume it, or start it in several terminals to search with several workers, and watch it with
``optuna-dashboard sqlite:///metaqnn_digits.db``.

    $ pip install "optuna-srm[torch]"
    $ python examples/metaqnn_digits.py [--n-trials 60] [--epochs 10] [--storage URL]

"""

from __future__ import annotations

import argparse
import time

import optuna
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import optuna_srm
from optuna_srm.torch import build_model

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
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")

Data = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def load_data() -> Data:
    """Stratified train/validation split of the digits as tensors on ``DEVICE``."""
    digits = load_digits()
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    labels = torch.tensor(digits.target)
    x_train, x_valid, y_train, y_valid = train_test_split(
        images, labels, test_size=0.25, stratify=labels, random_state=SEED
    )
    return x_train.to(DEVICE), x_valid.to(DEVICE), y_train.to(DEVICE), y_valid.to(DEVICE)


def objective(trial: optuna.Trial, data: Data, epochs: int) -> float:
    x_train, x_valid, y_train, y_valid = data
    layers = optuna_srm.suggest_architecture(trial, SPACE)
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)

    torch.manual_seed(trial.number)
    model = build_model(layers, SPACE.input_shape, SPACE.num_classes).to(DEVICE)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    accuracy = 0.0
    for epoch in range(epochs):
        model.train()
        for batch in torch.randperm(len(y_train), device=DEVICE).split(BATCH_SIZE):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(x_valid).argmax(dim=1) == y_valid).float().mean().item()

        trial.report(accuracy, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()

    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description="Search CNNs on digits with MetaQNN and SRM.")
    parser.add_argument("--n-trials", type=int, default=N_TRIALS)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--storage", default=STORAGE)
    args = parser.parse_args()

    torch.set_num_threads(1)  # small networks: more threads only add overhead
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=args.storage,
        load_if_exists=True,
        direction="maximize",
        sampler=optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=args.n_trials),
        pruner=optuna_srm.SRMPruner(),
    )
    data = load_data()
    start = time.perf_counter()
    study.optimize(lambda trial: objective(trial, data, args.epochs), n_trials=args.n_trials)
    elapsed = time.perf_counter() - start

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    finished = study.get_trials(deepcopy=False, states=states)
    n_pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in finished)
    print("Study statistics:")
    print(f"  Device: {DEVICE}")
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
