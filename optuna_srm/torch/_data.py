"""load_dataset: the image classification data sets of a search, as tensors split for training."""

from __future__ import annotations

import importlib
import os
import pickle
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.error import URLError

import numpy as np
import torch

from optuna_srm._validation import is_int, is_number

DATASETS: tuple[str, ...] = ("digits", "mnist1d", "mnist", "fashion-mnist", "cifar10", "svhn")

_INSTALL = 'pip install "optuna-srm[torch]"'
_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
_CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))


class DatasetError(ValueError):
    """A data set that cannot be loaded, with a one-line message a user can act on."""


@dataclass(frozen=True)
class Dataset:
    """A classification data set split into training and validation examples.

    ``x_train`` and ``x_valid`` are float32 tensors of shape ``(n, *input_shape)``, normalised
    per channel with the mean and standard deviation of ``x_train``; ``y_train`` and
    ``y_valid`` are int64 class indices in ``[0, num_classes)``.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_valid: torch.Tensor
    y_valid: torch.Tensor
    input_shape: tuple[int, ...]
    num_classes: int


# The training portion of a data set: images of shape (n, *input_shape) and labels of shape (n,).
_Arrays = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class _Source:
    """Where a data set comes from: made in memory (``make``), or read from the files in
    ``<data_dir>/<folder>`` (``read``) that ``fetch`` downloads with torchvision, which checks
    each download's md5."""

    title: str
    input_shape: tuple[int, ...]
    make: Callable[[], _Arrays] | None = None
    read: Callable[[Path], _Arrays] | None = None
    folder: str = ""
    files: tuple[str, ...] = ()
    fetch: Callable[[Path], object] | None = None


def load_dataset(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    split_seed: int = 0,
    valid_fraction: float = 0.2,
    max_train: int | None = None,
    download: bool = True,
) -> Dataset:
    """Load a data set's training portion, split into training and validation examples.

    The validation examples are a fixed random part of the data set's training portion (its
    test portion is never read), chosen by ``split_seed`` alone: every process that loads the
    same data set with the same ``split_seed`` and ``valid_fraction`` validates on the same
    examples, whatever ``max_train`` is. Inputs are normalised per channel with the mean and
    standard deviation of the training examples returned.

    The data sets, all with 10 classes:

    - ``"digits"``: scikit-learn's bundled 8x8 handwritten digits (1,797 images, input shape
      ``(1, 8, 8)``); needs no files.
    - ``"mnist1d"``: MNIST-1D (Greydanus, 2020), its 4,000 training sequences of shape
      ``(1, 40)`` generated locally by the ``mnist1d`` package with its default arguments.
    - ``"mnist"``, ``"fashion-mnist"`` (``(1, 28, 28)``), ``"cifar10"`` and ``"svhn"``
      (``(3, 32, 32)``, SVHN's 73,257 ``train`` images without ``extra``): read from
      ``data_dir`` in the layout of :mod:`torchvision.datasets`, for example
      ``<data_dir>/MNIST/raw/train-images-idx3-ubyte``,
      ``<data_dir>/cifar-10-batches-py/data_batch_1`` or ``<data_dir>/train_32x32.mat``.
      Where they are missing and ``download`` is true, torchvision downloads them there first.

    Example:

        .. code::

            from optuna_srm.torch import load_dataset

            data = load_dataset("digits", max_train=500)
            print(data.input_shape, data.num_classes, len(data.x_train), len(data.x_valid))

    Args:
        name: One of :data:`DATASETS`.
        data_dir: The directory of the data set's files, for the data sets read from files;
            ignored by ``"digits"`` and ``"mnist1d"``.
        split_seed: Seed of the permutation that picks the validation examples, an integer in
            ``[0, 2**32 - 1]``.
        valid_fraction: The fraction of the training portion held out for validation, in
            ``(0, 1)``; at least one example goes to each side.
        max_train: Keep at most this many training examples (at least 1), the first of the
            permutation after the validation examples, for quick runs; ``None`` keeps all.
        download: Whether torchvision may download missing files into ``data_dir``.

    Returns:
        The :class:`Dataset`, with its tensors on the CPU.

    Raises:
        ValueError: if an argument is invalid.
        DatasetError: if ``name`` is not a known data set, or its files are missing and cannot
            be downloaded, or cannot be read.
    """
    if not is_int(split_seed) or not 0 <= split_seed < 2**32:
        raise ValueError(
            f"split_seed must be an integer in [0, 2**32 - 1], but got {split_seed=}."
        )
    if not is_number(valid_fraction) or not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must be a number in (0, 1), but got {valid_fraction=}.")
    if max_train is not None and (not is_int(max_train) or max_train < 1):
        raise ValueError(f"max_train must be None or an integer >= 1, but got {max_train=}.")
    if not isinstance(download, bool):
        raise ValueError(f"download must be a bool, but got {download=}.")
    source = _SOURCES.get(name) if isinstance(name, str) else None
    if source is None:
        raise DatasetError(f"unknown data set {name!r}; the known ones are {', '.join(DATASETS)}.")

    if source.make is not None:
        x, y = source.make()
    else:
        if data_dir is None:
            raise DatasetError(
                f"{source.title} is read from files: give the directory that holds them, or "
                "where they may be downloaded to (data_dir; --data-dir on the command line)."
            )
        x, y = _read(source, Path(data_dir).expanduser(), download)

    n = len(y)
    n_valid = max(1, round(n * float(valid_fraction)))
    if n_valid >= n:
        raise DatasetError(
            f"{source.title} has {n} examples: too few to hold out {valid_fraction=} of them for "
            "validation and train on the rest."
        )
    order = np.random.default_rng(int(split_seed)).permutation(n)
    valid, train = order[:n_valid], order[n_valid:]
    if max_train is not None:
        train = train[:max_train]

    x_train, x_valid = _normalise(torch.from_numpy(x[train]), torch.from_numpy(x[valid]))
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=torch.from_numpy(y[train].astype(np.int64)),
        x_valid=x_valid,
        y_valid=torch.from_numpy(y[valid].astype(np.int64)),
        input_shape=source.input_shape,
        num_classes=10,
    )


