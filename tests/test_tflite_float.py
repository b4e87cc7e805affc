"""float32 ``.tflite`` files (TFLiteConverter's default output) on armsim's generated firmware:
the same graph as the Keras frontend's, float kernels, the TFLite interpreter as the host."""

from __future__ import annotations

import json

import numpy as np
import pytest

from armsim.cli import main
from armsim.model import keras_host, zoo
from armsim.model.frontends import tflite as T
from armsim.plan import make_plan
from armsim.session.session import Session


def float_tflite(model, path):
    import tensorflow as tf

    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return path


@pytest.mark.parametrize("name", ["lenet5", "dscnn", "mobilenet", "conv1d", "concat",
                                  "autoencoder"])
def test_zoo_float_tflite_agrees_with_the_interpreter(name, tmp_path):
    """Every zoo model's float32 file runs (MEAN, REDUCE_MAX and MUL included) and agrees
    with the TFLite interpreter within the float rule."""
    m = zoo.build(name)
    path = float_tflite(m, tmp_path / f"{name}.tflite")
    g = T.load(path)
    assert not g.quantized and all(t.quant is None for t in g.tensors.values())
    s = Session(g, make_plan(g), "m4f", "large")
    xs = zoo.sample_inputs(m, 2)
    host = keras_host.predict(path, xs)
    for x, h in zip(xs, host):
        out = s.run(x).outputs
        assert np.all(np.abs(out - h) <= 1e-5 + 1e-5 * np.abs(h)), (name, out, h)
    # and the Keras model agrees with the file (the converter changed nothing that matters)
    assert np.allclose(keras_host.predict(m, xs), host, atol=1e-5)


def test_float16_weights_are_read_as_float32_constants(tmp_path):
    """TFLiteConverter's float16 quantization (float16 weights, a DEQUANTIZE of each to
    float32 before the ops), a common published form: the weights are read as the float32
    values the DEQUANTIZEs give, the operators go, and the file agrees with the interpreter."""
    import tensorflow as tf

    m = zoo.build("dscnn")
    conv = tf.lite.TFLiteConverter.from_keras_model(m)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.target_spec.supported_types = [tf.float16]
    path = tmp_path / "f16.tflite"
    path.write_bytes(conv.convert())
    g = T.load(path)
    assert all(o.layer != "DEQUANTIZE" for o in g.ops)
    assert all(t.data.dtype == np.float32 for t in g.tensors.values() if t.data is not None)
    s = Session(g, make_plan(g), "m4f", "large")
    xs = zoo.sample_inputs(m, 2)
    host = keras_host.predict(path, xs)
    for x, h in zip(xs, host):
        out = s.run(x).outputs
        assert np.all(np.abs(out - h) <= 1e-5 + 1e-5 * np.abs(h)), (out, h)


