"""16x8 models (int16 activations, int8 weights, int64 biases: TFLiteConverter's
EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8) on armsim's generated firmware:
CMSIS-NN's s16 kernels (convolution, depthwise, dense, pooling, add, mul, softmax,
batch matmul, LSTM), every output bit-exact with TFLM's reference kernels on the host and
within a few int16 steps (2e-4) of the TFLite interpreter; int16 and float edges; the
operators without an s16 kernel refused at once, by name; µVision scripts with _WWORD
inputs and int64 biases as two _WDWORD."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from armsim.cli import main
from armsim.errors import ModelError
from armsim.model import zoo
from armsim.model.frontends import tflite as T
from armsim.model.inputs import Rows
from armsim.model.quantize import OPS_SETS, quantize, quiet


def _randomised(model):
    """Non-zero biases and varied weights (a fresh model's biases are all zero)."""
    rng = np.random.default_rng(3)
    model.set_weights([rng.normal(scale=0.3, size=w.shape).astype(np.float32)
                       for w in model.get_weights()])
    return model


def _cnn():
    keras = zoo._keras()
    i = keras.Input((12, 12, 3))
    a = keras.layers.Conv2D(8, 3, strides=2, padding="valid", activation="relu6")(i)
    b = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same",
                                     activation="relu")(a)
    c = keras.layers.Conv2D(8, 1)(b)
    d = keras.layers.Add()([a, c])
    m = keras.layers.Multiply()([d, a])
    e = keras.layers.MaxPooling2D(2, padding="same")(m)
    f = keras.layers.AveragePooling2D(2, strides=1)(e)
    g = keras.layers.Dense(12, activation="relu")(keras.layers.Flatten()(f))
    o = keras.layers.Softmax()(keras.layers.Dense(5)(g))
    return _randomised(keras.Model(i, o))


def _copies():
    """Concatenation (the converter requantizes one operand: an int16 QUANTIZE), Permute,
    Cropping, max pooling, a dense layer without bias, a reshape and a second concat."""
    keras = zoo._keras()
    i = keras.Input((6, 6, 4))
    a = keras.layers.Conv2D(6, 3, padding="same")(i)
    d = keras.layers.Cropping2D(((1, 0), (0, 1)))(
        keras.layers.Permute((2, 1, 3))(keras.layers.Concatenate()([a, i])))
    s = keras.layers.Dense(10, use_bias=False)(
        keras.layers.Flatten()(keras.layers.MaxPooling2D(2)(d)))
    e = keras.layers.Reshape((5, 5, 2))(keras.layers.Dense(50)(s))
    o = keras.layers.Flatten()(keras.layers.Concatenate()([d, e]))
    return _randomised(keras.Model(i, o))


def _no_depthwise():
    """Convolutions and dense layers only: what a file with int32 biases can hold (TFLM's
    and CMSIS-NN's int16 depthwise kernels take int64 biases)."""
    keras = zoo._keras()
    i = keras.Input((8, 8, 3))
    a = keras.layers.Conv2D(6, 3, activation="relu")(i)
    b = keras.layers.Conv2D(4, 3, use_bias=False)(a)
    c = keras.layers.Dense(7)(keras.layers.Flatten()(b))
    return _randomised(keras.Model(i, keras.layers.Dense(5, use_bias=False)(c)))


def _activations():
    """tanh and sigmoid (TFLM's int16 arithmetic), Subtract, a global average (MEAN)."""
    keras = zoo._keras()
    i = keras.Input((8, 8, 3))
    a = keras.layers.Conv2D(4, 3, activation="tanh")(i)
    b = keras.layers.Conv2D(4, 3, activation="sigmoid")(i)
    g = keras.layers.GlobalAveragePooling2D()(keras.layers.Subtract()([a, b]))
    return _randomised(keras.Model(i, keras.layers.Dense(3, activation="tanh")(g)))


def _dot():
    """Two inputs and a Keras Dot between them: TFLite BATCH_MATMUL on int16."""
    keras = zoo._keras()
    a, b = keras.Input((5, 6)), keras.Input((7, 6))
    return keras.Model([a, b], keras.layers.Flatten()(keras.layers.Dot(axes=(2, 2))([a, b])))


