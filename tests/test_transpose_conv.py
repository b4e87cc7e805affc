"""TFLite TRANSPOSE_CONV (what Keras Conv2DTranspose converts to: its output shape computed by
shape arithmetic, which the reader folds) in float32 and int8 (armsim's s8 kernel on TFLite's
reference integer arithmetic, per-channel requantization, fused ReLU): SAME and VALID,
square and uneven strides and kernels."""

from __future__ import annotations

import json

import numpy as np

from armsim.cli import main


def test_transpose_conv_float_and_int8(tmp_path, capsys):
    import keras
    import tensorflow as tf

    i = keras.Input((5, 4, 3))
    a = keras.layers.Conv2DTranspose(6, 3, strides=2, padding="same", activation="relu")(i)
    b = keras.layers.Conv2DTranspose(4, (2, 3), strides=(2, 1), padding="valid")(i)
    m = keras.Model(i, keras.layers.Concatenate()([keras.layers.Flatten()(a),
                                                   keras.layers.Flatten()(b)]))
    m.save(tmp_path / "t.keras")
    (tmp_path / "f.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(m).convert())
    np.save(tmp_path / "x.npy",
            np.random.default_rng(0).standard_normal((10, 5, 4, 3)).astype(np.float32))
    assert main(["quantize", str(tmp_path / "t.keras"), "--out", str(tmp_path / "q.tflite"),
                 "--inputs", str(tmp_path / "x.npy")]) == 0
    for name in ("f.tflite", "q.tflite", "t.keras"):
        capsys.readouterr()
        assert main(["validate", "--model", str(tmp_path / name), "--inputs",
                     str(tmp_path / "x.npy"), "--json"]) == 0, name
        v = json.loads(capsys.readouterr().out)
        assert v["passed"] and v["n"] == 10, name
