"""BATCH_MATMUL (batch_matmul.py): both operands activations (attention's scores), a constant
right operand, adj_x/adj_y, a broadcast batch axis, in float32 (against the interpreter) and
int8 (CMSIS-NN's arm_batch_matmul_s8, bit-exact with it); Keras Dot of two sequences; a
float32 MultiHeadAttention file (FULLY_CONNECTED with keep_num_dims, BATCH_MATMUL, SOFTMAX)."""

from __future__ import annotations


import numpy as np
import pytest

from tests.tflite_files import convert, validate


W = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
CASES = {
    "scores": lambda tf, x: tf.matmul(x, x * 0.5 + 0.1, transpose_b=True),
    "adj_x": lambda tf, x: tf.matmul(x, x - 0.2, transpose_a=True),
    "const_rhs": lambda tf, x: tf.matmul(x, tf.constant(np.broadcast_to(W, (3, 6, 5)))),
    "broadcast": lambda tf, x: tf.matmul(x, x[:, :1] * 0.7, transpose_b=True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_batch_matmul_both_dtypes(tmp_path, case):
    xs = np.random.default_rng(1).standard_normal((6, 3, 4, 6)).astype(np.float32)
    np.save(tmp_path / "x.npy", xs)
    convert(CASES[case], (3, 4, 6), xs, tmp_path / "f.tflite", tmp_path / "q.tflite")
    from armsim.model.frontends.tflite import load

    assert any(op.kind == "batch_matmul" for op in load(tmp_path / "q.tflite").ops)
    for name in ("f.tflite", "q.tflite"):
        code, v = validate(tmp_path / name, tmp_path / "x.npy")
        assert code == 0 and v["passed"] and v["n"] == 6, (name, v)


def test_keras_dot_and_attention_file(tmp_path):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(2)
    L = keras.layers
    a = keras.Input((4, 6))
    b = L.Dense(6)(a)
    dots = [L.Flatten()(L.Dot(axes=ax)([a, b])) for ax in ((2, 2), (1, 1))]
    m = keras.Model(a, L.Dense(3)(L.Concatenate()(dots)))
    m.save(tmp_path / "dot.keras")
    x = keras.Input((4, 8))
    att = keras.Model(x, L.Dense(2)(L.Flatten()(L.MultiHeadAttention(2, 4)(x, x))))
    (tmp_path / "mha.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(att)
                                          .convert())
    rng = np.random.default_rng(3)
    np.save(tmp_path / "a.npy", rng.standard_normal((4, 4, 6)).astype(np.float32))
    np.save(tmp_path / "x.npy", rng.standard_normal((4, 4, 8)).astype(np.float32))
    for model, inputs in (("dot.keras", "a.npy"), ("mha.tflite", "x.npy")):
        code, v = validate(tmp_path / model, tmp_path / inputs)
        assert code == 0 and v["passed"], (model, v)
