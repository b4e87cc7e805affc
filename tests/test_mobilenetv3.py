"""Keras' own MobileNetV3-Small (the zoo's ``mobilenetv3``: hard-swish, squeeze-and-excite
blocks with broadcast multiplies, keras.ops arithmetic for hard-sigmoid) on armsim's
generated firmware: the .keras against Keras, its float32 .tflite against the interpreter,
its int8 .tflite (armsim quantize) bit-exact with the interpreter."""

from __future__ import annotations

import json

import numpy as np

from armsim.cli import main
from armsim.model import zoo


def test_mobilenetv3_small_in_three_forms(tmp_path, capsys):
    import tensorflow as tf

    m = zoo.build("mobilenetv3")
    m.save(tmp_path / "m.keras")
    (tmp_path / "f.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(m).convert())
    np.save(tmp_path / "x.npy", zoo.sample_inputs(m, 3))
    np.save(tmp_path / "cal.npy", np.random.default_rng(4).normal(0, 1, (24, 32, 32, 3))
            .astype(np.float32))
    assert main(["quantize", str(tmp_path / "m.keras"), "--out", str(tmp_path / "q.tflite"),
                 "--inputs", str(tmp_path / "cal.npy")]) == 0
    for name in ("m.keras", "f.tflite", "q.tflite"):
        capsys.readouterr()
        assert main(["validate", "--model", str(tmp_path / name), "--inputs",
                     str(tmp_path / "x.npy"), "--json"]) == 0, name
        v = json.loads(capsys.readouterr().out)
        assert v["passed"] and v["n"] == 3, name
