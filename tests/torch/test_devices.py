"""resolve_devices: the --devices option, with the GPUs that PyTorch sees (none here, or faked)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
optuna_srm_torch = pytest.importorskip("optuna_srm.torch")
DeviceError = optuna_srm_torch.DeviceError
resolve_devices = optuna_srm_torch.resolve_devices


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)


@pytest.fixture
def two_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only counted, never used: resolve_devices names devices without touching them.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)


@pytest.mark.parametrize("spec", ["cpu", "CPU", " cpu "])
def test_cpu(spec: str) -> None:
    assert resolve_devices(spec) == ["cpu"]


@pytest.mark.usefixtures("no_gpu")
def test_auto_without_a_gpu() -> None:
    assert resolve_devices("auto") == ["cpu"]


@pytest.mark.usefixtures("two_gpus")
def test_auto_with_gpus() -> None:
    assert resolve_devices("auto") == ["cuda:0", "cuda:1"]


@pytest.mark.usefixtures("two_gpus")
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("0", ["cuda:0"]),
        ("1", ["cuda:1"]),
        ("0,1", ["cuda:0", "cuda:1"]),
        (" 1, 0", ["cuda:1", "cuda:0"]),
    ],
)
def test_gpu_indices(spec: str, expected: list[str]) -> None:
    assert resolve_devices(spec) == expected


@pytest.mark.usefixtures("no_gpu")
@pytest.mark.parametrize("spec", ["0", "0,1"])
def test_a_gpu_where_there_is_none(spec: str) -> None:
    with pytest.raises(DeviceError) as info:
        resolve_devices(spec)

    assert str(info.value) == (
        f"--devices {spec} asks for a GPU, but PyTorch sees none "
        "(torch.cuda.is_available() is False)."
    )


@pytest.mark.usefixtures("two_gpus")
@pytest.mark.parametrize("spec", ["2", "0,3"])
def test_an_index_out_of_range(spec: str) -> None:
    with pytest.raises(DeviceError, match=r"asks for GPU \d, but PyTorch sees 2 GPUs \(0 to 1\)"):
        resolve_devices(spec)


def test_an_index_out_of_range_of_one_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)

    with pytest.raises(DeviceError, match=r"^--devices 1 asks for GPU 1, but PyTorch sees 1 GPU"):
        resolve_devices("1")


@pytest.mark.usefixtures("two_gpus")
def test_duplicates() -> None:
    with pytest.raises(DeviceError, match="--devices 0,1,0 names GPU 0 more than once"):
        resolve_devices("0,1,0")


@pytest.mark.parametrize(
    "spec", ["", "gpu", "cuda", "cuda:0", "0,", "-1", "0;1", "1.5", "\u0661", "cpu,0", None, 0]
)
def test_other_forms(spec: object) -> None:
    with pytest.raises(DeviceError, match=r"--devices must be 'cpu', 'auto', or GPU indices"):
        resolve_devices(spec)  # type: ignore[arg-type]


def test_device_error_is_a_value_error() -> None:
    assert issubclass(DeviceError, ValueError)


@pytest.mark.gpu
def test_real_gpus() -> None:
    count = torch.cuda.device_count()

    assert resolve_devices("auto") == [f"cuda:{index}" for index in range(count)]
    assert resolve_devices("0") == ["cuda:0"]
    with pytest.raises(DeviceError, match=f"sees {count} GPU"):
        resolve_devices(str(count))
