"""TFLite's HARD_SWISH in both dtypes (MobileNetV3's activation: TFLiteConverter writes it for
x * relu6(x + 3) / 6), int8 from TFLite's own integer algorithm as a table, bit-exact with
the interpreter over inputs of small and large range; ELU and GELU on float32 graphs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from armsim.cli import main
from tests.tflite_files import convert


def _convert(tmp_path, amplitude: float, int8: bool):
    w = np.random.default_rng(0).standard_normal((3, 3, 3, 8)).astype("float32")

    def fn(tf, x):
        y = tf.nn.conv2d(x, tf.constant(w), 1, "SAME")
        h = y * tf.nn.relu6(y + 3.0) * (1.0 / 6.0)
        if int8:
            return h
        return tf.concat([h, tf.nn.elu(y), tf.nn.gelu(y, approximate=True)], axis=3)

    xs = (np.random.default_rng(1).standard_normal((12, 8, 8, 3)) * amplitude) \
        .astype(np.float32)
    np.save(tmp_path / "x.npy", xs)
    path = tmp_path / ("q.tflite" if int8 else "f.tflite")
    convert(fn, (8, 8, 3), xs, None if int8 else path, path if int8 else None)
    return path


@pytest.mark.parametrize("amplitude", [0.3, 2.0, 40.0])
def test_int8_hard_swish_is_bit_exact(tmp_path, capsys, amplitude):
    path = _convert(tmp_path, amplitude, int8=True)
    capsys.readouterr()
    assert main(["validate", "--model", str(path), "--inputs", str(tmp_path / "x.npy"),
                 "--json"]) == 0
    v = json.loads(capsys.readouterr().out)
    assert v["passed"] and v["n"] == 12


def test_float_hard_swish_elu_gelu(tmp_path, capsys):
    path = _convert(tmp_path, 2.0, int8=False)
    capsys.readouterr()
    assert main(["validate", "--model", str(path), "--inputs", str(tmp_path / "x.npy"),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passed"]
