"""The shape ops on the copy kernel (kernels/common/armsim_gather.c): SLICE, STRIDED_SLICE
(steps, reversal, shrunk axes), SPLIT/SPLIT_V/UNPACK, TRANSPOSE, TILE, GATHER (evenly and
unevenly spaced constant indices), PACK, float32 against the interpreter and int8 bit-exact
with it, and each kind's numpy reference against NumPy's own operation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from armsim.cli import main
from armsim.model import reference
from armsim.model.frontends.load import load_model
from tests.tflite_files import convert


def _shape_ops(tf, x):
    s0, s1 = tf.split(x, [2, 4], axis=3)            # SPLIT_V, every output used
    u0, u1, u2 = tf.unstack(x, axis=2)              # UNPACK
    parts = [
        x[:, 1:4:2, ::-1, :3],                      # STRIDED_SLICE, reversed
        x[:, 3, :, 1],                              # shrunk axes
        tf.slice(x, [0, 1, 1, 0], [1, 2, -1, 4]),   # SLICE
        s1 * 2.0, s0, u1, u0 + u2,
        tf.transpose(x, [0, 3, 1, 2]),              # TRANSPOSE
        tf.tile(x, [1, 2, 1, 3]),                   # TILE
        tf.gather(x, [2, 0, 5, 1, 3, 4], axis=3),   # GATHER, a channel shuffle
        tf.gather(x, [3, 1], axis=1),               # GATHER, evenly spaced
        tf.stack([x[:, 0], x[:, 3]], axis=2),       # PACK
    ]
    return tf.concat([tf.reshape(p, [1, -1]) for p in parts], axis=1)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("shape_ops")
    xs = np.random.default_rng(0).standard_normal((6, 4, 3, 6)).astype(np.float32)
    np.save(d / "x.npy", xs)
    convert(_shape_ops, (4, 3, 6), xs, d / "f.tflite", d / "q.tflite")
    return d


@pytest.mark.parametrize("name", ["f.tflite", "q.tflite"])
def test_shape_ops_agree(files, capsys, name):
    capsys.readouterr()
    code = main(["simulate", "--model", str(files / name), "--inputs", str(files / "x.npy"),
                 "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert code == 0 and len(rows) == 6 and all(r["agree"] for r in rows), name


def test_every_shape_op_kind_is_in_the_graph_and_its_reference_is_numpys(files):
    g, _ = load_model(str(files / "f.tflite"))
    kinds = {o.kind for o in g.ops}
    assert {"slice", "transpose", "tile", "gather", "pack"} <= kinds
    x = np.random.default_rng(1).standard_normal((4, 3, 6)).astype(np.float32)
    v = reference.evaluate(g, x)
    for o in g.ops:
        a = v[o.inputs[0]].reshape(g.tensors[o.inputs[0]].shape)
        got = v[o.outputs[0]]
        if o.kind == "transpose":
            assert np.array_equal(got, np.transpose(a, o.attrs["perm"]))
        elif o.kind == "tile":
            assert np.array_equal(got, np.tile(a, o.attrs["reps"]))
        elif o.kind == "gather":
            assert np.array_equal(got, np.take(a, o.attrs["indices"], o.attrs["axis"]))
    # and the whole graph computes what the interpreter does
    from armsim.model import keras_host
    want = keras_host.predict(files / "f.tflite", x[None])[0]
    got = reference.outputs(g, x).reshape(-1)
    assert np.allclose(got, want, atol=1e-6)


def test_dense_on_a_sequence_and_layer_norm_from_tflite(tmp_path, capsys):
    """Dense on a (T, F) input converts to RESHAPE [batch * T, F], FULLY_CONNECTED, RESHAPE
    back: the reader keeps the rows (batch 1) in float32 and int8; LayerNormalization's
    MEAN/SQUARED_DIFFERENCE/RSQRT runs in float32."""
    import json

    import keras
    import tensorflow as tf

    from armsim.model.quantize import quantize

    keras.utils.set_random_seed(5)
    L = keras.layers
    dense = keras.Sequential([keras.Input((5, 8)), L.Dense(4, activation="relu"),
                              L.Flatten(), L.Dense(3)])
    i = keras.Input((5, 8))
    norm = keras.Model(i, L.Dense(2)(L.Flatten()(L.LayerNormalization()(L.Dense(8)(i)))))
    xs = np.random.default_rng(6).standard_normal((4, 5, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", xs)
    (tmp_path / "d.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(dense)
                                        .convert())
    (tmp_path / "dq.tflite").write_bytes(quantize(dense, xs))
    (tmp_path / "n.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(norm)
                                        .convert())
    for name in ("d.tflite", "dq.tflite", "n.tflite"):
        capsys.readouterr()
        assert main(["simulate", "--model", str(tmp_path / name), "--inputs",
                     str(tmp_path / "x.npy"), "--json"]) == 0, name
        rows = json.loads(capsys.readouterr().out)
        assert len(rows) == 4 and all(r["agree"] for r in rows), (name, rows)
