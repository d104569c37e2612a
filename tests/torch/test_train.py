"""train_trial: real training on the digits data set, reporting every epoch to a real study."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import optuna
import pytest
from optuna.pruners import BasePruner, NopPruner, ThresholdPruner
from optuna.trial import TrialState

import optuna_srm

torch = pytest.importorskip("torch")
optuna_srm_torch = pytest.importorskip("optuna_srm.torch")
build_model = optuna_srm_torch.build_model
load_dataset = optuna_srm_torch.load_dataset
train_trial = optuna_srm_torch.train_trial
TrainingError = optuna_srm_torch.TrainingError

ARCHITECTURE = "[C(8,3,1), P(2,2), D(1,2), FC(32), SM(10)]"
EPOCHS = 3  # with batches of 32 and lr 3e-3 (see _run), enough to reach about 0.8 accuracy


@pytest.fixture(scope="module")
def data() -> Any:
    return load_dataset("digits", max_train=600)


def _model(data: Any, seed: int = 0, architecture: str = ARCHITECTURE) -> Any:
    torch.manual_seed(seed)
    return build_model(optuna_srm.parse_architecture(architecture), data.input_shape, 10)


def _run(
    data: Any,
    pruner: BasePruner | None = None,
    direction: str = "maximize",
    **kwargs: Any,
) -> optuna.trial.FrozenTrial:
    """One trial of a new study, trained with ``kwargs``; the finished trial."""
    study = optuna.create_study(direction=direction, pruner=pruner or NopPruner())
    kwargs = {"epochs": EPOCHS, "seed": 0, "batch_size": 32, "lr": 3e-3, **kwargs}
    study.optimize(lambda trial: train_trial(trial, _model(data), data, **kwargs), n_trials=1)
    return study.trials[0]


def test_reports_every_epoch_and_learns(data: Any) -> None:
    trial = _run(data)

    assert trial.state == TrialState.COMPLETE
    curve = [trial.intermediate_values[epoch] for epoch in range(EPOCHS)]
    assert sorted(trial.intermediate_values) == list(range(EPOCHS))
    assert all(0.0 <= value <= 1.0 for value in curve)
    assert curve[-1] > 0.5  # chance is 0.1
    assert trial.value == curve[-1]


def test_the_value_is_the_validation_accuracy(data: Any) -> None:
    model = _model(data)
    value = train_trial(optuna.trial.FixedTrial({}), model, data, epochs=1, seed=0)

    with torch.no_grad():
        predicted = model.eval()(data.x_valid).argmax(dim=1)
    assert value == pytest.approx(float((predicted == data.y_valid).float().mean()))


def test_objective_loss(data: Any) -> None:
    trial = _run(data, direction="minimize", objective="loss")

    assert trial.state == TrialState.COMPLETE
    curve = [trial.intermediate_values[epoch] for epoch in range(EPOCHS)]
    assert all(value > 0 for value in curve)
    assert curve[-1] < curve[0] < math.log(10) * 1.5
    assert trial.value == curve[-1]


def test_pruned_at_the_first_report(data: Any) -> None:
    trial = _run(data, pruner=ThresholdPruner(lower=1.1))  # no accuracy reaches 1.1

    assert trial.state == TrialState.PRUNED
    assert list(trial.intermediate_values) == [0]


def test_pruned_at_the_step_the_pruner_decides(data: Any) -> None:
    trial = _run(data, pruner=ThresholdPruner(lower=1.1, n_warmup_steps=1))

    assert trial.state == TrialState.PRUNED
    assert list(trial.intermediate_values) == [0, 1]


def test_a_pruner_that_does_not_prune(data: Any) -> None:
    trial = _run(data, pruner=ThresholdPruner(lower=0.0))

    assert trial.state == TrialState.COMPLETE
    assert len(trial.intermediate_values) == EPOCHS


def test_same_seed_same_curve(data: Any) -> None:
    # _run builds each model under torch.manual_seed(0): the seeds differ in shuffles and dropout.
    first = _run(data, seed=1).intermediate_values
    again = _run(data, seed=1).intermediate_values
    other = _run(data, seed=2).intermediate_values

    assert len(first) == EPOCHS
    assert first == again
    assert first != other


def test_the_global_random_state_is_kept(data: Any) -> None:
    model = _model(data)
    torch.manual_seed(123)
    rng_state = torch.get_rng_state()

    train_trial(optuna.trial.FixedTrial({}), model, data, epochs=1, seed=5)

    assert torch.equal(torch.get_rng_state(), rng_state)


@pytest.mark.parametrize(
    ("pruner", "state"),
    [(NopPruner(), TrialState.COMPLETE), (ThresholdPruner(lower=1.1), TrialState.PRUNED)],
)
def test_train_seconds(data: Any, pruner: BasePruner, state: TrialState) -> None:
    trial = _run(data, pruner=pruner)

    assert trial.state == state
    seconds = trial.user_attrs["train_seconds"]
    assert isinstance(seconds, float)
    assert 0 < seconds < (trial.duration.total_seconds() if trial.duration else math.inf)


def test_sgd_and_weight_decay(data: Any) -> None:
    trial = _run(data, optimizer="sgd", lr=0.05, weight_decay=1e-4, batch_size=32)

    assert trial.state == TrialState.COMPLETE
    assert trial.value is not None and trial.value > 0.5


def test_a_diverging_run_fails(data: Any) -> None:
    study = optuna.create_study(direction="maximize")
    trial = study.ask()

    with pytest.raises(TrainingError, match=r"^the training loss diverged at epoch 0 \(sgd"):
        train_trial(trial, _model(data), data, epochs=EPOCHS, optimizer="sgd", lr=1e6, seed=0)

    assert trial.user_attrs["train_seconds"] > 0
    assert study.trials[0].intermediate_values == {}  # the diverged epoch is not reported


def test_nan_inputs_fail(data: Any) -> None:
    x_train = data.x_train.clone()
    x_train[0, 0, 0, 0] = math.nan
    bad = dataclasses.replace(data, x_train=x_train)

    with pytest.raises(TrainingError, match="diverged at epoch 0"):
        train_trial(optuna.trial.FixedTrial({}), _model(data), bad, epochs=1)


class _OutOfMemory(torch.nn.Module):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(64, 10)

    def forward(self, x: Any) -> Any:
        raise torch.cuda.OutOfMemoryError(
            "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of "
            "79.19 GiB of which 1.00 GiB is free. Of the allocated memory 70.00 GiB is "
            "allocated by PyTorch.\nSee documentation for Memory Management"
        )


def test_out_of_memory_is_one_line(data: Any) -> None:
    study = optuna.create_study()
    trial = study.ask()

    with pytest.raises(TrainingError) as info:
        train_trial(trial, _OutOfMemory(), data, epochs=1, batch_size=64)

    assert str(info.value) == (
        "out of memory with batch size 64 on cpu: Tried to allocate 2.00 GiB. GPU 0 has a total "
        "capacity of 79.19 GiB of which 1.00 GiB is free."
    )
    assert info.value.__context__ is None
    assert "train_seconds" in trial.user_attrs


def test_other_errors_pass_through(data: Any) -> None:
    model = _model(data, architecture="[FC(16), SM(10)]")
    wrong_shape = dataclasses.replace(data, x_train=data.x_train[:, :, :4], input_shape=(1, 8, 4))

    with pytest.raises(RuntimeError, match="shapes cannot be multiplied") as info:
        train_trial(optuna.trial.FixedTrial({}), model, wrong_shape, epochs=1)
    assert not isinstance(info.value, TrainingError)


def test_a_torch_device(data: Any) -> None:
    model = _model(data)

    train_trial(optuna.trial.FixedTrial({}), model, data, epochs=1, device=torch.device("cpu"))

    assert all(p.device.type == "cpu" for p in model.parameters())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, r"epochs must be an integer >= 1, but got epochs=0\."),
        ({"epochs": 2.0}, "epochs must be an integer"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1, but got batch_size=0\."),
        ({"lr": 0.0}, r"lr must be a finite number > 0, but got lr=0\.0\."),
        ({"lr": math.inf}, "lr must be a finite number"),
        ({"lr": "0.1"}, "lr must be"),
        ({"weight_decay": -1e-4}, r"weight_decay must be a finite number >= 0"),
        ({"weight_decay": math.nan}, "weight_decay must be"),
        ({"optimizer": "rmsprop"}, r"optimizer must be one of \('adam', 'sgd'\), .*'rmsprop'"),
        ({"objective": "error"}, r"objective must be one of \('accuracy', 'loss'\)"),
        ({"seed": -1}, r"seed must be None or an integer in \[0, 2\*\*32 - 1\]"),
        ({"device": "gpu"}, r"device must be 'cpu', 'cuda:0', \.\.\. or a torch.device"),
    ],
)
def test_bad_arguments(data: Any, kwargs: dict[str, Any], match: str) -> None:
    kwargs = {"epochs": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        train_trial(optuna.trial.FixedTrial({}), _model(data), data, **kwargs)


def test_bad_model_and_data(data: Any) -> None:
    trial = optuna.trial.FixedTrial({})
    with pytest.raises(ValueError, match=r"model must be a torch\.nn\.Module, but got str"):
        train_trial(trial, "model", data, epochs=1)
    empty = dataclasses.replace(data, x_valid=data.x_valid[:0], y_valid=data.y_valid[:0])
    with pytest.raises(ValueError, match="data must be a Dataset with at least one"):
        train_trial(trial, _model(data), empty, epochs=1)


def test_a_gpu_where_there_is_none(data: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    with pytest.raises(ValueError, match=r"device='cuda:0' is a GPU, but PyTorch sees none"):
        train_trial(optuna.trial.FixedTrial({}), _model(data), data, epochs=1, device="cuda:0")


@pytest.mark.gpu
@pytest.mark.parametrize("pruner", [NopPruner(), ThresholdPruner(lower=1.1)])
def test_on_gpu_in_mixed_precision_and_memory_released(data: Any, pruner: BasePruner) -> None:
    _run(data, device="cuda", epochs=1)  # cuBLAS and cuDNN keep workspaces from a first use
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()

    trial = _run(data, pruner=pruner, device="cuda", epochs=EPOCHS)

    torch.cuda.synchronize()
    assert torch.cuda.memory_allocated() == before
    assert trial.user_attrs["train_seconds"] > 0
    if isinstance(pruner, NopPruner):
        assert trial.state == TrialState.COMPLETE
        assert len(trial.intermediate_values) == EPOCHS
        assert trial.value is not None and trial.value > 0.5
    else:
        assert trial.state == TrialState.PRUNED
    assert torch.backends.cudnn.benchmark


@pytest.mark.gpu
def test_same_seed_same_curve_on_gpu(data: Any) -> None:
    first = _run(data, device="cuda:0", seed=3).intermediate_values
    again = _run(data, device="cuda:0", seed=3).intermediate_values

    assert len(first) == EPOCHS
    # cuDNN's autotuned kernels may differ between runs: equal to a tolerance only.
    assert first == pytest.approx(again, abs=0.02)