def _float_edges(model, xs, path, per_tensor_dense: bool, int32_bias: bool = False,
                 int16_edges: bool = False) -> None:
    """The 16x8 file with float input and output (QUANTIZE/DEQUANTIZE at the edges), dense
    layers per-tensor when asked (CMSIS-NN's s16 dense kernel; per-channel ones run as a
    1x1 convolution)."""
    import tensorflow as tf

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([x[None]] for x in xs)
    conv.target_spec.supported_ops = [getattr(tf.lite.OpsSet, OPS_SETS["int16"])]
    conv._experimental_disable_per_channel_quantization_for_dense_layers = per_tensor_dense
    if int32_bias:
        conv._experimental_full_integer_quantization_bias_type = tf.int32
    if int16_edges:
        conv.inference_input_type = conv.inference_output_type = tf.int16
    with quiet():
        path.write_bytes(conv.convert())


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("s16")
    xs = np.random.default_rng(0).normal(size=(24, 12, 12, 3)).astype(np.float32)
    model = _cnn()
    quantize(model, xs[:16], d / "cnn.tflite", "int16")
    _float_edges(model, xs[:16], d / "cnn_float.tflite", per_tensor_dense=True)
    np.save(d / "x.npy", xs[16:])
    rng = np.random.default_rng(1)
    x6 = rng.normal(size=(20, 6, 6, 4)).astype(np.float32)
    quantize(_copies(), x6[:16], d / "copies.tflite", "int16")
    np.save(d / "copies.npy", x6[16:])
    x8 = rng.normal(size=(20, 8, 8, 3)).astype(np.float32)
    for name, per_tensor in (("b32.tflite", False), ("b32pt.tflite", True)):
        _float_edges(_no_depthwise(), x8[:16], d / name, per_tensor, int32_bias=True,
                     int16_edges=True)
    np.save(d / "b32.npy", x8[16:])
    quantize(_activations(), x8[:16], d / "acts.tflite", "int16")
    xa, xb = rng.normal(size=(12, 5, 6)), rng.normal(size=(12, 7, 6))
    quantize(_dot(), Rows((xa[:8].astype(np.float32), xb[:8].astype(np.float32))),
             d / "dot.tflite", "int16")
    np.savez(d / "dot.npz", x0=xa[8:], x1=xb[8:])
    return d


