"""``optuna-srm search``: a MetaQNN architecture search whose candidates PyTorch trains."""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
import optuna
from click.core import ParameterSource
from optuna.trial import FrozenTrial, TrialState

from optuna_srm import _keys
from optuna_srm.architecture import (
    MetaQNNSpace,
    QLearningArchitectureSampler,
    suggest_architecture,
)
from optuna_srm.cli._storage import open_storage, safe_url
from optuna_srm.pruners import SRMHyperbandPruner, SRMPruner

# The search space of each data set: the paper's SVHN space for the 32x32 colour images, smaller
# ones where the images are small, so that a search on CPUs ends in minutes.
SPACES: dict[str, MetaQNNSpace] = {
    "digits": MetaQNNSpace(
        input_shape=(1, 8, 8),
        max_depth=6,
        conv_filters=(8, 16, 32),
        pools=((3, 2), (2, 2)),
        fc_units=(64, 32),
        size_bins=(6, 4, 2),
    ),
    "mnist1d": MetaQNNSpace(
        input_shape=(1, 40),
        max_depth=8,
        conv_filters=(16, 32, 64),
        conv_kernels=(3, 5, 7),
        pools=((3, 2), (2, 2)),
        fc_units=(128, 64),
        size_bins=(16, 8, 4),
    ),
    "mnist": MetaQNNSpace(input_shape=(1, 28, 28), conv_filters=(32, 64, 128)),
    "fashion-mnist": MetaQNNSpace(input_shape=(1, 28, 28), conv_filters=(32, 64, 128)),
    "cifar10": MetaQNNSpace(input_shape=(3, 32, 32)),
    "svhn": MetaQNNSpace(input_shape=(3, 32, 32)),
}
# Data sets whose networks are too small to gain from several CPU threads.
_SMALL = ("digits", "mnist1d")
PRUNERS = ("srm", "srm-hyperband", "median", "hyperband", "none")
SAMPLERS = ("qlearning", "tpe", "random")
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
# A worker whose trials keep failing (out of memory on every architecture) stops.
_MAX_FAILURES_IN_A_ROW = 5


@dataclass(frozen=True)
class SearchConfig:
    """What a study of ``optuna-srm search`` is, recorded in its user attrs: every worker that
    joins it trains the same way and validates on the same images."""

    dataset: str
    epochs: int
    seed: int
    pruner: str
    sampler: str
    batch_size: int


@dataclass(frozen=True)
class Worker:
    """Everything one worker process needs (picklable, for the processes of ``--devices``)."""

    storage: str
    study: str
    config: SearchConfig
    data_dir: str | None
    n_trials: int
    timeout: float | None
    device: str
    sampler_seed: int
    heartbeat: int = 0


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    """The pruner called ``name`` (one of ``PRUNERS``) for trainings of ``epochs`` epochs."""
    if name == "srm":
        return SRMPruner()
    if name == "srm-hyperband":
        return SRMHyperbandPruner(max_resource=epochs)
    if name == "median":
        return optuna.pruners.MedianPruner()
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(max_resource=epochs)
    return optuna.pruners.NopPruner()


def make_sampler(
    name: str, space: MetaQNNSpace, n_trials: int, seed: int
) -> optuna.samplers.BaseSampler:
    """The sampler called ``name`` (one of ``SAMPLERS``); the Q-learning one with its epsilon
    schedule scaled to the study's ``n_trials``."""
    if name == "qlearning":
        return QLearningArchitectureSampler(space, n_trials=n_trials, seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)


