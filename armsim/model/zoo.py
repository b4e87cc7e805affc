"""A small zoo of the architectures TinyML engineers deploy, built with fixed seeds.

Random weights exercise the kernels as well as trained ones, so no training is needed. The
regression gate (``armsim regress``), the tests and the benchmarks use these by name, and
sweeps may name them instead of a file.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np

from armsim.errors import ModelError
from armsim.model.tfimport import import_keras


def _keras() -> Any:
    return import_keras()


def _randomize(model: Any, seed: int) -> Any:
    """Give BatchNormalization layers non-trivial statistics (fresh ones are identity)."""
    rng = np.random.default_rng(seed)
    for ly in model.layers:
        if type(ly).__name__ == "BatchNormalization":
            gamma, beta, mean, var = ly.get_weights()
            ly.set_weights([rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                            rng.normal(0, 0.1, beta.shape).astype(np.float32),
                            rng.normal(0, 0.1, mean.shape).astype(np.float32),
                            rng.uniform(0.5, 1.5, var.shape).astype(np.float32)])
    return model


def _stable_names(model: Any) -> Any:
    """Rename the operations Keras named automatically (``multiply_15``: a counter global to
    the process) to what they would be called in a fresh process, in graph order, so op
    names, and the ``regress`` baselines keyed by them, do not depend on what was built
    before."""
    seen: dict[str, int] = {}
    for op in model.operations:
        auto = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", type(op).__name__)  # Keras' snake case
        auto = re.sub(r"([a-z])([A-Z])", r"\1_\2", auto).lower()
        if re.fullmatch(rf"{re.escape(auto)}(_\d+)?", op.name):
            n = seen.get(auto, 0)
            seen[auto] = n + 1
            op.name = auto if n == 0 else f"{auto}_{n}"
    return model


def lenet5(seed: int = 0) -> Any:
    """LeNet-5: tanh, average pooling, 28x28x1 -> 10."""
    k = _keras()
    k.utils.set_random_seed(seed)
    L = k.layers
    m = k.Sequential([
        k.Input((28, 28, 1), name="image"),
        L.Conv2D(6, 5, padding="same", activation="tanh", name="c1"),
        L.AveragePooling2D(2, name="s2"),
        L.Conv2D(16, 5, activation="tanh", name="c3"),
        L.AveragePooling2D(2, name="s4"),
        L.Flatten(name="flatten"),
        L.Dense(120, activation="tanh", name="f5"),
        L.Dense(84, activation="tanh", name="f6"),
        L.Dense(10, activation="softmax", name="output"),
    ], name="lenet5")
    return m


def dscnn(seed: int = 0, filters: int = 32, blocks: int = 2) -> Any:
    """DS-CNN keyword spotting (MLPerf Tiny shape): 49x10x1, Conv 10x4 stride 2 same, then
    depthwise-separable blocks with BatchNorm and ReLU, average pooling, Dense 12."""
    k = _keras()
    k.utils.set_random_seed(seed)
    L = k.layers
    x = inp = k.Input((49, 10, 1), name="mfcc")
    x = L.Conv2D(filters, (10, 4), strides=2, padding="same", name="conv1")(x)
    x = L.BatchNormalization(name="bn1")(x)
    x = L.Activation("relu", name="relu1")(x)
    x = L.Dropout(0.2, name="drop1")(x)
    for i in range(blocks):
        x = L.DepthwiseConv2D(3, padding="same", name=f"dw{i + 1}")(x)
        x = L.BatchNormalization(name=f"dw{i + 1}_bn")(x)
        x = L.Activation("relu", name=f"dw{i + 1}_relu")(x)
        x = L.Conv2D(filters, 1, name=f"pw{i + 1}")(x)
        x = L.BatchNormalization(name=f"pw{i + 1}_bn")(x)
        x = L.Activation("relu", name=f"pw{i + 1}_relu")(x)
    x = L.Dropout(0.4, name="drop2")(x)
    x = L.AveragePooling2D((25, 5), name="avgpool")(x)
    x = L.Flatten(name="flatten")(x)
    out = L.Dense(12, activation="softmax", name="fc")(x)
    return _randomize(k.Model(inp, out, name="dscnn"), seed)


def _resnet(seed: int, stem: int, stacks: list[tuple[int, int]], name: str) -> Any:
    """32x32x3 -> conv stem -> residual stacks (filters, stride), a 1x1 strided shortcut
    where the stride is not 1 -> average pooling 8 -> Dense(10, softmax)."""
    k = _keras()
    k.utils.set_random_seed(seed)
    L = k.layers
    x = inp = k.Input((32, 32, 3), name="image")
    x = L.Conv2D(stem, 3, padding="same", name="conv0")(x)
    x = L.BatchNormalization(name="bn0")(x)
    x = L.Activation("relu", name="relu0")(x)
    for i, (f, stride) in enumerate(stacks, start=1):
        y = L.Conv2D(f, 3, strides=stride, padding="same", name=f"s{i}_conv1")(x)
        y = L.BatchNormalization(name=f"s{i}_bn1")(y)
        y = L.Activation("relu", name=f"s{i}_relu1")(y)
        y = L.Conv2D(f, 3, padding="same", name=f"s{i}_conv2")(y)
        y = L.BatchNormalization(name=f"s{i}_bn2")(y)
        if stride != 1:
            x = L.Conv2D(f, 1, strides=stride, name=f"s{i}_shortcut")(x)
        x = L.Add(name=f"s{i}_add")([x, y])
        x = L.Activation("relu", name=f"s{i}_relu2")(x)
    x = L.AveragePooling2D(pool_size=8, name="pool")(x)
    x = L.Flatten(name="flatten")(x)
    out = L.Dense(10, activation="softmax", name="fc")(x)
    return _randomize(k.Model(inp, out, name=name), seed)


def resnet(seed: int = 0, filters: int = 8) -> Any:
    """ResNet-8 style: residual stacks with Add, a strided 1x1 shortcut, 32x32x3 -> 10."""
    return _resnet(seed, filters, [(filters, 1), (2 * filters, 2)], "resnet")


def _dw_separable(L: Any, x: Any, ch: int, stride: int, i: int, padding: str) -> Any:
    """MobileNetV1's block: depthwise 3x3, BN, ReLU6, pointwise, BN, ReLU6 (layers dw<i>...)."""
    x = L.DepthwiseConv2D(3, strides=stride, padding=padding, use_bias=False, name=f"dw{i}")(x)
    x = L.BatchNormalization(name=f"dw{i}_bn")(x)
    x = L.ReLU(6.0, name=f"dw{i}_relu")(x)
    x = L.Conv2D(ch, 1, use_bias=False, name=f"pw{i}")(x)
    x = L.BatchNormalization(name=f"pw{i}_bn")(x)
    return L.ReLU(6.0, name=f"pw{i}_relu")(x)


