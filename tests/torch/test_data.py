"""load_dataset: each data set read from files in its real on-disk format, split and normalised.

The files of MNIST, Fashion-MNIST, CIFAR-10 and SVHN are written here, small, in the formats that
their distributions use. Each image is a flat gray level that grows with its digit, and channel
c has a bright marker pixel at row 0, column 1 + c, so a test can tell the labels, the channels
and the orientation apart after loading.
"""

from __future__ import annotations

import pickle
import random
import struct
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest

torch = pytest.importorskip("torch")
optuna_srm_torch = pytest.importorskip("optuna_srm.torch")
DATASETS = optuna_srm_torch.DATASETS
Dataset = optuna_srm_torch.Dataset
DatasetError = optuna_srm_torch.DatasetError
load_dataset = optuna_srm_torch.load_dataset

N_FILE = 60  # examples per file written; labels cycle through 0-9


def _labels(n: int, offset: int = 0) -> np.ndarray:
    return (np.arange(n) + offset) % 10


def _images(labels: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """uint8 images of ``shape`` (channels first): gray ``20 + 20 * digit``, and 255 at row 0,
    column 1 + c of channel c."""
    images = np.empty((len(labels), *shape), dtype=np.uint8)
    images[:] = (20 + 20 * labels.reshape(-1, *[1] * len(shape))).astype(np.uint8)
    for channel in range(shape[0]):
        images[:, channel, 0, 1 + channel] = 255
    return images


def _write_idx(path: Path, array: np.ndarray) -> None:
    """An idx file (LeCun's MNIST format): a big-endian magic of type 0x08 (unsigned byte) and
    the number of dimensions, the sizes as big-endian int32, then the bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def _write_mnist(root: Path, folder: str) -> np.ndarray:
    """``<root>/<folder>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``, as torchvision
    leaves them after extracting the .gz downloads."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    labels = _labels(N_FILE)
    _write_idx(raw / "train-images-idx3-ubyte", _images(labels, (1, 28, 28))[:, 0])
    _write_idx(raw / "train-labels-idx1-ubyte", labels)
    test_labels = _labels(10)
    _write_idx(raw / "t10k-images-idx3-ubyte", _images(test_labels, (1, 28, 28))[:, 0])
    _write_idx(raw / "t10k-labels-idx1-ubyte", test_labels)
    return labels


def _write_cifar10(root: Path) -> np.ndarray:
    """``<root>/cifar-10-batches-py/``: five training batches, a test batch and batches.meta,
    pickled dicts whose "data" holds rows of 3072 bytes (red, green, blue planes, row-major)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    per_batch = N_FILE // 5
    all_labels = []
    for index, name in enumerate([*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]):
        labels = _labels(per_batch, offset=index)
        batch = {
            "batch_label": f"{name} of 6",
            "labels": labels.tolist(),
            "data": _images(labels, (3, 32, 32)).reshape(per_batch, 3072),
            "filenames": [f"image_{index}_{i}.png" for i in range(per_batch)],
        }
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
        if name != "test_batch":
            all_labels.append(labels)
    meta = {
        "num_cases_per_batch": per_batch,
        "label_names": [
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ],
        "num_vis": 3072,
    }
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(meta, f, protocol=2)
    return np.concatenate(all_labels)


def _write_svhn(root: Path) -> np.ndarray:
    """``<root>/train_32x32.mat``: MATLAB's X of shape (32, 32, 3, n) (height, width, channel,
    image) and y of shape (n, 1) with labels 1-10, 10 for the digit 0."""
    from scipy.io import savemat

    labels = _labels(N_FILE)
    images = np.transpose(_images(labels, (3, 32, 32)), (2, 3, 1, 0))  # NCHW -> HWCN
    y = np.where(labels == 0, 10, labels).astype(np.uint8).reshape(-1, 1)
    savemat(root / "train_32x32.mat", {"X": images, "y": y})
    return labels


WRITERS: dict[str, Callable[[Path], np.ndarray]] = {
    "mnist": lambda root: _write_mnist(root, "MNIST"),
    "fashion-mnist": lambda root: _write_mnist(root, "FashionMNIST"),
    "cifar10": _write_cifar10,
    "svhn": _write_svhn,
}
SHAPES = {
    "mnist": (1, 28, 28),
    "fashion-mnist": (1, 28, 28),
    "cifar10": (3, 32, 32),
    "svhn": (3, 32, 32),
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_reads_the_real_file_format(name: str, tmp_path: Path) -> None:
    labels = WRITERS[name](tmp_path)

    data = load_dataset(name, tmp_path, download=False)

    assert data.name == name
    assert data.input_shape == SHAPES[name]
    assert data.num_classes == 10
    assert (len(data.x_train), len(data.x_valid)) == (len(labels) - 12, 12)
    y = torch.cat([data.y_train, data.y_valid])
    assert np.array_equal(np.bincount(y.numpy(), minlength=10), np.bincount(labels, minlength=10))
    for x, y in [(data.x_train, data.y_train), (data.x_valid, data.y_valid)]:
        assert x.dtype == torch.float32
        assert y.dtype == torch.int64
        assert x.shape[1:] == SHAPES[name]
        # Each channel's marker is its brightest pixel, at row 0 and column 1 + c (flat index
        # 1 + c): rows, columns and channels are where they belong.
        brightest = x.flatten(2).argmax(dim=2)
        assert torch.equal(brightest, torch.arange(1, x.shape[1] + 1).expand_as(brightest))
        # The gray level follows the digit in every channel: the labels go with their images.
        for channel in range(x.shape[1]):
            order = x[:, channel, 1, 1].argsort()
            assert (y[order].diff() >= 0).all()
    # Normalised per channel with the training examples' statistics.
    channels = [0, *range(2, data.x_train.dim())]
    std, mean = torch.std_mean(data.x_train, dim=channels, correction=0)
    assert torch.allclose(mean, torch.zeros(len(mean)), atol=1e-5)
    assert torch.allclose(std, torch.ones(len(std)), atol=1e-5)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_missing_files_without_download(name: str, tmp_path: Path) -> None:
    with pytest.raises(
        DatasetError, match=rf"is not in {tmp_path}: expected .*downloading is off"
    ):
        load_dataset(name, tmp_path, download=False)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_a_failed_download_is_one_line(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # torchvision downloads with urllib; here the internet is unreachable whatever the network.
    def unreachable(*args: object, **kwargs: object) -> None:
        raise URLError("no network in this test")

    monkeypatch.setattr(urllib.request, "urlopen", unreachable)

    with pytest.raises(DatasetError) as info:
        load_dataset(name, tmp_path / "data", download=True)

    message = str(info.value)
    assert message.startswith("could not download ")
    assert f"into {tmp_path / 'data'}" in message
    assert "without internet access, put " in message
    assert "\n" not in message
    assert info.value.__cause__ is None
    assert info.value.__context__ is None  # raised outside the except clause


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_needs_a_data_dir(name: str) -> None:
    with pytest.raises(DatasetError, match="--data-dir"):
        load_dataset(name)


def test_damaged_files(tmp_path: Path) -> None:
    _write_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"not a pickle")
    _write_svhn(tmp_path)
    (tmp_path / "train_32x32.mat").write_bytes(b"not a mat file")
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    _write_idx(raw / "train-images-idx3-ubyte", np.zeros((10, 32, 32), dtype=np.uint8))
    _write_idx(raw / "train-labels-idx1-ubyte", np.zeros(10, dtype=np.uint8))

    with pytest.raises(DatasetError, match=r"images of shape \(1, 32, 32\), not \(1, 28, 28\)"):
        load_dataset("mnist", tmp_path, download=False)
    for name in ("cifar10", "svhn"):
        with pytest.raises(DatasetError, match=r"cannot read .* delete its files") as info:
            load_dataset(name, tmp_path, download=False)
        assert "\n" not in str(info.value)


def test_digits() -> None:
    data = load_dataset("digits")

    assert data.input_shape == (1, 8, 8)
    assert data.num_classes == 10
    assert (len(data.x_train), len(data.x_valid)) == (1797 - 359, 359)
    assert data.x_train.shape == (1438, 1, 8, 8)
    assert data.x_train.dtype == torch.float32
    assert data.y_train.dtype == torch.int64
    assert set(data.y_train.tolist()) == set(range(10))
    # Normalised with the training statistics: mean 0 and standard deviation 1 there.
    assert abs(float(data.x_train.mean())) < 1e-5
    assert float(data.x_train.std(correction=0)) == pytest.approx(1.0, abs=1e-5)
    assert abs(float(data.x_valid.mean())) < 0.1


def test_mnist1d_generated_locally_keeps_the_global_random_state() -> None:
    pytest.importorskip("mnist1d")
    np.random.seed(123)
    random.seed(123)
    numpy_state, python_state = np.random.get_state(), random.getstate()

    data = load_dataset("mnist1d")

    assert data.input_shape == (1, 40)
    assert data.x_train.shape == (3200, 1, 40)
    assert data.x_valid.shape == (800, 1, 40)
    assert set(data.y_valid.tolist()) == set(range(10))
    new_numpy_state = np.random.get_state()
    assert all(np.array_equal(a, b) for a, b in zip(numpy_state, new_numpy_state, strict=True))
    assert random.getstate() == python_state


def test_mnist1d_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mnist1d", None)
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)

    with pytest.raises(DatasetError, match=r'pip install "optuna-srm\[torch\]"'):
        load_dataset("mnist1d")


def test_the_split_depends_on_split_seed_only() -> None:
    first = load_dataset("digits", split_seed=3)
    again = load_dataset("digits", split_seed=3)
    other = load_dataset("digits", split_seed=4)

    assert torch.equal(first.x_valid, again.x_valid)
    assert torch.equal(first.y_train, again.y_train)
    assert not torch.equal(first.y_valid, other.y_valid)


def test_max_train_keeps_the_validation_examples() -> None:
    full = load_dataset("digits")
    small = load_dataset("digits", max_train=100)

    assert len(small.x_train) == 100
    assert torch.equal(small.y_train, full.y_train[:100])
    assert torch.equal(small.y_valid, full.y_valid)
    # Normalised with the statistics of the examples kept.
    assert abs(float(small.x_train.mean())) < 1e-5


def test_valid_fraction() -> None:
    data = load_dataset("digits", valid_fraction=0.25)

    assert (len(data.x_train), len(data.x_valid)) == (1797 - 449, 449)


def test_too_few_examples_to_split(tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    _write_idx(raw / "train-images-idx3-ubyte", np.zeros((1, 28, 28), dtype=np.uint8))
    _write_idx(raw / "train-labels-idx1-ubyte", np.zeros(1, dtype=np.uint8))

    with pytest.raises(DatasetError, match="MNIST has 1 examples: too few"):
        load_dataset("mnist", tmp_path, download=False)


def test_dataset_names() -> None:
    assert DATASETS == ("digits", "mnist1d", "mnist", "fashion-mnist", "cifar10", "svhn")
    with pytest.raises(
        DatasetError, match="unknown data set 'imagenet'; the known ones are digits"
    ):
        load_dataset("imagenet")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"split_seed": -1}, r"split_seed must be an integer in \[0, 2\*\*32 - 1\], .*=-1\."),
        ({"split_seed": 2**32}, "split_seed must be"),
        ({"split_seed": 1.0}, "split_seed must be"),
        ({"valid_fraction": 0}, r"valid_fraction must be a number in \(0, 1\), .*=0\."),
        ({"valid_fraction": 1.0}, "valid_fraction must be"),
        ({"valid_fraction": "0.2"}, "valid_fraction must be"),
        ({"valid_fraction": float("nan")}, "valid_fraction must be"),
        ({"max_train": 0}, r"max_train must be None or an integer >= 1, but got max_train=0\."),
        ({"max_train": 10.0}, "max_train must be"),
        ({"download": "yes"}, "download must be a bool"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        load_dataset("digits", **kwargs)  # type: ignore[arg-type]


def test_dataset_is_frozen() -> None:
    data = load_dataset("digits", max_train=10)

    assert isinstance(data, Dataset)
    with pytest.raises(AttributeError):
        data.name = "other"  # type: ignore[misc]
