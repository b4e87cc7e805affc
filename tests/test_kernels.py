"""Every kernel of both sets on random shapes (hypothesis): one-layer models with strides,
padding, odd sizes and 1..64 channels, checked against the numpy reference and Keras."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from armsim.model import keras_host as host
from armsim.model import reference
from armsim.firmware.kernels import KERNEL_SETS
from armsim.model.frontends.keras import to_graph
from armsim.plan import make_plan
from armsim.session.session import Session

SETTINGS = settings(max_examples=10, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
ATOL = RTOL = 1e-5


def keras():
    from armsim.model.tfimport import import_keras

    return import_keras()


def check_layer(layer, shape: tuple[int, ...], seed: int, extra=None) -> None:
    """One layer (or a small block from ``extra``) through both kernel sets."""
    k = keras()
    k.utils.set_random_seed(seed)
    inp = k.Input(shape)
    out = layer(inp) if extra is None else extra(inp)
    model = k.Model(inp, out)
    for ly in model.layers:  # fresh BatchNorm statistics are an identity: vary them
        if type(ly).__name__ == "BatchNormalization":
            rng = np.random.default_rng(seed)
            ly.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(np.float32)
                            for w in ly.get_weights()])
    g = to_graph(model, "kernel-test")
    x = np.random.default_rng(seed).normal(0, 1, shape).astype(np.float32)
    want = host.predict(model, x[None])[0]
    ref = reference.outputs(g, x)
    np.testing.assert_allclose(ref, want, atol=ATOL, rtol=RTOL, err_msg="numpy vs Keras")
    plan = make_plan(g)
    for kernels in KERNEL_SETS:  # armsim's reference and optimized kernels, and CMSIS-NN's
        got = Session(g, plan, "m4f", "large", kernels=kernels).run(x).outputs
        assert not np.isnan(got).any()
        np.testing.assert_allclose(got, want, atol=ATOL, rtol=RTOL,
                                   err_msg=f"{kernels} kernels vs Keras")


spatial = st.integers(1, 12)
channels = st.integers(1, 64)
small_channels = st.integers(1, 16)


@SETTINGS
@given(h=spatial, w=spatial, cin=small_channels, cout=small_channels, kh=st.integers(1, 5),
       kw=st.integers(1, 5), sh=st.integers(1, 3), sw=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same"]), bias=st.booleans(),
       act=st.sampled_from(["linear", "relu", "relu6", "tanh", "sigmoid"]), seed=st.integers(0, 99))
def test_conv2d(h, w, cin, cout, kh, kw, sh, sw, padding, bias, act, seed):
    assume(padding == "same" or (kh <= h and kw <= w))
    layer = keras().layers.Conv2D(cout, (kh, kw), strides=(sh, sw), padding=padding,
                                  use_bias=bias, activation=act)
    check_layer(layer, (h, w, cin), seed)


@SETTINGS
@given(h=spatial, w=spatial, cin=channels, cout=channels, seed=st.integers(0, 99))
def test_pointwise_conv_wide_channels(h, w, cin, cout, seed):
    check_layer(keras().layers.Conv2D(cout, 1), (h, w, cin), seed)


@SETTINGS
@given(h=spatial, w=spatial, c=channels, k=st.integers(1, 5), s=st.integers(1, 2),
       m=st.integers(1, 3), padding=st.sampled_from(["valid", "same"]), seed=st.integers(0, 99))
def test_depthwise_conv2d(h, w, c, k, s, m, padding, seed):
    assume(padding == "same" or k <= min(h, w))
    layer = keras().layers.DepthwiseConv2D(k, strides=s, depth_multiplier=m, padding=padding,
                                           activation="relu6")
    check_layer(layer, (h, w, c), seed)


@SETTINGS
@given(h=spatial, w=spatial, c=small_channels, f=small_channels, k=st.integers(1, 3),
       seed=st.integers(0, 99))
def test_separable_conv2d(h, w, c, f, k, seed):
    assume(k <= min(h, w))
    check_layer(keras().layers.SeparableConv2D(f, k, depth_multiplier=2), (h, w, c), seed)


@SETTINGS
@given(n_in=st.integers(1, 64), n_out=st.integers(1, 64), rows=st.integers(0, 3),
       act=st.sampled_from(["linear", "relu", "softmax", "sigmoid", "hard_sigmoid"]),
       seed=st.integers(0, 99))
def test_dense(n_in, n_out, rows, act, seed):
    shape = (n_in,) if rows == 0 else (rows, n_in)
    check_layer(keras().layers.Dense(n_out, activation=act), shape, seed)


@SETTINGS
@given(h=spatial, w=spatial, c=channels, p=st.integers(1, 3), s=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same"]), kind=st.sampled_from(["max", "avg"]),
       seed=st.integers(0, 99))
def test_pooling(h, w, c, p, s, padding, kind, seed):
    assume(padding == "same" or p <= min(h, w))
    cls = keras().layers.MaxPooling2D if kind == "max" else keras().layers.AveragePooling2D
    check_layer(cls(p, strides=s, padding=padding), (h, w, c), seed)


@SETTINGS
@given(n=st.integers(2, 40), c=small_channels, k=st.integers(1, 5), seed=st.integers(0, 99),
       padding=st.sampled_from(["valid", "same", "causal"]))
def test_conv1d_and_pooling1d(n, c, k, seed, padding):
    assume(k <= n)
    L = keras().layers
    check_layer(None, (n, c), seed, extra=lambda x: L.GlobalAveragePooling1D()(
        L.MaxPooling1D(1)(L.Conv1D(4, k, padding=padding)(x))))


@SETTINGS
@given(h=spatial, w=spatial, c=small_channels, t=st.integers(0, 3), b=st.integers(0, 3),
       left=st.integers(0, 3), r=st.integers(0, 3), seed=st.integers(0, 99))
def test_zero_padding_then_conv(h, w, c, t, b, left, r, seed):
    L = keras().layers
    check_layer(None, (h, w, c), seed, extra=lambda x: L.Conv2D(3, 1)(
        L.ZeroPadding2D(((t, b), (left, r)))(x)))


@SETTINGS
@given(h=spatial, w=spatial, c=small_channels, seed=st.integers(0, 99),
       act=st.sampled_from(["relu", "tanh", "sigmoid", "hard_sigmoid", "softmax", "leaky"]))
def test_add_concat_batchnorm_and_activations(h, w, c, seed, act):
    L = keras().layers

    def block(x):
        a = L.Conv2D(c, 1)(x)
        b = L.Conv2D(c, 3, padding="same")(x)
        y = L.Add()([a, b, x])
        y = L.BatchNormalization()(y)
        y = L.LeakyReLU(0.3)(y) if act == "leaky" else L.Activation(act)(y)
        return L.Concatenate()([y, L.MaxPooling2D(3, strides=1, padding="same")(x)])

    check_layer(None, (h, w, c), seed, extra=block)


def test_standalone_batchnorm_and_normalization_at_the_input():
    L = keras().layers
    norm = L.Normalization(mean=[0.5, -1.0], variance=[4.0, 0.25])

    def block(x):
        y = norm(x)
        y = L.BatchNormalization()(y)  # nothing to fold into: a scale-and-shift op
        return L.Dense(3)(L.Flatten()(y))

    check_layer(None, (5, 4, 2), 7, extra=block)


@pytest.mark.parametrize("layer", ["ConvLSTM1D", "UnitNormalization", "GroupNormalization"])
def test_unsupported_layers_are_refused_before_any_work(layer):
    from armsim.errors import ModelError

    k = keras()
    inp = k.Input((4, 8, 2) if layer == "ConvLSTM1D" else (8, 8, 2))
    ly = {"ConvLSTM1D": lambda: k.layers.ConvLSTM1D(2, 3, name="bad"),
          "UnitNormalization": lambda: k.layers.UnitNormalization(name="bad"),
          "GroupNormalization": lambda: k.layers.GroupNormalization(2, name="bad")}[layer]()
    model = k.Model(inp, ly(inp))
    with pytest.raises(ModelError, match=f"does not run: layer 0 layer 'bad' \\({layer}\\)"):
        to_graph(model, "m")


def test_nested_models_are_read_in_place():
    """A Sequential and a functional model used as layers run like the same layers written
    out flat (the BatchNormalization inside the nested stem still folds)."""
    k = keras()
    L = k.layers
    k.utils.set_random_seed(3)
    stem = k.Sequential([L.Conv2D(4, 3, padding="same"), L.BatchNormalization(), L.ReLU()])
    bi = k.Input((6, 6, 4))
    block = k.Model(bi, L.Add()([bi, L.Conv2D(4, 1)(bi)]))
    head = k.Sequential([L.GlobalAveragePooling2D(), L.Dense(3)])
    check_layer(None, (6, 6, 3), 3, extra=lambda x: head(block(stem(x))))
    x = k.Input((6, 6, 3))
    kinds = [op.kind for op in to_graph(k.Model(x, head(block(stem(x)))), "n").ops]
    assert kinds == ["conv2d", "conv2d", "add", "avg_pool2d", "fully_connected"], kinds
