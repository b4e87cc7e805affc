"""Recurrent layers: Keras SimpleRNN, GRU (both reset_after forms) and LSTM, return_sequences
either way, go_backwards, Bidirectional (concat and sum), unrolled on reading into the ops
armsim runs, against Keras; and their int8 files (armsim quantize converts unrolled clones:
no WHILE loop), whose time-major views (TRANSPOSE to [T, 1, F], UNPACK, REVERSE_V2, PACK
along axis 0) the reader keeps without copying: a GRU and an LSTM bit-exact with the
interpreter's reference kernels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from armsim.cli import main
from armsim.model import zoo
from armsim.model.frontends.keras import to_graph


def _validate(capsys, model, x):
    capsys.readouterr()
    code = main(["validate", "--model", str(model), "--inputs", str(x), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_every_recurrent_form_agrees_with_keras(tmp_path, capsys):
    import keras

    i = keras.Input((12, 5))
    a = keras.layers.GRU(8, return_sequences=True)(i)
    b = keras.layers.LSTM(6)(a)
    c = keras.layers.SimpleRNN(4, go_backwards=True)(i)
    d = keras.layers.Bidirectional(keras.layers.GRU(3, reset_after=False,
                                                    return_sequences=True))(i)
    e = keras.layers.Bidirectional(keras.layers.LSTM(3), merge_mode="sum")(i)
    f = keras.layers.SimpleRNN(3, return_sequences=True, go_backwards=True)(i)
    o = keras.layers.Concatenate()([b, c, keras.layers.Flatten()(d), e,
                                    keras.layers.Flatten()(f)])
    m = keras.Model(i, keras.layers.Dense(4, activation="softmax")(o))
    m.save(tmp_path / "r.keras")
    np.save(tmp_path / "x.npy", np.random.default_rng(0).standard_normal((5, 12, 5))
            .astype(np.float32))
    code, v = _validate(capsys, tmp_path / "r.keras", tmp_path / "x.npy")
    assert code == 0 and v["passed"] and v["n"] == 5


def test_unrolled_graph_has_no_recurrent_op_and_names_the_layer(tmp_path):
    m = zoo.build("gru_kws")
    g = to_graph(m, "gru_kws")
    kinds = {o.kind for o in g.ops}
    assert "recurrent" not in kinds and {"fully_connected", "slice", "add", "mul"} <= kinds
    assert any(li.name == "gru" and len(li.ops) > 49 for li in g.layers)


@pytest.mark.parametrize("layer", ["GRU", "LSTM"])
def test_int8_recurrent_is_bit_exact(tmp_path, capsys, layer):
    import keras

    i = keras.Input((10, 4))
    x = getattr(keras.layers, layer)(6, return_sequences=True)(i)
    x = getattr(keras.layers, layer)(5)(x)
    m = keras.Model(i, keras.layers.Dense(3)(x))
    m.save(tmp_path / "m.keras")
    rng = np.random.default_rng(1)
    np.save(tmp_path / "cal.npy", rng.standard_normal((40, 10, 4)).astype(np.float32))
    np.save(tmp_path / "x.npy", rng.standard_normal((8, 10, 4)).astype(np.float32))
    assert main(["quantize", str(tmp_path / "m.keras"), "--out", str(tmp_path / "m.tflite"),
                 "--inputs", str(tmp_path / "cal.npy")]) == 0
    code, v = _validate(capsys, tmp_path / "m.tflite", tmp_path / "x.npy")
    assert code == 0 and v["passed"] and v["bit_exact_inputs"] == 8, v


def test_int8_bidirectional_within_one_step_and_said_so(tmp_path, capsys):
    """The interpreter's reference kernels lack this REVERSE_V2 version: its builtin kernels
    are the host, whose dense layers may round one step otherwise; the output says so."""
    import keras

    i = keras.Input((8, 3))
    x = keras.layers.Bidirectional(keras.layers.GRU(4))(i)
    m = keras.Model(i, keras.layers.Dense(2)(x))
    m.save(tmp_path / "b.keras")
    rng = np.random.default_rng(2)
    np.save(tmp_path / "cal.npy", rng.standard_normal((40, 8, 3)).astype(np.float32))
    np.save(tmp_path / "x.npy", rng.standard_normal((6, 8, 3)).astype(np.float32))
    assert main(["quantize", str(tmp_path / "b.keras"), "--out", str(tmp_path / "b.tflite"),
                 "--inputs", str(tmp_path / "cal.npy")]) == 0
    code, v = _validate(capsys, tmp_path / "b.tflite", tmp_path / "x.npy")
    assert code == 0 and v["passed"] and v["max_abs_diff_q"] <= 1
    if "builtin kernels" in v["host_source"]:
        assert "allows one step" in v["note"]
    else:
        assert v["bit_exact_inputs"] == 6


def test_fused_lstm_tflite_float32_and_int8(tmp_path, capsys):
    """A Keras 2 (tf_keras) LSTM converts to UNIDIRECTIONAL_SEQUENCE_LSTM, as published
    LSTM files are (cell clip 10, state in variable tensors): the float32 file runs unrolled
    like a Keras LSTM, stacked, backwards and bidirectional, every input from the zero
    state (the host resets the variables); its int8 file runs on CMSIS-NN's
    arm_lstm_unidirectional_s8, bit-exact with TFLM's kernels."""
    k2 = pytest.importorskip("tf_keras")
    import tensorflow as tf

    from armsim.model.frontends.tflite import load

    k2.utils.set_random_seed(3)
    i = k2.Input((7, 3), batch_size=1)
    a = k2.layers.LSTM(6, return_sequences=True)(i)
    b = k2.layers.LSTM(4)(a)
    c = k2.layers.LSTM(3, go_backwards=True)(i)
    d = k2.layers.Bidirectional(k2.layers.LSTM(2))(i)
    m = k2.Model(i, k2.layers.Dense(3)(k2.layers.Concatenate()([b, c, d])))
    m.set_weights([np.random.default_rng(4).normal(0, 0.6, w.shape).astype(np.float32)
                   for w in m.get_weights()])
    path = tmp_path / "lstm.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(m).convert())
    g = load(path)
    assert any(op.layer == "UNIDIRECTIONAL_SEQUENCE_LSTM" and op.kind == "pack"
               for op in g.ops)
    xs = np.random.default_rng(5).uniform(-2, 2, (5, 7, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", xs)
    code, v = _validate(capsys, path, tmp_path / "x.npy")
    assert code == 0 and v["passed"] and v["n"] == 5, v  # 5 inputs: no state carried over

    def rep():
        for x in xs:
            yield [x[None]]

    conv = tf.lite.TFLiteConverter.from_keras_model(m)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    (tmp_path / "q.tflite").write_bytes(conv.convert())
    q = load(tmp_path / "q.tflite")
    assert sum(op.kind == "lstm" for op in q.ops) == 5
    code, v = _validate(capsys, tmp_path / "q.tflite", tmp_path / "x.npy")
    assert code == 0 and v["passed"] and v["n"] == 5, v
