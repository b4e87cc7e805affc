"""The seed's Keras model: build, train, load safely, and its weights as plain arrays."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import layout as L
from .errors import ModelError

#: Keras releases before this have known safe_mode bypasses.
MIN_KERAS = (3, 13)


@dataclass(frozen=True)
class SeedWeights:
    """The four weight tensors of the seed network, in Keras shapes."""

    conv_kernel: np.ndarray  # (5, 5, 1, F)
    conv_bias: np.ndarray  # (F,)
    dense_kernel: np.ndarray  # (12*12*F, 10)
    dense_bias: np.ndarray  # (10,)

    @property
    def filters(self) -> int:
        """Number of conv filters F."""
        return int(self.conv_kernel.shape[-1])

    def tensors(self) -> dict[str, np.ndarray]:
        """By layout buffer name."""
        return {"conv_weights": self.conv_kernel, "conv_bias": self.conv_bias,
                "dense_weights": self.dense_kernel, "dense_bias": self.dense_bias}

    @classmethod
    def from_memory(cls, layout: L.Layout, memory: dict[str, np.ndarray]) -> "SeedWeights":
        """From layout buffers in memory order (any "input" buffer is ignored)."""
        return cls.from_tensors({k: layout[k].unpack(v) for k, v in memory.items()
                                 if k != "input"})

    @classmethod
    def from_tensors(cls, t: dict[str, np.ndarray]) -> "SeedWeights":
        """From a mapping by layout buffer name."""
        return cls(np.asarray(t["conv_weights"], np.float32), np.asarray(t["conv_bias"], np.float32),
                   np.asarray(t["dense_weights"], np.float32),
                   np.asarray(t["dense_bias"], np.float32))


def build(filters: int = L.MAX_FILTERS) -> Any:
    """The seed architecture: Conv2D(F, 5, relu) -> MaxPool(2, same) -> Flatten -> Dense(10)."""
    from ._tf import import_keras

    keras = import_keras()
    inp = keras.Input(shape=(L.IMAGE, L.IMAGE, 1), name="image")
    x = keras.layers.Conv2D(filters, kernel_size=L.KERNEL, strides=1, padding="valid",
                            activation="relu", name="conv")(inp)
    x = keras.layers.MaxPooling2D(pool_size=L.POOL, strides=L.POOL, padding="same",
                                  name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    out = keras.layers.Dense(L.CLASSES, activation="softmax", name="dense")(x)
    return keras.Model(inputs=inp, outputs=out, name=f"seed_cnn_f{filters}")


def from_weights(w: SeedWeights) -> Any:
    """A seed-architecture Keras model holding these weights."""
    m = build(w.filters)
    m.get_layer("conv").set_weights([w.conv_kernel, w.conv_bias])
    m.get_layer("dense").set_weights([w.dense_kernel, w.dense_bias])
    return m


def weights_of(model: Any) -> SeedWeights:
    """Extract the weights of a model already checked by :func:`check_architecture`."""
    convs = [ly for ly in model.layers if type(ly).__name__ == "Conv2D"]
    denses = [ly for ly in model.layers if type(ly).__name__ == "Dense"]
    k1, b1 = convs[0].get_weights()
    k2, b2 = denses[0].get_weights()
    return SeedWeights(k1.astype(np.float32), b1.astype(np.float32), k2.astype(np.float32),
                       b2.astype(np.float32))


def _keras_version(keras: Any) -> tuple[int, int]:
    parts = keras.__version__.split(".")
    return int(parts[0]), int(parts[1])


def load(path: str | os.PathLike[str], trust: bool = False) -> Any:
    """Load a ``.keras`` model with safe_mode on and check it is the seed architecture.

    Legacy ``.h5`` files and models with Lambda layers can run code when loaded; they are
    refused unless ``trust`` is set (the CLI's --trust-model).
    """
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"model file {p} not found")
    legacy = p.suffix in (".h5", ".hdf5")
    if not (legacy and trust) and (p.suffix != ".keras" or not zipfile.is_zipfile(p)):
        raise ModelError(f"{p}: not a Keras v3 '.keras' archive (legacy .h5/SavedModel files "
                         "can carry code and are refused; pass --trust-model to load an .h5 "
                         "file you trust)")
    from ._tf import import_keras

    keras = import_keras()
    if _keras_version(keras) < MIN_KERAS:
        raise ModelError(f"Keras {keras.__version__} has known safe_mode bypasses; "
                         f"armsim needs {MIN_KERAS[0]}.{MIN_KERAS[1]} or newer")
    try:
        model = keras.models.load_model(p, compile=False, safe_mode=not trust)
    except Exception as e:  # Keras raises many types for a bad archive
        text = str(e).splitlines()[0] if str(e) else ""
        if "safe_mode" in str(e) or "Lambda" in str(e):
            raise ModelError(f"{p}: refused: the model contains a Lambda layer or other code "
                             "that only loads with safe_mode off; pass --trust-model if you "
                             "trust this file") from None
        raise ModelError(f"{p}: cannot load Keras model: {type(e).__name__}: {text}") from None
    check_architecture(model, str(p))
    return model


def check_architecture(model: Any, where: str = "model") -> int:
    """Raise ModelError naming the first layer that is not the seed's; return F."""
    layers = [ly for ly in model.layers if type(ly).__name__ != "InputLayer"]
    expect = ["Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    for i, want in enumerate(expect):
        if i >= len(layers):
            raise ModelError(f"{where}: has {len(layers)} layers; the seed architecture needs "
                             f"{want} as layer {i + 1}")
        ly = layers[i]
        if type(ly).__name__ != want:
            raise ModelError(f"{where}: layer {i + 1} '{ly.name}' is {type(ly).__name__}; "
                             f"the seed architecture has {want} there")
    if len(layers) > len(expect):
        ly = layers[len(expect)]
        raise ModelError(f"{where}: extra layer '{ly.name}' ({type(ly).__name__}) after Dense; "
                         "the seed architecture ends with Dense(10, softmax)")
    conv, pool, _flat, dense = layers
    cc, pc, dc = conv.get_config(), pool.get_config(), dense.get_config()
    in_shape = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else None
    checks = [
        (in_shape == (L.IMAGE, L.IMAGE, 1), "model input", f"shape {in_shape}",
         "(28, 28, 1)"),
        (tuple(cc["kernel_size"]) == (L.KERNEL, L.KERNEL), conv.name,
         f"kernel_size {cc['kernel_size']}", "5x5"),
        (tuple(cc["strides"]) == (1, 1), conv.name, f"strides {cc['strides']}", "1"),
        (cc["padding"] == "valid", conv.name, f"padding {cc['padding']!r}", "'valid'"),
        (cc["activation"] == "relu", conv.name, f"activation {cc['activation']!r}", "'relu'"),
        (cc.get("data_format", "channels_last") == "channels_last", conv.name,
         f"data_format {cc.get('data_format')!r}", "'channels_last'"),
        (1 <= cc["filters"] <= L.MAX_FILTERS, conv.name, f"{cc['filters']} filters",
         f"1 to {L.MAX_FILTERS} (the seed layout's room)"),
        (tuple(pc["pool_size"]) == (2, 2) and tuple(pc["strides"]) == (2, 2), pool.name,
         f"pool_size {pc['pool_size']} strides {pc['strides']}", "2x2, stride 2"),
        (pc["padding"] == "same", pool.name, f"padding {pc['padding']!r}", "'same'"),
        (dc["units"] == L.CLASSES, dense.name, f"{dc['units']} units", "10"),
        (dc["activation"] == "softmax", dense.name, f"activation {dc['activation']!r}",
         "'softmax'"),
        (bool(cc.get("use_bias", True)) and bool(dc.get("use_bias", True)), dense.name,
         "no bias", "biases on Conv2D and Dense"),
    ]
    for ok, name, found, want in checks:
        if not ok:
            raise ModelError(f"{where}: layer '{name}' has {found}; the seed architecture "
                             f"needs {want}")
    return int(cc["filters"])


def predict(model: Any, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Softmax outputs (N, 10) float32 for scaled images (N, 28, 28, 1)."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[np.newaxis]
    out = [np.asarray(model(x[i:i + batch_size], training=False))
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out).astype(np.float32)


def reference(w: SeedWeights, image: np.ndarray) -> np.ndarray:
    """A plain numpy float32 implementation of the seed network, for cross-checks."""
    x = np.asarray(image, dtype=np.float32).reshape(L.IMAGE, L.IMAGE)
    k = w.conv_kernel[:, :, 0, :]  # (5, 5, F)
    conv = np.zeros((L.CONV_OUT, L.CONV_OUT, w.filters), np.float32)
    for i in range(L.KERNEL):
        for j in range(L.KERNEL):
            conv += x[i:i + L.CONV_OUT, j:j + L.CONV_OUT, None] * k[i, j]
    conv = np.maximum(conv + w.conv_bias, 0)
    pooled = conv.reshape(L.POOLED, 2, L.POOLED, 2, w.filters).max(axis=(1, 3))
    logits = pooled.reshape(-1) @ w.dense_kernel + w.dense_bias
    e = np.exp(logits - logits.max())
    return (e / e.sum()).astype(np.float32)
