"""TFLite's HARD_SWISH in both dtypes (MobileNetV3's activation: TFLiteConverter writes it for
x * relu6(x + 3) / 6), int8 from TFLite's own integer algorithm as a table, bit-exact with
the interpreter over inputs of small and large range; ELU and GELU on float32 graphs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from armsim.cli import main


def _convert(tmp_path, amplitude: float, int8: bool):
    import tensorflow as tf

    w = tf.constant(np.random.default_rng(0).standard_normal((3, 3, 3, 8)).astype("float32"))

    class M(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 8, 8, 3], tf.float32)])
        def f(self, x):
            y = tf.nn.conv2d(x, w, 1, "SAME")
            h = y * tf.nn.relu6(y + 3.0) * (1.0 / 6.0)
            if int8:
                return h
            return tf.concat([h, tf.nn.elu(y), tf.nn.gelu(y, approximate=True)],
                             axis=3)

    m = M()
    xs = (np.random.default_rng(1).standard_normal((12, 8, 8, 3)) * amplitude) \
        .astype(np.float32)
    np.save(tmp_path / "x.npy", xs)
    conv = tf.lite.TFLiteConverter.from_concrete_functions([m.f.get_concrete_function()], m)
    if int8:
        def rep():
            for x in xs:
                yield [x[None]]
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = rep
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = conv.inference_output_type = tf.int8
    path = tmp_path / ("q.tflite" if int8 else "f.tflite")
    path.write_bytes(conv.convert())
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
