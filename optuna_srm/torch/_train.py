"""train_trial: train a model for a trial, reporting every epoch's validation value."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import partial
from typing import Any

import optuna
import torch
from torch import nn
from torch.nn import functional

from optuna_srm._validation import check_int, check_seed, is_number
from optuna_srm.torch._data import Dataset

_OPTIMIZERS = ("adam", "sgd")
_OBJECTIVES = ("accuracy", "loss")
# Evaluation holds no activations for a backward pass, so it runs in batches at least this big.
_EVAL_BATCH_SIZE = 512
_SGD_MOMENTUM = 0.9
_EMPTY = torch.empty(0)


class TrainingError(RuntimeError):
    """A trial's training failed for a reason the user can act on (CUDA out of memory, a diverged
    loss); one line."""


def train_trial(
    trial: optuna.trial.BaseTrial,
    model: nn.Module,
    data: Dataset,
    *,
    epochs: int,
    device: str | torch.device = "cpu",
    optimizer: str = "adam",
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    batch_size: int = 128,
    seed: int | None = None,
    objective: str = "accuracy",
) -> float:
    """Train a classifier for a trial, reporting its validation value after every epoch.

    After each epoch ``e`` (counted from 0) the model is evaluated on ``data``'s validation
    examples, the value is reported with ``trial.report(value, e)``, and
    :class:`optuna.TrialPruned` is raised where ``trial.should_prune()`` says so. The value is
    the validation accuracy in ``[0, 1]`` for ``objective="accuracy"`` (maximise it) or the mean
    validation cross-entropy for ``objective="loss"`` (minimise it).

    The loss is :func:`torch.nn.functional.cross_entropy` on the model's logits. The data set is
    moved to ``device`` once and reshuffled every epoch, the last batch of an epoch taking what
    is left. On CUDA, training runs in mixed precision (bfloat16 where the device supports it,
    else float16 with gradient scaling) and sets ``torch.backends.cudnn.benchmark``; on other
    devices it runs in float32. The model is trained in place and left on the CPU; the device
    memory of the trial is released whether it completes, is pruned or fails.

    ``seed`` makes the shuffles and dropout reproducible, on the CPU exactly, without changing
    the global random state; the initial weights are the caller's: seed them with
    :func:`torch.manual_seed` before building the model. A training loss that is not finite
    (NaN or infinite) or a validation loss that is not finite raises :class:`TrainingError` at
    the end of that epoch, without reporting it, so the trial fails. The seconds spent training
    and evaluating (moving the data and model to the device included, the pruner's decisions
    not) are recorded as the user attr ``train_seconds`` of the trial, also where it is pruned or
    fails.

    Example:

        .. code::

            import optuna
            import torch
            import optuna_srm
            from optuna_srm.torch import build_model, load_dataset, train_trial

            data = load_dataset("digits", max_train=300)


            def objective(trial):
                filters = trial.suggest_categorical("filters", [4, 8])
                layers = optuna_srm.parse_architecture(f"[C({filters},3,1), P(2,2), SM(10)]")
                torch.manual_seed(trial.number)
                model = build_model(layers, data.input_shape, data.num_classes)
                return train_trial(trial, model, data, epochs=2, seed=trial.number)


            study = optuna.create_study(direction="maximize")
            study.optimize(objective, n_trials=2)

    Args:
        trial: The trial to report to.
        model: A classifier of ``data``'s inputs, returning logits of shape
            ``(batch, data.num_classes)``, as :func:`~optuna_srm.torch.build_model` builds it.
        data: The training and validation examples, as
            :func:`~optuna_srm.torch.load_dataset` returns them; at least one of each.
        epochs: Number of passes over the training examples, at least 1.
        device: Where to train: ``"cpu"``, ``"cuda:0"``, a :class:`torch.device`, ...
        optimizer: ``"adam"`` (:class:`torch.optim.Adam`) or ``"sgd"``
            (:class:`torch.optim.SGD` with momentum 0.9).
        lr: Learning rate, a finite number > 0.
        weight_decay: L2 penalty of the optimizer, a finite number >= 0.
        batch_size: Training examples per step, at least 1.
        seed: ``None`` or an integer in ``[0, 2**32 - 1]``, seeding the shuffles and dropout.
        objective: ``"accuracy"`` or ``"loss"``, the value reported and returned.

    Returns:
        The value of the last epoch.

    Raises:
        ValueError: if an argument is invalid.
        optuna.TrialPruned: where the trial's pruner stops it.
        TrainingError: if the device runs out of memory or the loss is not finite.
    """
    _check_arguments(model, data, epochs, optimizer, lr, weight_decay, batch_size, objective)
    seed = check_seed(seed)
    device = _check_device(device)
    cuda = device.type == "cuda"
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    autocast, scaler = _precision(device)
    eval_batch_size = max(batch_size, _EVAL_BATCH_SIZE)

    value, out_of_memory = math.nan, ""
    x_train = y_train = x_valid = y_valid = _EMPTY
    opt: torch.optim.Optimizer | None = None
    started, deciding = time.perf_counter(), 0.0  # seconds in trial.report and should_prune
    try:
        # Dropout draws from the global generators: seed them here and restore them afterwards.
        devices = [device.index] if cuda else []
        with torch.random.fork_rng(devices, enabled=seed is not None, device_type="cuda"):
            if seed is not None:
                torch.default_generator.manual_seed(seed)
                if cuda:
                    with torch.cuda.device(device):
                        torch.cuda.manual_seed(seed)
            model.to(device)
            x_train, y_train = data.x_train.to(device), data.y_train.to(device)
            x_valid, y_valid = data.x_valid.to(device), data.y_valid.to(device)
            opt = _make_optimizer(model, optimizer, lr, weight_decay)
            for epoch in range(epochs):
                train_loss = _train_epoch(
                    model, opt, x_train, y_train, generator, batch_size, autocast, scaler
                )
                accuracy, valid_loss = _evaluate(
                    model, x_valid, y_valid, eval_batch_size, autocast
                )
                for which, loss in (("training", train_loss), ("validation", valid_loss)):
                    if not math.isfinite(loss):
                        raise TrainingError(
                            f"the {which} loss diverged at epoch {epoch} ({optimizer} with "
                            f"{lr=}); try a lower learning rate."
                        )
                value = accuracy if objective == "accuracy" else valid_loss
                decide_start = time.perf_counter()
                trial.report(value, epoch)
                prune = trial.should_prune()
                deciding += time.perf_counter() - decide_start
                if prune:
                    raise optuna.TrialPruned()
    except RuntimeError as error:  # torch.cuda.OutOfMemoryError is one
        if isinstance(error, TrainingError) or "out of memory" not in str(error):
            raise
        out_of_memory = _out_of_memory_detail(error)
    finally:
        # A traceback would keep this frame's device tensors alive: they go before the cache.
        x_train = y_train = x_valid = y_valid = _EMPTY
        opt = None
        model.to("cpu")
        if cuda:
            torch.cuda.synchronize(device)
            torch.cuda.empty_cache()
        trial.set_user_attr("train_seconds", time.perf_counter() - started - deciding)
    if out_of_memory:
        # Raised outside the except clause, whose traceback holds the frames that ran out.
        what = "CUDA out of memory" if cuda else "out of memory"
        raise TrainingError(f"{what} with batch size {batch_size} on {device}{out_of_memory}")
    return value


def _check_arguments(
    model: object,
    data: object,
    epochs: object,
    optimizer: object,
    lr: object,
    weight_decay: object,
    batch_size: object,
    objective: object,
) -> None:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, but got {type(model).__name__}.")
    if not isinstance(data, Dataset) or len(data.x_train) < 1 or len(data.x_valid) < 1:
        raise ValueError(
            "data must be a Dataset with at least one training and one validation example, but "
            f"got {type(data).__name__}."
        )
    check_int("epochs", epochs, 1)
    check_int("batch_size", batch_size, 1)
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, but got {optimizer=}.")
    if not is_number(lr) or not 0 < lr < math.inf:  # type: ignore[operator]
        raise ValueError(f"lr must be a finite number > 0, but got {lr=}.")
    if not is_number(weight_decay) or not 0 <= weight_decay < math.inf:  # type: ignore[operator]
        raise ValueError(f"weight_decay must be a finite number >= 0, but got {weight_decay=}.")
    if objective not in _OBJECTIVES:
        raise ValueError(f"objective must be one of {_OBJECTIVES}, but got {objective=}.")


def _check_device(device: str | torch.device) -> torch.device:
    """``device`` as a ``torch.device`` that exists, with its index where it is a GPU."""
    resolved: torch.device | None
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        resolved = None
    if resolved is None:
        raise ValueError(
            f"device must be 'cpu', 'cuda:0', ... or a torch.device, but got {device=}."
        )
    if resolved.type != "cuda":
        return resolved
    if not torch.cuda.is_available():
        raise ValueError(f"{device=} is a GPU, but PyTorch sees none.")
    index = torch.cuda.current_device() if resolved.index is None else resolved.index
    if index >= torch.cuda.device_count():
        raise ValueError(f"{device=} is not one of the {torch.cuda.device_count()} GPUs.")
    return torch.device("cuda", index)


def _precision(device: torch.device) -> tuple[Callable[[], AbstractContextManager[object]], Any]:
    """The context of each forward pass, and the gradient scaler (or None) of the backward."""
    if device.type != "cuda":
        return nullcontext, None
    # The same few input shapes recur for a whole trial: cuDNN may time its kernels once.
    torch.backends.cudnn.benchmark = True
    try:  # older PyTorch versions count emulated bfloat16, which is slower than float16
        bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
    except TypeError:
        bf16 = torch.cuda.is_bf16_supported()
    if bf16:
        return partial(torch.autocast, "cuda", torch.bfloat16), None
    if hasattr(torch.amp, "GradScaler"):
        scaler = torch.amp.GradScaler("cuda")
    else:  # before PyTorch 2.3
        scaler = torch.cuda.amp.GradScaler()
    return partial(torch.autocast, "cuda", torch.float16), scaler


def _make_optimizer(
    model: nn.Module, name: str, lr: float, weight_decay: float
) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    return torch.optim.SGD(
        model.parameters(), lr=lr, momentum=_SGD_MOMENTUM, weight_decay=weight_decay
    )


def _train_epoch(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    generator: torch.Generator,
    batch_size: int,
    autocast: Callable[[], AbstractContextManager[object]],
    scaler: Any,
) -> float:
    """One pass over ``(x, y)`` in a random order; the sum of the batches' losses."""
    model.train()
    order = torch.randperm(len(x), generator=generator).to(x.device)
    x, y = x[order], y[order]  # one gather per epoch; the batches are then slices
    loss_sum = torch.zeros((), device=x.device)  # on the device: no synchronisation per batch
    for start in range(0, len(x), batch_size):
        x_batch, y_batch = x[start : start + batch_size], y[start : start + batch_size]
        with autocast():
            loss = functional.cross_entropy(model(x_batch), y_batch)
        opt.zero_grad(set_to_none=True)
        if scaler is None:
            torch.autograd.backward(loss)
            opt.step()
        else:
            torch.autograd.backward(scaler.scale(loss))
            scaler.step(opt)
            scaler.update()
        loss_sum += loss.detach()
    return float(loss_sum)


def _evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    autocast: Callable[[], AbstractContextManager[object]],
) -> tuple[float, float]:
    """The accuracy and the mean cross-entropy of ``model`` on ``(x, y)``."""
    model.eval()
    with torch.inference_mode():
        correct = torch.zeros((), device=x.device)
        loss_sum = torch.zeros((), device=x.device)
        for start in range(0, len(x), batch_size):
            x_batch, y_batch = x[start : start + batch_size], y[start : start + batch_size]
            with autocast():
                logits = model(x_batch)
            loss_sum += functional.cross_entropy(logits.float(), y_batch, reduction="sum")
            correct += (logits.argmax(dim=1) == y_batch).sum()
        accuracy, loss = (torch.stack([correct, loss_sum]) / len(x)).tolist()
    return accuracy, loss


def _out_of_memory_detail(error: RuntimeError) -> str:
    """What PyTorch's message adds to "out of memory", shortened: ": Tried to allocate ..."."""
    sentences = re.split(r"(?<=\.)\s+", " ".join(str(error).split()))
    detail = " ".join(s for s in sentences[:3] if "out of memory" not in s)
    return f": {detail}" if detail else ""
