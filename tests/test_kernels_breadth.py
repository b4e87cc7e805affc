"""The op kinds of the layer-breadth work on random shapes (hypothesis), like
``test_kernels.py``: one small block per example through armsim's numpy reference, Keras
and every float32 kernel set; and int8 files of the same blocks bit-exact with the TFLite
interpreter."""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_kernels import SETTINGS, check_layer, keras
from tests.tflite_files import validate

SMALL = settings(SETTINGS, max_examples=6)  # each example builds three firmwares
INT8 = settings(SETTINGS, max_examples=3)
side = st.integers(2, 7)
chans = st.integers(1, 6)
seeds = st.integers(0, 99)


@SMALL
@given(h=side, w=side, c=chans, kind=st.sampled_from(["Subtract", "Multiply", "Maximum",
                                                      "Minimum", "Average"]),
       per=st.sampled_from(["full", "channel", "row"]), seed=seeds)
def test_broadcast_elementwise(h, w, c, kind, per, seed):
    """Two operands of other shapes, NumPy's rules: a broadcast op before the kind."""
    L = keras().layers

    def block(x):
        a = L.Conv2D(c, 1)(x)
        if per == "full":
            b = L.Conv2D(c, 3, padding="same")(x)
        elif per == "channel":
            b = L.GlobalAveragePooling2D(keepdims=True)(L.Conv2D(c, 1)(x))
        else:
            b = L.AveragePooling2D((1, w))(L.Conv2D(c, 1)(x))
        return getattr(L, kind)()([a, b])

    check_layer(None, (h, w, c), seed, extra=block)