def mobilenet(seed: int = 0, alpha: float = 0.25, size: int = 32) -> Any:
    """MobileNetV1-style block stack with ReLU6, ZeroPadding and strided depthwise."""
    k = _keras()
    k.utils.set_random_seed(seed)
    L = k.layers
    c = max(8, int(32 * alpha))
    x = inp = k.Input((size, size, 3), name="image")
    x = L.ZeroPadding2D(((0, 1), (0, 1)), name="pad0")(x)
    x = L.Conv2D(c, 3, strides=2, use_bias=False, name="conv0")(x)
    x = L.BatchNormalization(name="bn0")(x)
    x = L.ReLU(6.0, name="relu0")(x)
    for i, (ch, stride) in enumerate([(2 * c, 1), (4 * c, 2), (4 * c, 1)]):
        if stride == 2:
            x = L.ZeroPadding2D(((0, 1), (0, 1)), name=f"pad{i + 1}")(x)
        x = _dw_separable(L, x, ch, stride, i + 1, "same" if stride == 1 else "valid")
    x = L.GlobalAveragePooling2D(name="gap")(x)
    x = L.Dropout(0.1, name="dropout")(x)
    out = L.Dense(2, activation="softmax", name="fc")(x)
    return _randomize(k.Model(inp, out, name="mobilenet"), seed)