@click.command()
@click.option(
    "--dataset",
    type=click.Choice(tuple(SPACES)),
    default="digits",
    show_default=True,
    help="Data set to search on: digits (bundled with scikit-learn) and mnist1d (generated) need "
    "nothing else; the others are read from --data-dir, downloaded there when missing.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory of the torchvision data sets (mnist, fashion-mnist, cifar10, svhn).",
)
@click.option(
    "--storage",
    default="sqlite:///optuna-srm.db",
    show_default=True,
    help="Optuna storage: a database URL (sqlite:///FILE, postgresql+psycopg://USER@HOST/DB, "
    "mysql+pymysql://USER@HOST/DB) or a journal file (FILE.log) that workers share.",
)
@click.option(
    "--study",
    "study_name",
    default=None,
    help="Study name; an existing study is joined as one more worker.  [default: "
    "DATASET-SAMPLER-PRUNER]",
)
@click.option(
    "--n-trials",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="The study's budget of finished (complete or pruned) trials, shared by all its workers.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop starting trials after this many seconds.  [default: no limit]",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    help="Training epochs of a trial that is not pruned.",
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=64, show_default=True, help="Batch size."
)
@click.option(
    "--devices",
    default="auto",
    show_default=True,
    help="cpu, auto (every GPU PyTorch sees, else the CPU) or GPU indices such as 0,1: one "
    "worker process per GPU, all on one study.",
)
@click.option(
    "--pruner",
    type=click.Choice(PRUNERS),
    default="srm",
    show_default=True,
    help="srm: SRMPruner; srm-hyperband: SRMHyperbandPruner; median, hyperband: Optuna's; none: "
    "train every trial to the end.",
)
@click.option(
    "--sampler",
    type=click.Choice(SAMPLERS),
    default="qlearning",
    show_default=True,
    help="qlearning: MetaQNN's QLearningArchitectureSampler; tpe, random: Optuna's.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0, max=2**31 - 1),
    default=0,
    show_default=True,
    help="Seed of the train/validation split, the weights and the sampler.",
)
@click.option(
    "--heartbeat",
    type=click.IntRange(min=0),
    default=60,
    show_default=True,
    help="Seconds between the heartbeats of a running trial in a database storage; the trial "
    "of a worker that died is failed after two missed ones and retried (0: never).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every trial as Optuna does.")
@click.pass_context
def search(
    ctx: click.Context,
    dataset: str,
    data_dir: str | None,
    storage: str,
    study_name: str | None,
    n_trials: int,
    timeout: float | None,
    epochs: int,
    batch_size: int,
    devices: str,
    pruner: str,
    sampler: str,
    seed: int,
    heartbeat: int,
    verbose: bool,
) -> None:
    """Search CNN architectures with MetaQNN and stop unpromising trainings early.

    Each trial trains a network of the MetaQNN space for --epochs epochs with PyTorch and
    reports its validation accuracy after every epoch; the pruner stops those unlikely to beat
    the best. The same command with --storage URL --study NAME started elsewhere joins the study
    as one more worker. It ends with the best architectures and what pruning saved.
    """
    torch_side = _import_torch()
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose else optuna.logging.ERROR)
    # Heartbeats and their retries are chosen on purpose: no warning that they are experimental.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    try:
        device_list = torch_side.resolve_devices(devices)
    except torch_side.DeviceError as error:
        raise click.ClickException(str(error)) from None
    found = open_storage(storage, heartbeat)

    given = {
        name
        for name in ("dataset", "epochs", "seed", "pruner", "sampler", "batch_size")
        if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)
    }
    options = {
        "dataset": dataset,
        "epochs": epochs,
        "seed": seed,
        "pruner": pruner,
        "sampler": sampler,
        "batch_size": batch_size,
    }
    name = study_name or f"{dataset}-{sampler}-{pruner}"
    config = _config(found, name, SearchConfig(**options), given)  # type: ignore[arg-type]
    try:
        torch_side.load_dataset(config.dataset, data_dir, split_seed=config.seed)
    except torch_side.DatasetError as error:
        raise click.ClickException(str(error)) from None

    study = optuna.create_study(
        storage=found, study_name=name, direction="maximize", load_if_exists=True
    )
    study.set_user_attr(_keys.SEARCH_CONFIG, dataclasses.asdict(config))
    already = len(study.get_trials(deepcopy=False, states=_FINISHED))
    click.echo(
        f"optuna-srm search: {config.dataset}, {n_trials} trials of {config.epochs} epochs, "
        f"{config.sampler} sampler, {config.pruner} pruner, on {', '.join(device_list)}; "
        f"study {name!r} in {safe_url(storage)}"
        + (f" ({already} trials finished before)" if already else "")
    )
    workers = [
        Worker(
            storage, name, config, data_dir, n_trials, timeout, device, config.seed + i, heartbeat
        )
        for i, device in enumerate(device_list)
    ]
    start = time.time()
    with _Progress(study, n_trials, config.epochs, already) as progress:
        if len(workers) == 1:
            run_worker(workers[0], progress.update)
        else:
            _run_processes(workers, progress.update)
    wall = time.time() - start
    click.echo(summary(study, storage, config, start, wall * len(workers)))


def _import_torch() -> Any:
    try:
        import optuna_srm.torch as torch_side
    except ImportError:
        raise click.ClickException(
            "optuna-srm search trains with PyTorch: pip install 'optuna-srm[torch]'"
        ) from None
    return torch_side