def _normalise(x_train: torch.Tensor, x_valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both as float32, less the mean and over the standard deviation of each training channel."""
    x_train, x_valid = x_train.float(), x_valid.float()
    dims = [0, *range(2, x_train.dim())]
    std, mean = torch.std_mean(x_train, dim=dims, correction=0, keepdim=True)
    std = std.clamp_min(1e-6)  # a constant channel stays 0
    return x_train.sub_(mean).div_(std), x_valid.sub_(mean).div_(std)


def _read(source: _Source, root: Path, download: bool) -> _Arrays:
    """Read ``source`` from ``root``, downloading its files first where missing and allowed."""
    assert source.read is not None and source.fetch is not None
    folder = root / source.folder
    expected = f"{', '.join(source.files)} in {folder}"
    if not all((folder / file).is_file() for file in source.files):
        if not download:
            raise DatasetError(
                f"{source.title} is not in {root}: expected {expected} (downloading is off)."
            )
        try:
            source.fetch(root)
        # torchvision raises these when the internet cannot be reached, a download is corrupt
        # or the directory cannot be written; its multi-line messages would hide the point.
        except (RuntimeError, URLError, OSError) as error:
            failure = f"could not download {source.title} into {root} ({_describe(error)})"
        else:
            failure = ""
        # Raised outside the except clause: no chained traceback from torchvision.
        if failure or not all((folder / file).is_file() for file in source.files):
            failure = failure or f"downloading {source.title} into {root} gave no {expected}"
            raise DatasetError(f"{failure}; without internet access, put {expected}.")

    try:
        x, y = source.read(folder)
    # A damaged file fails in many ways inside pickle, scipy and torchvision's readers.
    except Exception as error:
        problem = _describe(error)
    else:
        if x.shape[1:] != source.input_shape:
            problem = f"images of shape {x.shape[1:]}, not {source.input_shape}"
        elif len(x) != len(y) or not np.isin(y, np.arange(10)).all():
            problem = f"{len(x)} images and {len(y)} labels, or labels outside 0-9"
        else:
            return x, y
    raise DatasetError(
        f"cannot read {source.title} in {folder} ({problem}); delete its files to download "
        "them again."
    )


def _describe(error: Exception) -> str:
    """``error`` on one line: its type and the last line of its message, shortened.

    torchvision's message of a failed MNIST download lists each mirror tried, its reason last.
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[-1][:200] if lines else ''}"


