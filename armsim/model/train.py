"""Train the seed model as the notebook does, and evaluate it on the test split."""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from armsim import __version__
from armsim.model import metrics, mnist
from armsim.model.tfimport import import_keras

#: The seed notebook's network geometry.
IMAGE, KERNEL, CLASSES = 28, 5, 10


def seed_model(filters: int = 8) -> Any:
    """The seed architecture: Conv2D(F, 5, relu) -> MaxPool(2, same) -> Flatten -> Dense(10)."""
    keras = import_keras()
    inp = keras.Input(shape=(IMAGE, IMAGE, 1), name="image")
    x = keras.layers.Conv2D(filters, kernel_size=KERNEL, strides=1, padding="valid",
                            activation="relu", name="conv")(inp)
    x = keras.layers.MaxPooling2D(pool_size=2, strides=2, padding="same", name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    out = keras.layers.Dense(CLASSES, activation="softmax", name="dense")(x)
    return keras.Model(inputs=inp, outputs=out, name=f"seed_cnn_f{filters}")


def seed_model_from(tensors: dict[str, np.ndarray]) -> Any:
    """A seed-architecture Keras model holding weights given by seed buffer name
    (``conv_weights``, ``conv_bias``, ``dense_weights``, ``dense_bias``; Keras shapes)."""
    f = int(np.asarray(tensors["conv_weights"]).shape[-1])
    m = seed_model(f)
    m.get_layer("conv").set_weights([tensors["conv_weights"], tensors["conv_bias"]])
    m.get_layer("dense").set_weights([tensors["dense_weights"], tensors["dense_bias"]])
    return m


@dataclass(frozen=True)
class TrainResult:
    """A trained model and its test-set metrics."""

    model: Any
    accuracy: float
    confusion: np.ndarray
    report: str
    predictions: np.ndarray


def train(data: str | None, filters: int, epochs: int, seed: int, batch_size: int = 32,
          limit: int | None = None, verbose: int = 1) -> TrainResult:
    """SGD (Keras defaults), categorical cross-entropy, as in the seed notebook."""
    keras = import_keras()
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    tr = mnist.load("train", data)
    te = mnist.load("test", data)
    x, y = tr.images, tr.labels
    if limit:
        x, y = x[:limit], y[:limit]
    model = seed_model(filters)
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.SGD(),
                  metrics=["accuracy"])
    model.fit(mnist.scale(x), keras.utils.to_categorical(y, 10), epochs=epochs,
              batch_size=batch_size, shuffle=True, verbose=verbose)
    pred = np.argmax(np.asarray(model.predict(mnist.scale(te.images), batch_size=256,
                                              verbose=0)), axis=1)
    acc = float(np.mean(pred == te.labels))
    return TrainResult(model, acc, metrics.confusion_matrix(te.labels, pred),
                       metrics.report(te.labels, pred), pred)


def save(result: TrainResult, out: Path, command: str, seed: int, epochs: int) -> Path:
    """Save the model and a JSON sidecar saying how it was made."""
    keras = import_keras()
    import tensorflow as tf

    out.parent.mkdir(parents=True, exist_ok=True)
    result.model.save(out)
    meta = {
        "command": command, "seed": seed, "epochs": epochs,
        "filters": int(result.model.get_layer("conv").filters),
        "test_accuracy": result.accuracy,
        "versions": {"armsim": __version__, "keras": keras.__version__,
                     "tensorflow": tf.__version__, "python": platform.python_version()},
    }
    side = out.with_suffix(".json")
    side.write_text(json.dumps(meta, indent=2) + "\n")
    return side