def _config(
    found: optuna.storages.BaseStorage, name: str, asked: SearchConfig, given: set[str]
) -> SearchConfig:
    """The configuration of study ``name``: ``asked`` for a new study; for an existing one, its
    recorded configuration, which options given on the command line must agree with."""
    try:
        study_id = found.get_study_id_from_name(name)
    except KeyError:
        return asked
    recorded = found.get_study_user_attrs(study_id).get(_keys.SEARCH_CONFIG)
    fields = {f.name for f in dataclasses.fields(SearchConfig)}
    if not (isinstance(recorded, dict) and set(recorded) == fields):
        raise click.ClickException(
            f"study {name!r} exists but was not made by optuna-srm search: pass another --study"
        )
    if found.get_study_directions(study_id) != [optuna.study.StudyDirection.MAXIMIZE]:
        raise click.ClickException(f"study {name!r} does not maximize a single objective")
    config = SearchConfig(**recorded)
    for key in sorted(given):
        if getattr(asked, key) != getattr(config, key):
            option = "--" + key.replace("_", "-")
            raise click.ClickException(
                f"study {name!r} was made with {option} {getattr(config, key)}, not "
                f"{getattr(asked, key)}: leave {option} out to join it, or pass another --study"
            )
    return config


def run_worker(worker: Worker, on_trial: Callable[[], None] | None = None) -> None:
    """Run trials of the study until it holds ``n_trials`` finished ones (or the timeout)."""
    import torch

    import optuna_srm.torch as torch_side

    config = worker.config
    space = SPACES[config.dataset]
    if worker.device == "cpu" and config.dataset in _SMALL:
        torch.set_num_threads(1)  # such small networks train faster on one thread than on two
    data = torch_side.load_dataset(config.dataset, worker.data_dir, split_seed=config.seed)
    study = optuna.load_study(
        study_name=worker.study,
        storage=open_storage(worker.storage, worker.heartbeat),
        sampler=make_sampler(config.sampler, space, worker.n_trials, worker.sampler_seed),
        pruner=make_pruner(config.pruner, config.epochs),
    )

    def objective(trial: optuna.Trial) -> float:
        layers = suggest_architecture(trial, space)
        trained = _trained_before(study, trial.user_attrs[_keys.ARCHITECTURE])
        if trained is not None:  # as MetaQNN: an architecture is trained once, its value kept
            trial.set_user_attr(_keys.REUSED_FROM, trained.number)
            return float(trained.value or 0.0)
        seed = config.seed + trial.number
        torch.manual_seed(seed)
        model = torch_side.build_model(layers, data.input_shape, data.num_classes)
        value: float = torch_side.train_trial(
            trial,
            model,
            data,
            epochs=config.epochs,
            device=worker.device,
            batch_size=config.batch_size,
            seed=seed,
        )
        return value

    failures = 0

    def after_trial(study: optuna.Study, trial: FrozenTrial) -> None:
        nonlocal failures
        failures = failures + 1 if trial.state == TrialState.FAIL else 0
        if trial.state == TrialState.FAIL:
            reason = trial.system_attrs.get("fail_reason", "unknown reason").splitlines()[0]
            click.echo(f"trial {trial.number} failed: {reason}", err=True)
        if failures >= _MAX_FAILURES_IN_A_ROW:
            click.echo(
                f"the worker on {worker.device} stops: its last {failures} trials failed",
                err=True,
            )
            study.stop()
        if on_trial is not None:
            on_trial()

    if len(study.get_trials(deepcopy=False, states=_FINISHED)) >= worker.n_trials:
        return
    study.optimize(
        objective,
        timeout=worker.timeout,
        callbacks=[optuna.study.MaxTrialsCallback(worker.n_trials, _FINISHED), after_trial],
        catch=(torch_side.TrainingError,),
    )


def _trained_before(study: optuna.Study, architecture: str) -> FrozenTrial | None:
    """A complete trial of the study that trained ``architecture``, if any."""
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        if trial.intermediate_values and trial.user_attrs.get(_keys.ARCHITECTURE) == architecture:
            return trial
    return None


def _worker_process(worker: Worker) -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    run_worker(worker)


def _run_processes(workers: list[Worker], on_poll: Callable[[], None]) -> None:
    """One process per worker (per GPU); the progress is polled from the storage meanwhile."""
    context = multiprocessing.get_context("spawn")  # CUDA cannot be used after a fork
    processes = [context.Process(target=_worker_process, args=(w,)) for w in workers]
    for process in processes:
        process.start()
    while any(p.is_alive() for p in processes):
        for process in processes:
            process.join(timeout=1.0 / len(processes))
        on_poll()
    failed = [w.device for w, p in zip(workers, processes, strict=True) if p.exitcode != 0]
    if failed:
        raise click.ClickException(f"the workers on {', '.join(failed)} failed")