def test_float_tflite_through_the_commands(tmp_path, capsys, mnist_dir):
    from armsim.model.inputs import DEFAULT_MODEL, data_file
    from armsim.model.tfimport import import_keras

    keras = import_keras()
    path = float_tflite(keras.models.load_model(data_file(DEFAULT_MODEL)), tmp_path / "s.tflite")
    capsys.readouterr()
    assert main(["simulate", "--model", str(path), "--image", "0", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["agree"] and "TFLite interpreter" in row["host_source"]
    assert row["predicted"] == row["host"]["predicted"] == 7
    assert main(["validate", "--model", str(path), "--n", "20", "--quiet", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["passed"] and res["agreement"] == 1.0 and "dtype" not in res
    assert main(["profile", "--model", str(path), "--json"]) == 0
    prof = json.loads(capsys.readouterr().out)
    assert prof["agree"] and prof["footprint"]["weights_in"] == "flash"


@pytest.mark.parametrize("layer", ["Multiply", "Subtract", "Maximum", "Minimum", "Average"])
def test_keras_merge_layers_run_and_agree(layer):
    """The element-wise merge layers (a gate's product, a difference, max/min/mean of three
    branches) on their float kernels, against Keras."""
    from armsim.model.frontends.keras import to_graph
    from armsim.model.tfimport import import_keras

    keras = import_keras()
    x = keras.Input((6, 6, 3))
    a = keras.layers.Conv2D(4, 3, activation="relu")(x)
    b = keras.layers.Conv2D(4, 3, activation="sigmoid")(x)
    c = keras.layers.Conv2D(4, 3)(x)
    ins = [a, b] if layer in ("Multiply", "Subtract") else [a, b, c]
    merged = getattr(keras.layers, layer)()(ins)
    m = keras.Model(x, keras.layers.Dense(5)(keras.layers.Flatten()(merged)))
    g = to_graph(m, "merge")
    kind = {"Multiply": "mul", "Subtract": "sub"}.get(layer, layer.lower())
    assert [op.kind for op in g.ops].count(kind) == 1
    s = Session(g, make_plan(g), "m4f", "large")
    xs = np.random.default_rng(0).normal(size=(3, 6, 6, 3)).astype(np.float32)
    for x1, h in zip(xs, keras_host.predict(m, xs)):
        out = s.run(x1).outputs
        assert np.all(np.abs(out - h) <= 1e-5 + 1e-5 * np.abs(h)), layer


@pytest.mark.parametrize("case", ["upsample", "crop", "both_1d"])
def test_upsampling_and_cropping_agree(case):
    """UpSampling1D/2D (nearest) and Cropping1D/2D, as a U-Net's decoder uses them."""
    from armsim.model.frontends.keras import to_graph
    from armsim.model.tfimport import import_keras

    keras = import_keras()
    L = keras.layers
    if case == "both_1d":
        x = keras.Input((10, 3))
        y = L.Conv1D(2, 3)(L.Cropping1D((1, 2))(L.UpSampling1D(2)(x)))
        shape = (10, 3)
    else:
        x = keras.Input((8, 8, 2))
        y = L.Conv2D(3, 3, activation="relu")(x)
        y = L.UpSampling2D((2, 3))(y) if case == "upsample" else L.Cropping2D(((1, 0), (2, 1)))(y)
        y = L.Conv2D(2, 3)(y)
        shape = (8, 8, 2)
    m = keras.Model(x, y)
    g = to_graph(m, case)
    s = Session(g, make_plan(g), "m4f", "large")
    xs = np.random.default_rng(2).normal(size=(2, *shape)).astype(np.float32)
    for x1, h in zip(xs, keras_host.predict(m, xs)):
        out = s.run(x1).outputs
        assert np.all(np.abs(out - h) <= 1e-5 + 1e-5 * np.abs(h)), case


@pytest.mark.parametrize("k, s, pad, act", [(3, 2, "same", "relu"), (3, 2, "valid", None),
                                            (4, 2, "same", None), (5, 3, "same", None)])
def test_conv2d_transpose_agrees(k, s, pad, act):
    """Conv2DTranspose (the decoder of an autoencoder or U-Net) on the float gather kernel
    and in its numpy reference, against Keras."""
    from armsim.model.frontends.keras import to_graph
    from armsim.model.tfimport import import_keras
    from armsim.ops import registry

    keras = import_keras()
    x = keras.Input((5, 6, 3))
    layer = keras.layers.Conv2DTranspose(4, k, strides=s, padding=pad, activation=act)
    m = keras.Model(x, layer(x))
    g = to_graph(m, "deconv")
    sess = Session(g, make_plan(g), "m4f", "large")
    xs = np.random.default_rng(3).normal(size=(2, 5, 6, 3)).astype(np.float32)
    op = g.ops[0]
    for x1, h in zip(xs, keras_host.predict(m, xs)):
        out = sess.run(x1).outputs
        assert np.all(np.abs(out - h) <= 1e-5 + 1e-5 * np.abs(h))
        vals = {op.inputs[0]: x1, **{n: g.tensors[n].data for n in op.inputs[1:]}}
        ref = registry.get(op.kind).reference(g, op, lambda n: vals[n])
        if act == "relu":
            ref = np.maximum(ref, 0.0)
        assert np.allclose(ref.reshape(-1), h, atol=1e-5)


@pytest.mark.parametrize("case", ["prelu", "prelu_scalar", "permute", "permute_c_first"])
def test_prelu_and_permute_agree(case):
    """PReLU (per-channel and shared alpha) and Permute, against Keras."""
    from armsim.model.frontends.keras import to_graph
    from armsim.model.tfimport import import_keras

    keras = import_keras()
    L = keras.layers
    x = keras.Input((6, 7, 2))
    y = {"prelu": lambda: L.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.1, 0.5),
                                  shared_axes=[1, 2])(L.Conv2D(3, 3)(x)),
         "prelu_scalar": lambda: L.PReLU(alpha_initializer=keras.initializers.Constant(0.25),
                                         shared_axes=[1, 2, 3])(L.Conv2D(3, 3)(x)),
         "permute": lambda: L.Conv2D(2, 3)(L.Permute((2, 1, 3))(x)),
         "permute_c_first": lambda: L.Permute((3, 1, 2))(L.Conv2D(2, 3)(x))}[case]()
    m = keras.Model(x, L.Dense(4)(L.Flatten()(y)))
    g = to_graph(m, case)
    s = Session(g, make_plan(g), "m4f", "large")
    xs = np.random.default_rng(4).normal(size=(2, 6, 7, 2)).astype(np.float32)
    for x1, h in zip(xs, keras_host.predict(m, xs)):
        out = s.run(x1).outputs
        assert np.all(np.abs(out - h) <= 1e-5 + 1e-5 * np.abs(h)), case
