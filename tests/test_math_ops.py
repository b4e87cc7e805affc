"""TFLite's element-wise math and the activations the converter writes with it, one op kind
or activation each (activation.py, divide.py, squared_difference.py, prelu.py):

- float32: EXP, LOG, ABS, NEG, SQRT, RSQRT, SQUARE, DIV and SQUARED_DIFFERENCE between
  tensors, LOG_SOFTMAX, PRELU (per channel and per element; int8 too), and the Keras activations
  they carry (softplus, softsign, exponential, mish, log_softmax, PReLU), against the TFLite
  interpreter and Keras;
- int8: the functions TFLite evaluates through a 256-entry table (GELU both forms, EXP,
  LOG), and chains of int8 operators of one tensor read as one table (softsign, selu, ABS,
  RSQRT), bit-exact with the interpreter on every one of the 256 input values; softplus,
  exponential, mish, GELU, softsign and selu models through ``armsim quantize``;
- int8 operators armsim has no kernel for are refused by name when the file is read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from armsim.cli import main
from tests.tflite_files import convert


def _module_tflite(path, fn, shape, int8=False, xs=None):
    convert(fn, shape, xs, None if int8 else path, path if int8 else None)
    return path


def _validate(capsys, model, inputs):
    capsys.readouterr()
    code = main(["validate", "--model", str(model), "--inputs", str(inputs), "--json"])
    out = capsys.readouterr().out
    v = json.loads(out) if out.strip().startswith("{") else {}
    return code, v


def test_float_math_operators(tmp_path, capsys):
    w = np.random.default_rng(0).standard_normal((3, 3, 2, 4)).astype(np.float32)

    def fn(tf, x):
        y = tf.nn.conv2d(x, w, 1, "SAME")
        pos = tf.abs(y) + 0.5
        parts = [tf.exp(y * 0.5), tf.math.log(pos), tf.abs(y), -y, tf.sqrt(pos),
                 tf.math.rsqrt(pos), tf.square(y), y / pos,
                 tf.math.squared_difference(y, x[..., :1]), tf.nn.log_softmax(y)]
        return tf.concat(parts, axis=3)

    model = _module_tflite(tmp_path / "f.tflite", fn, (6, 5, 2))
    xs = np.random.default_rng(1).standard_normal((5, 6, 5, 2)).astype(np.float32)
    np.save(tmp_path / "x.npy", xs)
    from armsim.model.frontends.tflite import load

    kinds = {(op.kind, op.activation.kind if "activation" in op.attrs else "")
             for op in load(model).ops}
    for want in [("activation", a) for a in ("exponential", "log", "abs", "neg", "sqrt",
                                            "rsqrt", "square", "log_softmax")] + \
            [("divide", "linear"), ("squared_difference", "linear")]:
        assert want in kinds, (want, kinds)
    code, v = _validate(capsys, model, tmp_path / "x.npy")
    assert code == 0 and v["passed"] and v["n"] == 5, v


@pytest.mark.parametrize("shared", [[1, 2], None])
def test_prelu_keras_and_tflite(tmp_path, capsys, shared):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(2)
    L = keras.layers
    m = keras.Sequential([keras.Input((5, 4, 3)), L.Conv2D(4, 3, padding="same"),
                          L.PReLU(alpha_initializer=keras.initializers.RandomUniform(0, .5),
                                  shared_axes=shared),
                          L.Flatten(), L.Dense(3)])
    m.save(tmp_path / "p.keras")
    (tmp_path / "p.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(m).convert())
    xs = np.random.default_rng(3).standard_normal((4, 5, 4, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", xs)
    from armsim.model.quantize import quantize

    (tmp_path / "q.tflite").write_bytes(quantize(m, xs))  # int8 PRELU, bit-exact
    for name in ("p.keras", "p.tflite", "q.tflite"):
        code, v = _validate(capsys, tmp_path / name, tmp_path / "x.npy")
        assert code == 0 and v["passed"], (name, v)


@pytest.mark.parametrize("fn_name", ["gelu", "gelu_tanh", "exp", "log"])
def test_int8_tables_bit_exact_on_every_input(tmp_path, fn_name):
    """One int8 operator alone, fed all 256 int8 values: armsim's table (quant.lookup_table,
    the kernel's data) equals the interpreter's output value for value."""
    import tensorflow as tf

    from armsim import quant as Q
    from armsim.model.frontends.tflite import load

    fns = {"gelu": lambda tf, x: tf.nn.gelu(x * 1.0, approximate=False),
           "gelu_tanh": lambda tf, x: tf.nn.gelu(x * 1.0, approximate=True),
           "exp": lambda tf, x: tf.exp(x * 1.0),
           "log": lambda tf, x: tf.math.log(x * 0.5 + 3.1)}
    xs = np.random.default_rng(4).uniform(-3, 3, (16, 256)).astype(np.float32)
    path = _module_tflite(tmp_path / "q.tflite", fns[fn_name], (256,), int8=True, xs=xs)
    g = load(path)
    (op,) = [o for o in g.ops if o.kind == "activation"
             and o.activation.kind in Q.LUT_FUNCTIONS]
    table = Q.lookup_table(op.activation.kind, g.tensors[op.inputs[0]].quant,
                           g.tensors[op.outputs[0]].quant)
    # feed the operator's own input every int8 value (the ops before it are linear here:
    # find the float input that quantizes to each value through the interpreter instead)
    it = tf.lite.Interpreter(model_path=str(path),
                             experimental_op_resolver_type=tf.lite.experimental.OpResolverType
                             .BUILTIN_REF, experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    d = {t["name"]: t["index"] for t in it.get_tensor_details()}
    vin = np.arange(-128, 128, dtype=np.int8)
    got = None
    inp = it.get_input_details()[0]
    # drive the graph input so the op's input covers all values: the int8 input itself when
    # it is the op's input, else search by scaling
    if d.get(op.inputs[0]) == inp["index"]:
        it.set_tensor(inp["index"], vin.reshape(inp["shape"]))
        it.invoke()
        got = it.get_tensor(d[op.outputs[0]]).reshape(-1)
        want = table[vin.view(np.uint8)]
    else:
        rng = np.random.default_rng(5)
        seen_in, seen_out = [], []
        for _ in range(40):
            it.set_tensor(inp["index"], rng.integers(-128, 128, inp["shape"]).astype(np.int8))
            it.invoke()
            seen_in.append(it.get_tensor(d[op.inputs[0]]).reshape(-1).copy())
            seen_out.append(it.get_tensor(d[op.outputs[0]]).reshape(-1).copy())
        a, got = np.concatenate(seen_in), np.concatenate(seen_out)
        want = table[a.view(np.uint8)]
        assert len(np.unique(a)) > 64  # the table is checked over most of its entries
    assert np.array_equal(got, want), np.flatnonzero(got != want)[:10]


def _drive(path, src, dst):
    """(int8 values of tensor ``src``, of ``dst``) with the model's one-element input set to
    each int8 value in turn, in the interpreter's builtin kernels; values its DIV kernel
    stops on (a divisor byte of 0, whatever the zero point) are left out."""
    import tensorflow as tf

    it = tf.lite.Interpreter(model_path=str(path), experimental_op_resolver_type=tf.lite
                             .experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
                             experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    d = {t["name"]: t["index"] for t in it.get_tensor_details()}
    inp = it.get_input_details()[0]
    ins, outs = [], []
    for v in range(-128, 128):
        it.set_tensor(inp["index"], np.full(inp["shape"], v, np.int8))
        try:
            it.invoke()
        except RuntimeError:
            continue
        ins.append(it.get_tensor(d[src]).reshape(-1)[0])
        outs.append(it.get_tensor(d[dst]).reshape(-1)[0])
    return np.asarray(ins, np.int8), np.asarray(outs, np.int8)


@pytest.mark.parametrize("fn_name", ["softsign", "selu", "abs", "abs_rescaled", "rsqrt"])
def test_int8_chains_bit_exact_on_every_input(tmp_path, fn_name):
    """int8 ABS and RSQRT (a table of TFLite's integer arithmetic), and chains of int8
    operators of one tensor armsim has no kernel for (DIV, GREATER, SELECT_V2) read as one
    table (tflite_tables): the table equals the interpreter value for value."""
    from armsim.model.frontends.tflite import load
    from armsim.ops.activation import s8_table

    fns = {"softsign": lambda tf, x: tf.nn.softsign(x * 1.0),
           "selu": lambda tf, x: tf.nn.selu(x * 1.0),
           "abs": lambda tf, x: tf.abs(x),
           "abs_rescaled": lambda tf, x: tf.abs(x * 1.0) * 3.0,
           "rsqrt": lambda tf, x: tf.math.rsqrt(x * 0.5 + 3.1)}
    xs = np.random.default_rng(4).uniform(-3, 3, (256, 1)).astype(np.float32)
    path = _module_tflite(tmp_path / "q.tflite", fns[fn_name], (1,), int8=True, xs=xs)
    g = load(path)
    (op,) = [o for o in g.ops if "table" in o.attrs or o.activation.kind in ("abs", "rsqrt")]
    table = np.asarray(op.attrs["table"], np.int8) if "table" in op.attrs else \
        s8_table(op.activation, g.tensors[op.inputs[0]].quant, g.tensors[op.outputs[0]].quant)
    a, got = _drive(path, op.inputs[0], op.outputs[0])
    assert len(np.unique(a)) > 128  # most of the table is checked
    want = table[a.view(np.uint8)]
    assert np.array_equal(got, want), (a[got != want][:8], got[got != want][:8],
                                       want[got != want][:8])


def test_int8_activation_models_through_quantize(tmp_path, capsys):
    import keras

    keras.utils.set_random_seed(6)
    L = keras.layers
    i = keras.Input((6, 6, 3))
    y = L.Conv2D(4, 3)(i)
    parts = [L.Activation(a)(y) for a in ("gelu", "softplus", "mish", "softsign", "selu")]
    parts.append(L.Activation("exponential")(L.Conv2D(4, 3, activation="tanh")(i)))
    m = keras.Model(i, L.Dense(3)(L.Flatten()(L.Concatenate()(parts))))
    m.save(tmp_path / "a.keras")
    np.save(tmp_path / "x.npy",
            np.random.default_rng(7).uniform(-1, 1, (16, 6, 6, 3)).astype(np.float32))
    capsys.readouterr()
    assert main(["quantize", str(tmp_path / "a.keras"), "--out", str(tmp_path / "a.tflite"),
                 "--inputs", str(tmp_path / "x.npy")]) == 0
    for name in ("a.keras", "a.tflite"):
        code, v = _validate(capsys, tmp_path / name, tmp_path / "x.npy")
        assert code == 0 and v["passed"], (name, v)


def test_int8_operators_without_kernels_are_refused_by_name(tmp_path, capsys):
    xs = np.random.default_rng(8).standard_normal((8, 4, 4, 2)).astype(np.float32)
    path = _module_tflite(tmp_path / "q.tflite", lambda tf, x: tf.math.sqrt(tf.abs(x) + 1.0),
                          (4, 4, 2), int8=True, xs=xs)
    np.save(tmp_path / "x.npy", xs)
    capsys.readouterr()
    assert main(["simulate", "--model", str(path), "--inputs", str(tmp_path / "x.npy")]) == 2
    err = capsys.readouterr().err
    assert "does not run in an int8 model: op 2 SQRT" in err and \
        "(SQRT: armsim runs it in float32 models only)" in err, err


@pytest.mark.parametrize("scale", [0.3, 2.0, 9.0])
def test_int8_log_softmax_equals_tflm(tmp_path, capsys, scale):
    """int8 LOG_SOFTMAX on armsim's kernel of TFLite's reference integer arithmetic
    (gemmlowp's exp and log in fixed point): bit-exact with TFLM, rows of 2 to 12 values,
    inputs spread from a fraction of a step to saturation."""
    rng = np.random.default_rng(int(scale * 10))
    xs = (rng.standard_normal((12, 3, 12)) * scale).astype(np.float32)
    path = _module_tflite(tmp_path / "q.tflite",
                          lambda tf, x: tf.concat([tf.nn.log_softmax(x[..., :2]),
                                                   tf.nn.log_softmax(x)], axis=-1),
                          (3, 12), int8=True, xs=xs[:8])
    np.save(tmp_path / "x.npy", xs)
    code, v = _validate(capsys, path, tmp_path / "x.npy")
    assert code == 0 and v["passed"] and v["bit_exact_inputs"] == 12, v
    assert "TFLM" in v["host_source"]


@pytest.mark.parametrize("center, scale, shape", [(True, True, (5, 8)), (False, True, (4, 3, 6)),
                                                  (True, False, (12,))])
def test_keras_layer_normalization(tmp_path, capsys, center, scale, shape):
    """LayerNormalization lowered into mean/square/sub/rsqrt/mul/scale_shift ops, against
    Keras' own (moments as E[x^2] - E[x]^2) and the float32 file's interpreter; its int8
    file (SQUARED_DIFFERENCE, RSQRT) bit-exact."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(9)
    L = keras.layers
    i = keras.Input(shape)
    y = L.LayerNormalization(center=center, scale=scale, epsilon=1e-3,
                             beta_initializer="random_normal",
                             gamma_initializer="random_normal")(L.Dense(shape[-1])(i))
    m = keras.Model(i, L.Dense(3)(L.Flatten()(y) if len(shape) > 1 else y))
    m.save(tmp_path / "n.keras")
    (tmp_path / "n.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(m).convert())
    np.save(tmp_path / "x.npy",
            (np.random.default_rng(10).standard_normal((4, *shape)) * 3 + 1).astype(np.float32))
    from armsim.model.frontends.load import load_model

    kinds = {op.kind for op in load_model(tmp_path / "n.keras")[0].ops}
    assert {"mean", "sub", "mul", "scale_shift"} <= kinds and "layer_norm" not in kinds
    names = ["n.keras", "n.tflite"]
    if center and scale:  # int8: SQUARED_DIFFERENCE and RSQRT on TFLite's arithmetic
        from armsim.model.quantize import quantize

        xs = np.load(tmp_path / "x.npy")
        (tmp_path / "q.tflite").write_bytes(quantize(m, np.concatenate([xs] * 4)))
        q_kinds = {op.kind for op in load_model(tmp_path / "q.tflite")[0].ops}
        assert "squared_difference" in q_kinds, q_kinds
        names.append("q.tflite")
    for name in names:
        code, v = _validate(capsys, tmp_path / name, tmp_path / "x.npy")
        assert code == 0 and v["passed"], (name, v)


def test_int8_elu_kept_in_float_by_the_converter(tmp_path, capsys):
    """TFLiteConverter leaves ELU in float32 in an int8 file (DEQUANTIZE, ELU, QUANTIZE):
    the reader makes the three one int8 op, a table of what they compute, bit-exact."""
    import keras

    from armsim.model.frontends.tflite import load

    keras.utils.set_random_seed(11)
    L = keras.layers
    m = keras.Sequential([keras.Input((6, 6, 3)), L.Conv2D(4, 3, activation="elu"),
                          L.Flatten(), L.Dense(3)])
    m.save(tmp_path / "e.keras")
    np.save(tmp_path / "x.npy",
            np.random.default_rng(12).uniform(-2, 2, (12, 6, 6, 3)).astype(np.float32))
    capsys.readouterr()
    assert main(["quantize", str(tmp_path / "e.keras"), "--out", str(tmp_path / "e.tflite"),
                 "--inputs", str(tmp_path / "x.npy")]) == 0
    islands = [op for op in load(tmp_path / "e.tflite").ops if op.attrs.get("float_island")]
    assert [op.activation.kind for op in islands] == ["elu"]
    code, v = _validate(capsys, tmp_path / "e.tflite", tmp_path / "x.npy")
    assert code == 0 and v["passed"] and v["max_abs_diff_q"] == 0, v


def test_select_of_a_comparison_float(tmp_path, capsys):
    """SELECT_V2 whose condition is a comparison (selu as the converter writes it, and
    tf.where between tensors and constants), with the comparison folded into the op."""
    import keras

    w = np.random.default_rng(13).standard_normal((3, 3, 2, 4)).astype(np.float32)

    def fn(tf, x):
        y = tf.nn.conv2d(x, w, 1, "SAME")
        return tf.concat([tf.where(y > 0.3, y * 2.0, -y), tf.where(y <= x[..., :1], y, 0.5),
                          tf.where(tf.not_equal(y, 0.0), tf.nn.selu(y), y),
                          tf.where(y < -0.2, tf.exp(y), y + 1.0)], axis=3)

    convert(fn, (6, 5, 2), None, tmp_path / "f.tflite")
    np.save(tmp_path / "x.npy",
            np.random.default_rng(14).standard_normal((5, 6, 5, 2)).astype(np.float32))
    code, v = _validate(capsys, tmp_path / "f.tflite", tmp_path / "x.npy")
    assert code == 0 and v["passed"], v
    keras.utils.set_random_seed(15)
    m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(6, activation="selu"),
                          keras.layers.Dense(2)])
    import tensorflow as tf

    (tmp_path / "s.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(m).convert())
    np.save(tmp_path / "s.npy",
            np.random.default_rng(16).standard_normal((4, 8)).astype(np.float32))
    code, v = _validate(capsys, tmp_path / "s.tflite", tmp_path / "s.npy")
    assert code == 0 and v["passed"], v