class _Progress:
    """A progress bar of the study's finished trials: pruned, best accuracy, epochs saved."""

    def __init__(self, study: optuna.Study, n_trials: int, epochs: int, already: int) -> None:
        from tqdm import tqdm

        self._study = study
        self._epochs = epochs
        self._bar = tqdm(
            total=n_trials, initial=min(already, n_trials), unit="trial", dynamic_ncols=True
        )
        self.update()

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._bar.close()

    def update(self) -> None:
        trials = self._study.get_trials(deepcopy=False, states=_FINISHED)
        n_pruned = sum(t.state == TrialState.PRUNED for t in trials)
        values = [
            t.value for t in trials if t.state == TrialState.COMPLETE and t.value is not None
        ]
        trained = sum(len(t.intermediate_values) for t in trials)
        n_trained = sum(_keys.REUSED_FROM not in t.user_attrs for t in trials)
        saved = 1.0 - trained / (self._epochs * n_trained) if n_trained else 0.0
        best = f"{max(values):.4f}" if values else "-"
        self._bar.set_postfix_str(f"pruned {n_pruned}, best {best}, epochs saved {saved:.0%}")
        self._bar.update(min(len(trials), self._bar.total) - self._bar.n)


def summary(
    study: optuna.Study, storage: str, config: SearchConfig, start: float, worker_seconds: float
) -> str:
    """The best architectures and what pruning saved, then the command to watch the study."""
    trials = study.get_trials(deepcopy=False)
    finished = [t for t in trials if t.state in _FINISHED]
    complete = [t for t in finished if t.state == TrialState.COMPLETE and t.value is not None]
    # Each architecture once: its best accuracy, and the epochs all its trials trained.
    groups: dict[str, list[FrozenTrial]] = {}
    for trial in finished:
        groups.setdefault(str(trial.user_attrs.get(_keys.ARCHITECTURE)), []).append(trial)
    best: dict[str, float] = {}
    for trial in complete:
        text = str(trial.user_attrs.get(_keys.ARCHITECTURE))
        best[text] = max(best.get(text, -math.inf), float(trial.value or 0.0))
    lines = [
        "",
        "Best architectures:",
        "",
        "| rank | accuracy | proposed | epochs trained | architecture |",
        "|---|---|---|---|---|",
    ]
    for rank, text in enumerate(sorted(best, key=lambda a: -best[a])[:5], 1):
        group = groups[text]
        trained = sum(len(t.intermediate_values) for t in group)
        n_trained = sum(_keys.REUSED_FROM not in t.user_attrs for t in group)
        epochs = f"{trained} of {config.epochs * n_trained}"
        lines.append(f"| {rank} | {best[text]:.4f} | {len(group)} | {epochs} | {text} |")
    if not best:
        lines.append("| - | - | - | - | no trial has completed yet |")
    n_pruned = sum(t.state == TrialState.PRUNED for t in finished)
    n_failed = sum(t.state == TrialState.FAIL for t in trials)
    reused = [t for t in finished if _keys.REUSED_FROM in t.user_attrs]
    trained = sum(len(t.intermediate_values) for t in finished)
    full = config.epochs * (len(finished) - len(reused))
    lines += [
        "",
        f"Trials: {len(finished)} finished ({len(complete)} complete, {n_pruned} pruned), "
        f"{n_failed} failed; {len(reused)} proposed an architecture trained before and took "
        "its accuracy.",
    ]
    if full:
        lines.append(
            f"Epochs: {trained} trained of the {full} that the trials that trained would have "
            f"trained without pruning: {1 - trained / full:.1%} saved "
            f"({full / max(trained, 1):.2f}x fewer)."
        )
    ran = [t for t in trials if t.datetime_start and t.datetime_start.timestamp() >= start]
    training = sum(float(t.user_attrs.get(_keys.TRAIN_SECONDS, 0.0)) for t in ran)
    if ran and worker_seconds > 0:
        outside = max(1.0 - training / worker_seconds, 0.0)
        lines.append(
            f"This run: {len(ran)} trials in {worker_seconds:.1f} worker-seconds, "
            f"{outside:.1%} of them outside training (sampler, pruner, storage)."
        )
    lines += ["", f"Watch it: optuna-dashboard {safe_url(storage)}"]
    return "\n".join(lines)