@SMALL
@given(h=side, w=side, c=chans, f=chans, k=st.integers(1, 4), s=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same"]), seed=seeds)
def test_conv2d_transpose(h, w, c, f, k, s, padding, seed):
    check_layer(keras().layers.Conv2DTranspose(f, k, strides=s, padding=padding),
                (h, w, c), seed)


@SMALL
@given(h=side, w=side, groups=st.integers(1, 4), ci=st.integers(1, 3), co=st.integers(1, 3),
       k=st.integers(1, 3), s=st.integers(1, 2), seed=seeds)
def test_grouped_conv(h, w, groups, ci, co, k, s, seed):
    """Conv2D(groups): one input channel per group is a depthwise op, else a conv per group
    between a slice and a concat."""
    check_layer(keras().layers.Conv2D(groups * co, k, strides=s, groups=groups,
                                      padding="same"), (h, w, groups * ci), seed)


@SMALL
@given(h=side, w=side, c=chans, seed=seeds)
def test_convnext_block(h, w, c, seed):
    """ConvNeXt's block: depthwise Conv2D(groups=c), LayerNormalization, Dense on the
    channels, gelu, LayerScale, residual Add."""
    from keras.src.applications.convnext import LayerScale

    L = keras().layers

    def block(x):
        y = L.Conv2D(c, 3, padding="same", groups=c)(x)
        y = L.LayerNormalization(epsilon=1e-6)(y)
        y = L.Dense(4 * c, activation="gelu")(y)
        y = LayerScale(0.5, c)(L.Dense(c)(y))
        return L.Add()([x, y])

    check_layer(None, (h, w, c), seed, extra=block)


@SMALL
@given(h=side, w=side, c=chans, oh=st.integers(1, 11), ow=st.integers(1, 11),
       interpolation=st.sampled_from(["nearest", "bilinear"]),
       crop=st.booleans(), seed=seeds)
def test_resizing(h, w, c, oh, ow, interpolation, crop, seed):
    L = keras().layers
    layer = L.Resizing(oh, ow, interpolation=interpolation) if not crop else \
        L.UpSampling2D((2, 3), interpolation=interpolation)
    check_layer(layer, (h, w, c), seed)


@SMALL
@given(h=side, w=side, c=chans, t=st.integers(0, 1), b=st.integers(0, 1),
       perm=st.permutations([1, 2, 3]), seed=seeds)
def test_cropping_and_permute(h, w, c, t, b, perm, seed):
    L = keras().layers
    check_layer(None, (h + 2, w + 2, c), seed,
                extra=lambda x: L.Permute(tuple(perm))(L.Cropping2D(((t, b), (b, t)))(x)))


@SMALL
@given(n=st.integers(2, 9), f=chans, u=st.integers(1, 8),
       kind=st.sampled_from(["SimpleRNN", "GRU", "LSTM"]), seq=st.booleans(),
       back=st.booleans(), seed=seeds)
def test_recurrent(n, f, u, kind, seq, back, seed):
    layer = getattr(keras().layers, kind)(u, return_sequences=seq, go_backwards=back)
    check_layer(layer, (n, f), seed)


@SMALL
@given(h=side, w=side, c=chans, seed=seeds,
       act=st.sampled_from(["silu", "hard_silu", "gelu", "elu", "selu", "softplus",
                            "softsign", "mish", "exponential", "log_softmax"]))
def test_activations(h, w, c, seed, act):
    L = keras().layers
    check_layer(None, (h, w, c), seed, extra=lambda x: L.Activation(act)(L.Conv2D(c, 1)(x)))


@SMALL
@given(n=st.integers(1, 6), f=st.integers(2, 9), shared=st.booleans(), seed=seeds)
def test_prelu_layer_norm_and_dot(n, f, shared, seed):
    L = keras().layers

    def block(x):
        y = L.Dense(f)(x)
        y = L.PReLU(alpha_initializer="random_uniform",
                    shared_axes=[1] if shared else None)(y)
        y = L.LayerNormalization(beta_initializer="random_normal")(y)
        return L.Dot(axes=(2, 2))([y, L.Dense(f)(x)])

    check_layer(None, (n, f), seed, extra=block)


@pytest.mark.parametrize("block", ["sub", "mul_se", "max", "convT", "resize", "gru",
                                   "softsign", "selu", "layernorm", "grouped"])
@INT8
@given(h=side, w=side, c=chans, seed=seeds)
def test_int8_blocks_bit_exact(tmp_path_factory, block, h, w, c, seed):
    """The same blocks quantized by ``armsim quantize``: ``validate`` bit-exact (or within
    one step where the host says so) with the interpreter."""
    from armsim.cli import main

    k = keras()
    L = k.layers
    k.utils.set_random_seed(seed)
    shape = (h + 2, w + 2) if block in ("gru", "layernorm") else (h + 1, w + 1, c)
    x = k.Input(shape)
    if block == "gru":
        y = L.GRU(c + 1)(x)
    elif block == "layernorm":
        y = L.LayerNormalization()(L.Dense(c + 1)(x))
    else:
        y = L.Conv2D(c, 1)(x)
        if block == "sub":
            y = L.Subtract()([y, L.GlobalAveragePooling2D(keepdims=True)(y)])
        elif block == "mul_se":
            s = L.Conv2D(c, 1, activation="hard_sigmoid")(L.GlobalAveragePooling2D(
                keepdims=True)(y))
            y = L.Multiply()([y, s])
        elif block == "max":
            y = L.Maximum()([y, L.Conv2D(c, 3, padding="same")(x)])
        elif block == "convT":
            y = L.Conv2DTranspose(c, 3, strides=2, padding="same")(y)
        elif block == "grouped":  # a depthwise-like and a two-group convolution
            y = L.Concatenate()([L.Conv2D(2 * c, 3, groups=c, padding="same")(y),
                                 L.Conv2D(2, 1, groups=2)(L.Conv2D(2 * c, 1)(y))])
        elif block == "resize":
            y = L.Resizing(h + 3, w + 2, interpolation="bilinear")(y)
        else:
            y = L.Activation(block)(y)
    m = k.Model(x, L.Dense(3)(L.Flatten()(y)))
    d = tmp_path_factory.mktemp("int8")
    m.save(d / "m.keras")
    xs = np.random.default_rng(seed).uniform(-2, 2, (12, *shape)).astype(np.float32)
    np.save(d / "x.npy", xs)
    assert main(["quantize", str(d / "m.keras"), "--out", str(d / "q.tflite"), "--inputs",
                 str(d / "x.npy")]) == 0
    code, v = validate(d / "q.tflite", d / "x.npy")
    assert code == 0 and v["passed"] and v["n"] == 12, (block, v)


@INT8
@given(n=st.integers(2, 8), f=st.integers(1, 6), u=st.integers(1, 9), seq=st.booleans(),
       seed=seeds)
def test_int8_fused_lstm_bit_exact(tmp_path_factory, n, f, u, seq, seed):
    """A Keras 2 LSTM's int8 UNIDIRECTIONAL_SEQUENCE_LSTM on CMSIS-NN's
    arm_lstm_unidirectional_s8 (the ``lstm`` kind), bit-exact with the host."""
    k2 = pytest.importorskip("tf_keras")
    import tensorflow as tf

    k2.utils.set_random_seed(seed)
    m = k2.Sequential([k2.Input((n, f), batch_size=1), k2.layers.LSTM(u, return_sequences=seq),
                       k2.layers.Flatten(), k2.layers.Dense(3)])
    xs = np.random.default_rng(seed).uniform(-2, 2, (10, n, f)).astype(np.float32)
    conv = tf.lite.TFLiteConverter.from_keras_model(m)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([x[None]] for x in xs)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    d = tmp_path_factory.mktemp("lstm")
    (d / "q.tflite").write_bytes(conv.convert())
    np.save(d / "x.npy", xs)
    code, v = validate(d / "q.tflite", d / "x.npy")
    assert code == 0 and v["passed"] and v["n"] == 10, v
