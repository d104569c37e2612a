"""
Optuna example that runs several worker processes on one study in a PostgreSQL database, with
optuna-srm's SRMPruner stopping each worker's trials from what all the workers have finished.

We optimize a linear classifier, scikit-learn's ``SGDClassifier`` (its loss, L2 penalty and
learning-rate schedule), to maximize the validation accuracy on the digits dataset bundled with
scikit-learn (nothing is downloaded). Every trial trains one epoch per ``partial_fit`` call and
reports the validation accuracy after each epoch; ``SRMPruner`` learns from the finished trials
of every worker, read from the database, and stops a trial that is unlikely to beat the best.

Every worker is this same script, started with the same database URL, on one machine or many.
The first to arrive creates the study and the others join it (``load_if_exists=True``). The
budget ``--n-trials`` belongs to the study: ``optuna.study.MaxTrialsCallback`` stops a worker
once the study holds that many finished (complete or pruned) trials, so the workers together
finish between ``n_trials`` and ``n_trials + workers - 1`` trials (a trial that is running when
the budget is reached is finished, not thrown away). A worker started later, when the budget is
spent, runs none; raise ``--n-trials`` to go on.

The database URL is read from the environment variable ``OPTUNA_SRM_STORAGE`` (any SQLAlchemy
URL that several processes can share: PostgreSQL, MySQL). With a PostgreSQL server on this
machine, four workers run as:

    $ pip install optuna-srm "psycopg[binary]"
    $ createdb -h 127.0.0.1 -U postgres test
    $ export OPTUNA_SRM_STORAGE=postgresql+psycopg://postgres@127.0.0.1:5432/test
    $ for i in 1 2 3 4; do python examples/distributed_postgresql.py & done; wait
    $ optuna-dashboard "$OPTUNA_SRM_STORAGE"

"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time

import numpy as np
import optuna
import sqlalchemy.exc
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sqlalchemy.engine import make_url
from threadpoolctl import threadpool_limits

import optuna_srm

STORAGE_ENV = "OPTUNA_SRM_STORAGE"
N_TRIALS = 100
EPOCHS = 20
SEED = 0
STUDY_NAME = "distributed_postgresql"
VALIDATION_FRACTION = 0.25
# Workers started together on a new database race to create Optuna's tables: the losers retry.
CONNECT_ATTEMPTS = 5
WORKER = f"{socket.gethostname()}:{os.getpid()}"
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def load_data() -> Data:
    """Stratified train/validation split of the digits, standardised on the training part; the
    same in every worker."""
    X, y = load_digits(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(
        X, y, test_size=VALIDATION_FRACTION, stratify=y, random_state=SEED
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_valid), y_train, y_valid


def objective(trial: optuna.Trial, data: Data, epochs: int) -> float:
    X_train, X_valid, y_train, y_valid = data
    classes = np.unique(y_train)
    trial.set_user_attr("worker", WORKER)  # shown in optuna-dashboard

    learning_rate = trial.suggest_categorical("learning_rate", ["optimal", "invscaling"])
    clf = SGDClassifier(
        loss=trial.suggest_categorical("loss", ["hinge", "log_loss", "modified_huber"]),
        alpha=trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
        learning_rate=learning_rate,
        eta0=(
            trial.suggest_float("eta0", 1e-4, 1e-1, log=True)
            if learning_rate == "invscaling"
            else 0.01  # unused by "optimal"
        ),
        shuffle=False,  # we reshuffle ourselves, every epoch
        random_state=trial.number,
    )
    rng = np.random.default_rng(trial.number)

    accuracy = 0.0
    for epoch in range(epochs):
        order = rng.permutation(len(y_train))
        try:
            clf.partial_fit(X_train[order], y_train[order], classes=classes)
        except ValueError:  # the weights became non-finite
            raise optuna.TrialPruned(f"diverged at epoch {epoch}") from None
        accuracy = clf.score(X_valid, y_valid)

        trial.report(accuracy, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()

    return accuracy


def open_storage(url: str) -> optuna.storages.RDBStorage:
    """The storage of ``url``; exits with one line when it cannot be opened."""
    shown = make_url(url).render_as_string(hide_password=True)
    for attempt in range(CONNECT_ATTEMPTS):
        try:
            # pool_pre_ping: a connection that the server dropped is replaced, not used.
            return optuna.storages.RDBStorage(url, engine_kwargs={"pool_pre_ping": True})
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            # Another worker created a table first: the next attempt finds it there.
            time.sleep(0.2 * (attempt + 1))
        except ImportError as error:  # the database driver is missing
            sys.exit(f"{STORAGE_ENV}={shown} needs its database driver: {error}")
        except sqlalchemy.exc.SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            sys.exit(f"cannot open {STORAGE_ENV}={shown}: {reason}")
    sys.exit(f"cannot create Optuna's tables in {STORAGE_ENV}={shown}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="One worker of a study shared through a database: tune an SGDClassifier "
        "on digits with SRMPruner. Start several at once.",
        epilog=f"The database URL is read from {STORAGE_ENV}, for example "
        f"{STORAGE_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--n-trials",
        type=int,
        default=N_TRIALS,
        help="The study's budget of finished (complete or pruned) trials, shared by all workers.",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=EPOCHS,
        help="Training epochs of a trial that is not pruned; the same in every worker.",
    )
    parser.add_argument("--study-name", default=STUDY_NAME, help="Study that the workers share.")
    args = parser.parse_args()
    if args.n_trials < 1 or args.epochs < 1:
        parser.error("--n-trials and --epochs must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    url = os.environ.get(STORAGE_ENV)
    if not url:
        sys.exit(
            f"Set {STORAGE_ENV} to the database URL that the workers share, for example "
            f"{STORAGE_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
    study = optuna.create_study(
        study_name=args.study_name,
        storage=open_storage(url),
        load_if_exists=True,  # the first worker creates the study, the others join it
        direction="maximize",
        # Not seeded: workers with one seed would propose the same trials.
        sampler=optuna.samplers.TPESampler(),
        pruner=optuna_srm.SRMPruner(),
    )
    data = load_data()
    ran: list[optuna.trial.FrozenTrial] = []
    start = time.perf_counter()
    if len(study.get_trials(deepcopy=False, states=FINISHED)) < args.n_trials:
        with threadpool_limits(limits=1):  # small matrices: more BLAS threads only add overhead
            study.optimize(
                lambda trial: objective(trial, data, args.epochs),
                callbacks=[
                    optuna.study.MaxTrialsCallback(args.n_trials, states=FINISHED),
                    lambda study, trial: ran.append(trial),
                ],
            )
    elapsed = time.perf_counter() - start

    n_pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in ran)
    print(f"Worker {WORKER}: ran {len(ran)} trials ({n_pruned} pruned) in {elapsed:.1f} s.")
    finished = study.get_trials(deepcopy=False, states=FINISHED)
    workers = {t.user_attrs.get("worker") for t in finished}
    print(
        f"Study {study.study_name!r}: {len(finished)} finished trials of a budget of "
        f"{args.n_trials}, by {len(workers)} workers so far."
    )
    trained = sum(len(t.intermediate_values) for t in finished)
    without_pruning = args.epochs * len(finished)
    print(
        f"  Trained {trained} epochs instead of {without_pruning} without pruning: "
        f"pruning saved {1 - trained / without_pruning:.1%} of the training epochs."
    )
    complete = [t for t in finished if t.state == optuna.trial.TrialState.COMPLETE]
    if complete:
        best = max(complete, key=lambda t: t.value or 0.0)
        print(f"  Best value so far: {best.value:.4f} (trial {best.number}) with {best.params}")


if __name__ == "__main__":
    main()
