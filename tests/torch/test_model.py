"""build_model: MetaQNN layer specs as PyTorch models, with the parameters count_params counts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

import optuna_srm
from optuna_srm import FC, GAP, Conv, Dropout, Layer, MetaQNNSpace, Pool, Softmax

torch = pytest.importorskip("torch")
nn = torch.nn
build_model = pytest.importorskip("optuna_srm.torch").build_model

# Hand-written architectures of the default space's layers: (text, input_shape, num_classes).
ARCHITECTURES = [
    ("[C(64,3,1), P(2,2), C(128,5,1), D(1,1), GAP(10), SM(10)]", (3, 32, 32), 10),
    ("[C(64,3,1), P(5,3), C(64,3,1), D(1,2), P(3,2), FC(128), D(2,2), SM(10)]", (3, 32, 32), 10),
    (
        "[C(64,3,1), P(5,3), C(128,3,1), P(5,3), FC(256), D(1,2), FC(128), D(2,2), SM(10)]",
        (3, 32, 32),
        10,
    ),
    ("[C(64,1,1), SM(10)]", (3, 32, 32), 10),
    ("[GAP(10), SM(10)]", (3, 32, 32), 10),
    ("[SM(10)]", (3, 32, 32), 10),
    ("[C(64,3,1), P(3,2), FC(128), SM(4)]", (1, 12, 8), 4),  # not square
    ("[C(64,5,1), P(3,2), D(1,1), C(128,3,1), GAP(5), SM(5)]", (2, 40), 5),
    ("[C(64,5,1), P(5,3), C(64,3,1), P(3,2), FC(128), D(1,1), SM(5)]", (2, 40), 5),
]


def _n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _random_architecture(space: MetaQNNSpace, rng: np.random.Generator) -> list[Layer]:
    state, tokens = space.initial_state(), []
    while not state.terminal:
        actions = space.actions(state)
        token = actions[rng.integers(len(actions))]
        tokens.append(token)
        state = space.step(state, token)
    return space.with_dropout(tokens)


# Small filters and units keep 200 models per space fast on a CPU.
SAMPLED_SPACES = {
    "2d": MetaQNNSpace(
        (3, 32, 32), 10, conv_filters=(4, 8), fc_units=(32, 16), conv_kernels=(1, 3, 5)
    ),
    "1d": MetaQNNSpace((2, 40), 7, conv_filters=(4, 8), fc_units=(32, 16), conv_kernels=(1, 3)),
}


@pytest.mark.parametrize(("text", "input_shape", "num_classes"), ARCHITECTURES)
def test_hand_written_architectures(
    text: str, input_shape: tuple[int, ...], num_classes: int
) -> None:
    layers = optuna_srm.parse_architecture(text)
    space = MetaQNNSpace(input_shape, num_classes)

    model = build_model(layers, input_shape, num_classes)
    logits = model(torch.randn(3, *input_shape))

    assert logits.shape == (3, num_classes)
    assert _n_params(model) == space.count_params(layers)


@pytest.mark.parametrize("name", sorted(SAMPLED_SPACES))
def test_sampled_architectures(name: str) -> None:
    space = SAMPLED_SPACES[name]
    rng = np.random.default_rng(0)
    seen: set[type] = set()
    for _ in range(200):
        layers = _random_architecture(space, rng)
        seen.update(type(layer) for layer in layers)

        model = build_model(layers, space.input_shape, space.num_classes)
        with torch.no_grad():
            logits = model(torch.randn(2, *space.input_shape))

        assert logits.shape == (2, space.num_classes), layers
        assert _n_params(model) == space.count_params(layers), layers
        rates = [m.p for m in model.modules() if isinstance(m, nn.Dropout)]
        assert rates == [layer.rate for layer in layers if isinstance(layer, Dropout)], layers
    assert seen == {Conv, Pool, FC, Dropout, GAP, Softmax}  # the sample covers every layer


@pytest.mark.parametrize("input_shape", [(3, 16, 16), (3, 16)])
def test_train_and_eval(input_shape: tuple[int, ...]) -> None:
    layers = [Conv(8, 3), Pool(2, 2), Dropout(1, 2), FC(16), Dropout(2, 2), Softmax(4)]
    torch.manual_seed(0)
    model = build_model(layers, input_shape, 4)
    x, y = torch.randn(5, *input_shape), torch.tensor([0, 1, 2, 3, 0])

    model.train()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()

    assert torch.isfinite(loss)
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), model(x))  # no dropout in eval mode


def test_layers_outside_the_default_space() -> None:
    # Any filter counts, odd kernels and strides: C(8,3,2) maps size 9 to 5.
    layers = [Conv(6, 7), Conv(8, 3, 2), Pool(4, 1), FC(300), FC(500), Softmax(3)]

    model = build_model(layers, (1, 9, 9), 3)

    assert model(torch.randn(2, 1, 9, 9)).shape == (2, 3)
    expected = (1 * 6 * 49 + 6) + (6 * 8 * 9 + 8) + (8 * 2 * 2 * 300 + 300) + (300 * 500 + 500)
    assert _n_params(model) == expected + 500 * 3 + 3


def test_numpy_integers_in_the_shape_and_the_layers() -> None:
    shape = tuple(np.array([1, 9, 9]))  # numpy integers, as a shape read from an array
    layers = [Conv(np.int64(6), np.int64(3)), FC(np.int32(20)), Softmax(np.int64(3))]  # type: ignore[arg-type]

    model = build_model(layers, shape, np.int64(3))  # type: ignore[arg-type]

    assert model(torch.randn(2, 1, 9, 9)).shape == (2, 3)
    plain = build_model([Conv(6, 3), FC(20), Softmax(3)], (1, 9, 9), 3)
    assert _n_params(model) == _n_params(plain)


def test_returns_logits() -> None:
    model = build_model([GAP(3), Softmax(3)], (2, 4, 4), 3)
    with torch.no_grad():
        model[0].weight.fill_(1.0)
        model[0].bias.copy_(torch.tensor([0.0, 1.0, -2.0]))

    logits = model(torch.ones(1, 2, 4, 4))

    assert torch.allclose(logits, torch.tensor([[2.0, 3.0, 0.0]]))


def test_architectures_of_the_papers_space() -> None:
    # The default space is the paper's SVHN space: input (3, 32, 32), 10 classes, filters up to
    # 512 and FC layers up to 512 units. Its architectures in the paper's notation round-trip too.
    space = MetaQNNSpace()
    rng = np.random.default_rng(1)
    seen: set[type] = set()
    for _ in range(300):
        layers = optuna_srm.parse_architecture(
            optuna_srm.format_architecture(_random_architecture(space, rng))
        )
        seen.update(type(layer) for layer in layers)
        with torch.device("meta"):  # shapes only: no memory for the weights
            model = build_model(layers, (3, 32, 32), 10)

        assert _n_params(model) == space.count_params(layers), layers
    assert seen == {Conv, Pool, FC, Dropout, GAP, Softmax}  # the sample covers every layer


@pytest.mark.parametrize(
    ("layers", "input_shape", "num_classes", "match"),
    [
        ([Conv(8, 3), Softmax(10)], (3, 8, 8), 5, r"num_classes must equal .* SM\(10\)"),
        ([Conv(8, 3), GAP(10), Softmax(10)], (3, 8, 8), 5, "num_classes=5"),
        ([Conv(8, 3), Softmax(10)], (3, 8, 8), 0, "num_classes must be an integer >= 1"),
        ([Conv(8, 3), Softmax(10)], (3, 8, 8), 10.0, "num_classes"),
        ([], (3, 8, 8), 10, r"must end with SM\(classes\), but got \[\]"),
        ([Conv(8, 3), GAP(10)], (3, 8, 8), 10, "must end with SM"),
        ([Conv(8, 3)], (3, 8, 8), 10, "must end with SM"),
        ([FC(16), Conv(8, 3), Softmax(10)], (3, 8, 8), 10, r"C\(8,3,1\) \(layer 1 .* after an FC"),
        ([FC(16), Pool(2, 2), Softmax(10)], (3, 8, 8), 10, r"P\(2,2\) .* after an FC"),
        ([FC(16), GAP(10), Softmax(10)], (3, 8, 8), 10, r"GAP\(10\) .* after an FC"),
        ([GAP(10), Conv(8, 3), Softmax(10)], (3, 8, 8), 10, "directly before SM"),
        ([GAP(10), Dropout(1, 1), Softmax(10)], (3, 8, 8), 10, "directly before SM"),
        ([GAP(5), Softmax(10)], (3, 8, 8), 10, r"GAP\(5\) .* directly before SM"),
        ([Softmax(10), Softmax(10)], (3, 8, 8), 10, r"SM\(10\) \(layer 0 .* the last layer"),
        ([Conv(8, 3), Pool(5, 3), Pool(3, 1), Softmax(10)], (3, 8, 8), 10, r"larger .* \(2, 2\)"),
        ([Pool(3, 1), Softmax(10)], (3, 8, 2), 10, r"P\(3,1\) .* larger"),
        ([Conv(8, 2), Softmax(10)], (3, 8, 8), 10, "even kernel"),
        (["C(8,3,1)", Softmax(10)], (3, 8, 8), 10, r"layers\[0\] must be a layer spec"),
        ("[C(8,3,1), SM(10)]", (3, 8, 8), 10, "layers must be a sequence of layer specs"),
        ([Softmax(10)], (3, 8, 8, 8), 10, "input_shape must be"),
        ([Softmax(10)], (8,), 10, "input_shape must be"),
        ([Softmax(10)], (3, 0, 8), 10, "input_shape must be"),
        ([Softmax(10)], (3, 8.0), 10, "input_shape must be"),
    ],
)
def test_bad_arguments(
    layers: Sequence[Layer], input_shape: tuple[int, ...], num_classes: int, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        build_model(layers, input_shape, num_classes)


@pytest.mark.gpu
def test_forward_and_backward_on_gpu() -> None:
    layers = optuna_srm.parse_architecture(
        "[C(64,3,1), P(2,2), C(128,3,1), D(1,2), P(2,2), FC(128), D(2,2), SM(10)]"
    )
    model = build_model(layers, (3, 32, 32), 10).to("cuda")
    x = torch.randn(16, 3, 32, 32, device="cuda")
    y = torch.randint(10, (16,), device="cuda")

    logits = model(x)
    nn.functional.cross_entropy(logits, y).backward()

    assert logits.device.type == "cuda"
    assert logits.shape == (16, 10)
    assert all(p.grad is not None and p.grad.device.type == "cuda" for p in model.parameters())