def mobilenetv3(seed: int = 0, alpha: float = 0.5, size: int = 32) -> Any:
    """Keras' own MobileNetV3-Small (hard-swish, squeeze-and-excite with broadcast multiplies,
    keras.ops arithmetic for hard-sigmoid), untrained, small input, 10 classes."""
    k = _keras()
    k.utils.set_random_seed(seed)
    m = k.applications.MobileNetV3Small(input_shape=(size, size, 3), alpha=alpha,
                                        weights=None, classes=10, dropout_rate=0.0,
                                        include_preprocessing=False)
    m.name = "mobilenetv3"
    return _randomize(_stable_names(m), seed)


def gru_kws(seed: int = 0, frames: int = 49, features: int = 10, units: int = 24) -> Any:
    """A GRU keyword spotter: 49 frames of 10 MFCCs (1 s), one GRU, 12 classes."""
    k = _keras()
    k.utils.set_random_seed(seed)
    inp = k.Input((frames, features), name="mfcc")
    x = k.layers.GRU(units, name="gru")(inp)
    out = k.layers.Dense(12, activation="softmax", name="logits")(x)
    return k.Model(inp, out, name="gru_kws")


def autoencoder(seed: int = 0, n: int = 64, hidden: int = 32, code: int = 8) -> Any:
    """FC autoencoder (MLPerf Tiny anomaly detection shape): Dense + BN + ReLU, linear out."""
    k = _keras()
    k.utils.set_random_seed(seed)
    L = k.layers
    x = inp = k.Input((n,), name="features")
    for i, u in enumerate([hidden, hidden, code, hidden, hidden]):
        x = L.Dense(u, name=f"dense{i + 1}")(x)
        x = L.BatchNormalization(name=f"bn{i + 1}")(x)
        x = L.Activation("relu", name=f"relu{i + 1}")(x)
    out = L.Dense(n, name="reconstruction")(x)
    return _randomize(k.Model(inp, out, name="autoencoder"), seed)


def conv1d(seed: int = 0) -> Any:
    """A Conv1D net over a 64-step, 3-channel signal: pooling 1-D, leaky ReLU, sigmoid."""
    k = _keras()
    k.utils.set_random_seed(seed)
    L = k.layers
    return k.Sequential([
        k.Input((64, 3), name="signal"),
        L.Conv1D(8, 5, padding="same", name="conv1"),
        L.LeakyReLU(0.1, name="leaky1"),
        L.MaxPooling1D(2, name="pool1"),
        L.Conv1D(12, 3, strides=2, activation="relu", name="conv2"),
        L.AveragePooling1D(3, strides=2, padding="same", name="pool2"),
        L.GlobalMaxPooling1D(name="gmp"),
        L.Dense(4, activation="sigmoid", name="out"),
    ], name="conv1d")


def concat(seed: int = 0) -> Any:
    """Two branches joined by Concatenate (inception style), with hard_sigmoid and Rescaling."""
    k = _keras()
    k.utils.set_random_seed(seed)
    L = k.layers
    inp = k.Input((16, 16, 1), name="image")
    x = L.Rescaling(1 / 127.5, offset=-1.0, name="rescale")(inp)
    a = L.Conv2D(4, 1, activation="relu", name="branch_a")(x)
    b = L.Conv2D(6, 3, padding="same", activation="hard_sigmoid", name="branch_b")(x)
    c = L.MaxPooling2D(3, strides=1, padding="same", name="branch_c")(x)
    x = L.Concatenate(name="concat")([a, b, c])
    x = L.BatchNormalization(name="bn")(x)
    x = L.MaxPooling2D(2, name="pool")(x)
    x = L.Flatten(name="flatten")(x)
    out = L.Dense(5, activation="softmax", name="fc")(x)
    return _randomize(k.Model(inp, out, name="concat"), seed)


