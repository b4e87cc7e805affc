"""Element-wise ops with NumPy broadcasting (a squeeze-and-excite block's (1, 1, C) scale
times an (H, W, C) map; a per-channel offset subtracted), TFLite SUB, and the dynamic-batch
shape arithmetic TFLiteConverter writes around a Dense on a 4-D tensor: float32 against
Keras and the interpreter, int8 bit-exact with the interpreter."""

from __future__ import annotations

import json

import numpy as np
import pytest

from armsim.cli import main
from armsim.model import reference
from armsim.model.frontends.load import load_model


@pytest.fixture(scope="module")
def se(tmp_path_factory):
    import keras
    import tensorflow as tf

    d = tmp_path_factory.mktemp("broadcast")
    i = keras.Input((6, 6, 8))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(i)
    s = keras.layers.GlobalAveragePooling2D(keepdims=True)(x)
    s = keras.layers.Dense(4, activation="relu")(s)
    s = keras.layers.Dense(8, activation="sigmoid")(s)
    y = keras.layers.Multiply()([x, s])            # (6, 6, 8) x (1, 1, 8)
    y = keras.layers.Subtract()([y, s])            # and the other way round
    y = keras.layers.Add()([s, y])
    o = keras.layers.GlobalAveragePooling2D()(y)
    m = keras.Model(i, keras.layers.Dense(3, activation="softmax")(o))
    m.save(d / "se.keras")
    (d / "se_f.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(m).convert())
    x = np.random.default_rng(0).standard_normal((8, 6, 6, 8)).astype(np.float32)
    np.save(d / "x.npy", x)
    assert main(["quantize", str(d / "se.keras"), "--out", str(d / "se_q.tflite"),
                 "--inputs", str(d / "x.npy")]) == 0
    return d


def _rows(capsys, *args):
    capsys.readouterr()
    code = main([*args, "--json"])
    out = json.loads(capsys.readouterr().out)
    return code, out if isinstance(out, list) else [out]


@pytest.mark.parametrize("model", ["se.keras", "se_f.tflite", "se_q.tflite"])
def test_squeeze_and_excite_broadcasts(se, capsys, model):
    code, rows = _rows(capsys, "simulate", "--model", str(se / model), "--inputs",
                       str(se / "x.npy"))
    assert code == 0 and len(rows) == 8 and all(r["agree"] for r in rows), model


def test_the_graph_spells_the_operands_out(se):
    g, _ = load_model(str(se / "se.keras"))
    casts = [o for o in g.ops if o.kind == "broadcast"]
    assert casts and all(g.tensors[o.outputs[0]].shape == (6, 6, 8) for o in casts)
    x = np.random.default_rng(1).standard_normal((6, 6, 8)).astype(np.float32)
    v = reference.evaluate(g, x)
    for o in casts:
        assert np.array_equal(v[o.outputs[0]], np.broadcast_to(v[o.inputs[0]], (6, 6, 8)))


def test_int8_sub_of_two_inputs_of_other_scales_is_bit_exact(tmp_path, capsys):
    """TFLite's SUB on CMSIS-NN's add with the second multiplier negated, every input."""
    import keras

    a, b = keras.Input((16,), name="a"), keras.Input((1,), name="b")
    m = keras.Model([a, b], keras.layers.Subtract()([a, b]))
    m.save(tmp_path / "sub.keras")
    rng = np.random.default_rng(2)
    np.savez(tmp_path / "x.npz", a=rng.uniform(-3, 5, (40, 16)).astype(np.float32),
             b=rng.uniform(-0.5, 0.2, (40, 1)).astype(np.float32))
    assert main(["quantize", str(tmp_path / "sub.keras"), "--out",
                 str(tmp_path / "sub.tflite"), "--inputs", str(tmp_path / "x.npz")]) == 0
    code, v = _rows(capsys, "validate", "--model", str(tmp_path / "sub.tflite"), "--inputs",
                    str(tmp_path / "x.npz"))
    assert code == 0 and v[0]["passed"] and v[0]["n"] == 40


def test_operands_that_do_not_broadcast_are_refused(tmp_path, capsys):
    from armsim.errors import ModelError
    from armsim.ops._copy import broadcast_shape

    assert broadcast_shape([(6, 6, 8), (1, 1, 8), (8,)], "x") == (6, 6, 8)
    with pytest.raises(ModelError, match="do not broadcast"):
        broadcast_shape([(6, 6, 8), (1, 1, 3)], "layer y")


def test_int8_maximum_minimum_sub_broadcast_bit_exact(tmp_path, capsys):
    """TFLite MAXIMUM/MINIMUM on CMSIS-NN's arm_maximum_s8/arm_minimum_s8 and SUB, each with a
    (1, 4) operand broadcast over (5, 4); float against Keras, int8 against the interpreter."""
    import keras

    a, b = keras.Input((5, 4), name="a"), keras.Input((1, 4), name="b")
    x, y = keras.layers.Maximum()([a, b]), keras.layers.Minimum()([a, b])
    z = keras.layers.Subtract()([x, y])
    m = keras.Model([a, b], keras.layers.Flatten()(keras.layers.Concatenate()([x, y, z])))
    m.save(tmp_path / "mm.keras")
    rng = np.random.default_rng(3)
    np.savez(tmp_path / "x.npz", a=rng.standard_normal((30, 5, 4)).astype(np.float32),
             b=rng.standard_normal((30, 1, 4)).astype(np.float32))
    assert main(["quantize", str(tmp_path / "mm.keras"), "--out", str(tmp_path / "mm.tflite"),
                 "--inputs", str(tmp_path / "x.npz")]) == 0
    for model in ("mm.keras", "mm.tflite"):
        code, v = _rows(capsys, "validate", "--model", str(tmp_path / model), "--inputs",
                        str(tmp_path / "x.npz"))
        assert code == 0 and v[0]["passed"] and v[0]["n"] == 30, model