def _make_digits() -> _Arrays:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return x.astype(np.float32).reshape(-1, 1, 8, 8), y


def _make_mnist1d() -> _Arrays:
    try:
        generator = importlib.import_module("mnist1d.data")
    except ImportError:
        raise DatasetError(f"the mnist1d data set needs the mnist1d package: {_INSTALL}") from None

    # The generator seeds Python's and numpy's global random state; the caller's is kept.
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        generated = generator.make_dataset(generator.get_dataset_args())
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    x = np.asarray(generated["x"], dtype=np.float32)
    return x.reshape(len(x), 1, -1), np.asarray(generated["y"], dtype=np.int64)


def _read_mnist(folder: Path) -> _Arrays:
    from torchvision.datasets.mnist import read_image_file, read_label_file

    images = read_image_file(str(folder / _MNIST_FILES[0])).numpy()
    labels = read_label_file(str(folder / _MNIST_FILES[1])).numpy()
    return images[:, None], labels


def _read_cifar10(folder: Path) -> _Arrays:
    # Read as torchvision does, without its md5 check of each file: a download is checked as a
    # whole, and files put there by hand are taken as they are.
    images, labels = [], []
    for file in _CIFAR10_FILES:
        with open(folder / file, "rb") as f:
            batch = pickle.load(f, encoding="latin1")
        images.append(np.asarray(batch["data"], dtype=np.uint8))
        labels.extend(batch["labels"])
    return np.concatenate(images).reshape(-1, 3, 32, 32), np.asarray(labels, dtype=np.int64)


def _read_svhn(folder: Path) -> _Arrays:
    from scipy.io import loadmat

    mat = loadmat(folder / "train_32x32.mat")
    images = np.ascontiguousarray(np.transpose(mat["X"], (3, 2, 0, 1)))  # HWCN -> NCHW
    labels = mat["y"].astype(np.int64).reshape(-1)
    return images, np.where(labels == 10, 0, labels)  # SVHN labels the digit 0 as 10


def _fetch_mnist(root: Path) -> None:
    from torchvision.datasets import MNIST

    MNIST(root, train=True, download=True)


def _fetch_fashion_mnist(root: Path) -> None:
    from torchvision.datasets import FashionMNIST

    FashionMNIST(root, train=True, download=True)


def _fetch_cifar10(root: Path) -> None:
    from torchvision.datasets import CIFAR10

    CIFAR10(root, train=True, download=True)


def _fetch_svhn(root: Path) -> None:
    from torchvision.datasets import SVHN

    SVHN(root, split="train", download=True)


_SOURCES: dict[str, _Source] = {
    "digits": _Source("the digits data set", (1, 8, 8), make=_make_digits),
    "mnist1d": _Source("the mnist1d data set", (1, 40), make=_make_mnist1d),
    "mnist": _Source(
        "MNIST", (1, 28, 28), None, _read_mnist, "MNIST/raw", _MNIST_FILES, _fetch_mnist
    ),
    "fashion-mnist": _Source(
        "Fashion-MNIST",
        (1, 28, 28),
        None,
        _read_mnist,
        "FashionMNIST/raw",
        _MNIST_FILES,
        _fetch_fashion_mnist,
    ),
    "cifar10": _Source(
        "CIFAR-10",
        (3, 32, 32),
        None,
        _read_cifar10,
        "cifar-10-batches-py",
        _CIFAR10_FILES,
        _fetch_cifar10,
    ),
    "svhn": _Source("SVHN", (3, 32, 32), None, _read_svhn, "", ("train_32x32.mat",), _fetch_svhn),
}