def _json(args: list[str], capsys) -> tuple[int, object]:
    code = main(args + ["--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def test_a_16x8_file_reads_as_an_int16_graph(files):
    g = T.load(files / "cnn.tflite")
    assert g.quantized and g.dtype == "int16"
    conv = g.ops[0]
    assert conv.kind == "conv2d"
    assert g.tensors[conv.inputs[1]].dtype == "int8"
    assert g.tensors[conv.inputs[2]].dtype == "int64"
    assert all(g.tensors[o.outputs[0]].quant.zero_point == 0 for o in g.ops)
    assert {o.kind for o in g.ops} >= {"conv2d", "depthwise_conv2d", "add", "mul",
                                       "max_pool2d", "avg_pool2d", "fully_connected",
                                       "activation"}


@pytest.mark.parametrize("name", ["cnn.tflite", "cnn_float.tflite"])
def test_16x8_outputs_are_bit_exact_with_tflm(files, name, capsys):
    """int16 input and output with per-channel dense layers (a 1x1 s16 convolution), and
    float edges with per-tensor dense layers (arm_fully_connected_s16): every output equal
    to TFLM's, the TFLite interpreter's within a few int16 steps."""
    code, rows = _json(["simulate", "--model", str(files / name), "--inputs",
                        str(files / "x.npy"), "--host", "tflm"], capsys)
    assert code == 0
    assert len(rows) == 8
    for r in rows:
        assert r["agree"] and r["max_abs_diff_q"] == 0, r
        assert "TFLM" in r["host"]["source"]
        # TFLite's own int16 kernels (its ADD and softmax) round differently from TFLM's
        # in the last bits: a few int16 steps, far below one int8 step
        assert r["tflite"]["max_abs_diff"] < 2e-4, r["tflite"]
        q = np.array(r["outputs_q"])
        # a softmax over int16: real probabilities, not saturated int8 values
        assert q.max() > 127 and abs(sum(r["outputs"]) - 1) < 0.01
    code, res = _json(["validate", "--model", str(files / name), "--inputs",
                       str(files / "x.npy")], capsys)
    assert code == 0 and res["passed"] and res["dtype"] == "int16"
    assert res["bit_exact_inputs"] == 8


@pytest.mark.parametrize("name, data", [("copies.tflite", "copies.npy"),
                                        ("b32.tflite", "b32.npy"), ("b32pt.tflite", "b32.npy"),
                                        ("acts.tflite", "b32.npy"), ("dot.tflite", "dot.npz")])
def test_16x8_copies_requantize_and_32_bit_accumulators_are_bit_exact(files, name, data,
                                                                      capsys):
    """The copy ops, an int16 QUANTIZE and a dense layer without bias; tanh, sigmoid, SUB
    and MEAN on armsim's kernels of TFLM's int16 arithmetic; two int16 inputs into a
    BATCH_MATMUL (arm_batch_matmul_s16); and int32 biases
    (TFLM then accumulates in 32 bits and requantizes with the full multiplier, as does a
    dense layer without bias whose options ask for INT32): every output equal to TFLM's."""
    code, res = _json(["validate", "--model", str(files / name), "--inputs",
                       str(files / data), "--host", "tflm"], capsys)
    assert code == 0 and res["passed"] and res["bit_exact_inputs"] == 4, res
    assert "TFLM" in res["host_source"]
    g = T.load(files / name)
    if name.startswith("b32"):
        dense = [o for o in g.ops if o.kind in ("conv2d", "fully_connected")]
        assert dense and all(o.attrs.get("acc32") for o in dense)
    elif name == "dot.tflite":
        assert [o.kind for o in g.ops].count("batch_matmul") == 1 and len(g.inputs) == 2
    elif name == "acts.tflite":
        assert {"sub", "mean"} <= {o.kind for o in g.ops}
        assert {o.activation.kind for o in g.ops if o.kind == "activation"} \
            >= {"tanh", "sigmoid"}
    else:
        kinds = {o.kind for o in g.ops}
        assert {"concat", "transpose", "slice", "activation", "reshape"} <= kinds


def test_16x8_kernels_are_cmsis_nn_s16(files):
    from armsim import plan as make_plan
    from armsim.firmware.render_s8 import network_c

    for name, dense in (("cnn.tflite", "arm_convolve_wrapper_s16"),
                        ("cnn_float.tflite", "arm_fully_connected_s16")):
        g = T.load(files / name)
        c = network_c(g, make_plan(g))
        for fn in ("arm_convolve_wrapper_s16", "arm_depthwise_conv_wrapper_s16",
                   "arm_elementwise_add_s16", "arm_elementwise_mul_s16", "arm_max_pool_s16",
                   "arm_avgpool_s16", "arm_softmax_s16", dense):
            assert fn + "(" in c, (name, fn)
        assert "_s8(" not in c


def test_operators_without_an_s16_kernel_are_listed_at_once(tmp_path, capsys):
    keras = zoo._keras()
    i = keras.Input((6, 6, 2))
    a = keras.layers.LeakyReLU(0.2)(keras.layers.Conv2D(4, 3)(i))
    b = keras.layers.ZeroPadding2D(1)(a)
    o = keras.layers.Conv2DTranspose(2, 3, strides=2)(b)
    path = tmp_path / "bad.tflite"
    quantize(keras.Model(i, o), np.random.default_rng(0).normal(size=(4, 6, 6, 2))
             .astype(np.float32), path, "int16")
    with pytest.raises(ModelError) as e:
        T.load(path)
    text = str(e.value)
    for op in ("LEAKY_RELU", "PAD", "TRANSPOSE_CONV"):
        assert re.search(rf"op \d+ {op} \(", text), text
    assert "CONV_2D (" not in text and "16x8" in text and "--runtime tflm" in text
    assert e.value.kind == "tflite-int16"
    assert main(["simulate", "--model", str(path)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_16x8_script_round_trips(files, tmp_path, capsys):
    """``export`` writes the int16 input as _WWORD and each int64 bias as two _WDWORD;
    the parsed script gives back every buffer, and the firmware run from it agrees."""
    from armsim import plan as make_plan
    from armsim.script.check import tensors
    from armsim.script.parser import parse_program

    model = files / "cnn.tflite"
    out = tmp_path / "s.ini"
    assert main(["export", str(model), "--inputs", str(files / "x.npy"), "--index", "2",
                 "--out", str(out), "--format", "hex", "--weights-in", "sram"]) == 0
    text = out.read_text()
    assert "_WWORD" in text and "x int64" in text
    g = T.load(model)
    plan = make_plan(g, weights_in="sram")
    got = tensors(parse_program(str(out)).literal_writes(), plan)
    for name, vals in plan.pack(plan.constant_tensors()).items():
        np.testing.assert_array_equal(got[name], vals, err_msg=name)
    assert got[plan.input.name].dtype == np.int16
    biases = [v for v in got.values() if v.dtype == np.int64]
    assert biases and all(np.any(v) for v in biases)
    capsys.readouterr()
    code, r = _json(["simulate", "--model", str(model), "--script", str(out)], capsys)
    assert code == 0
    r = r[0] if isinstance(r, list) else r
    assert r["max_abs_diff_q"] == 0 and r["agree"]


def _as_16x8(src, dst) -> None:
    """An int8 UNIDIRECTIONAL_SEQUENCE_LSTM file rewritten as 16x8 (TFLiteConverter refuses
    to quantize that operator to 16x8): input, output, hidden state and the int8
    intermediates int16 (zero point 0, the int8 range's magnitude), the biases int64 at
    s_in * s_w, the same real values."""
    from tensorflow.lite.tools import flatbuffer_utils as fu

    mod = fu.read_model(str(src))
    sg = mod.subgraphs[0]
    op, t = sg.operators[0], sg.tensors
    ins = list(op.inputs)

    def to_int16(tensor, scale=None):
        s, z = float(tensor.quantization.scale[0]), int(tensor.quantization.zeroPoint[0])
        scale = scale or s * max(128 + z, 127 - z) / 32767.0
        tensor.type = 7  # INT16
        tensor.quantization.scale = np.array([scale], np.float32)
        tensor.quantization.zeroPoint = np.array([0], np.int64)
        return scale

    s_x = to_int16(t[ins[0]])
    s_h = to_int16(t[op.outputs[0]])
    to_int16(t[ins[18]], s_h)
    for k in op.intermediates:
        if t[k].type == 9:
            to_int16(t[k], s_h)
    for gate in range(4):
        b, s_w = t[ins[12 + gate]], float(t[ins[1 + gate]].quantization.scale[0])
        real = np.frombuffer(bytes(mod.buffers[b.buffer].data), np.int32) * \
            float(b.quantization.scale[0])
        mod.buffers[b.buffer].data = np.frombuffer(
            np.round(real / (s_x * s_w)).astype(np.int64).tobytes(), np.uint8)
        b.type = 4  # INT64
        b.quantization.scale = np.array([s_x * s_w], np.float32)
    fu.write_model(mod, str(dst))


def test_16x8_lstm_on_cmsis_nn_s16_equals_tflm(tmp_path, capsys):
    """A 16x8 UNIDIRECTIONAL_SEQUENCE_LSTM (int16 input, output and hidden state, int64
    biases) on arm_lstm_unidirectional_s16, bit-exact with TFLM (the TFLite interpreter has
    no int16 kernel for it)."""
    k2 = pytest.importorskip("tf_keras")
    import tensorflow as tf

    k2.utils.set_random_seed(3)
    i = k2.Input((5, 3), batch_size=1)
    m = k2.Model(i, k2.layers.LSTM(4, return_sequences=True)(i))
    m.set_weights([np.random.default_rng(4).normal(0, 0.6, w.shape).astype(np.float32)
                   for w in m.get_weights()])
    xs = np.random.default_rng(5).uniform(-2, 2, (10, 5, 3)).astype(np.float32)
    conv = tf.lite.TFLiteConverter.from_keras_model(m)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([x[None]] for x in xs[:6])
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    with quiet():
        (tmp_path / "q8.tflite").write_bytes(conv.convert())
    _as_16x8(tmp_path / "q8.tflite", tmp_path / "q16.tflite")
    g = T.load(tmp_path / "q16.tflite")
    assert g.kind == "16x8" and [o.kind for o in g.ops] == ["lstm"]
    np.save(tmp_path / "x.npy", xs[6:])
    code, res = _json(["validate", "--model", str(tmp_path / "q16.tflite"), "--inputs",
                       str(tmp_path / "x.npy")], capsys)
    assert code == 0 and res["passed"] and res["bit_exact_inputs"] == 4, res
    assert "TFLM" in res["host_source"]


def test_tflm_runtime_names_a_kernel_refusal_as_such(files, capsys):
    """TFLM's CMSIS-NN dense kernel refuses per-channel int16 weights in Prepare (armsim's
    firmware runs them as a 1x1 convolution): --runtime tflm says a kernel refused the
    model, not that the arena is too small."""
    assert main(["simulate", "--runtime", "tflm", "--model", str(files / "cnn.tflite"),
                 "--inputs", str(files / "x.npy")]) == 2
    err = capsys.readouterr().err
    assert "refuses this model when preparing it" in err and "FULLY_CONNECTED" in err, err
    assert "try a larger --mcu" not in err and "Traceback" not in err