# -- the MLPerf Tiny reference architectures, at their published sizes (benchmarks) --------
def mlperf_dscnn(seed: int = 0) -> Any:
    """MLPerf Tiny keyword spotting: DS-CNN with 64 filters and 4 separable blocks."""
    return _named(dscnn(seed, filters=64, blocks=4), "mlperf_dscnn")


def mlperf_resnet8(seed: int = 0) -> Any:
    """MLPerf Tiny image classification: ResNet-8 (16/32/64 filters) on 32x32x3."""
    return _resnet(seed, 16, [(16, 1), (32, 2), (64, 2)], "mlperf_resnet8")


def mlperf_mobilenet(seed: int = 0) -> Any:
    """MLPerf Tiny visual wake words: MobileNetV1, alpha 0.25, 96x96x3, 2 classes."""
    k = _keras()
    k.utils.set_random_seed(seed)
    L = k.layers
    x = inp = k.Input((96, 96, 3), name="image")
    x = L.Conv2D(8, 3, strides=2, padding="same", use_bias=False, name="conv0")(x)
    x = L.BatchNormalization(name="bn0")(x)
    x = L.ReLU(6.0, name="relu0")(x)
    blocks = [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2)] + [(128, 1)] * 5 + \
        [(256, 2), (256, 1)]
    for i, (ch, stride) in enumerate(blocks):
        x = _dw_separable(L, x, ch, stride, i + 1, "same")
    x = L.GlobalAveragePooling2D(name="gap")(x)
    out = L.Dense(2, activation="softmax", name="fc")(x)
    return _randomize(k.Model(inp, out, name="mlperf_mobilenet"), seed)


def mlperf_autoencoder(seed: int = 0) -> Any:
    """MLPerf Tiny anomaly detection: the FC autoencoder, 640 -> 128x4 -> 8 -> 128x4 -> 640."""
    k = _keras()
    k.utils.set_random_seed(seed)
    L = k.layers
    x = inp = k.Input((640,), name="features")
    for i, u in enumerate([128, 128, 128, 128, 8, 128, 128, 128, 128]):
        x = L.Dense(u, name=f"dense{i + 1}")(x)
        x = L.BatchNormalization(name=f"bn{i + 1}")(x)
        x = L.Activation("relu", name=f"relu{i + 1}")(x)
    out = L.Dense(640, name="reconstruction")(x)
    return _randomize(k.Model(inp, out, name="mlperf_autoencoder"), seed)


def _named(model: Any, name: str) -> Any:
    model.name = name
    return model


MLPERF: dict[str, Callable[..., Any]] = {
    "mlperf_dscnn": mlperf_dscnn, "mlperf_resnet8": mlperf_resnet8,
    "mlperf_mobilenet": mlperf_mobilenet, "mlperf_autoencoder": mlperf_autoencoder,
}

ZOO: dict[str, Callable[..., Any]] = {
    "lenet5": lenet5, "dscnn": dscnn, "resnet": resnet, "mobilenet": mobilenet,
    "autoencoder": autoencoder, "conv1d": conv1d, "concat": concat,
    "mobilenetv3": mobilenetv3, "gru_kws": gru_kws,
}


def build(name: str, seed: int = 0) -> Any:
    """A zoo (or MLPerf-sized) model by name."""
    builders = {**ZOO, **MLPERF}
    if name not in builders:
        raise ModelError(f"no zoo model '{name}'; known: {', '.join(builders)}")
    return builders[name](seed)


def sample_inputs(model: Any, n: int, seed: int = 0) -> np.ndarray:
    """Reproducible inputs of the model's input shape (pixel-like for Rescaling models)."""
    rng = np.random.default_rng(seed)
    shape = (n,) + tuple(int(d) for d in model.inputs[0].shape[1:])
    if any(type(ly).__name__ == "Rescaling" for ly in model.layers):
        return rng.integers(0, 256, shape).astype(np.float32)
    return rng.normal(0, 1, shape).astype(np.float32)
