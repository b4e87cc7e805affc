"""The float activations Keras models use (swish/SiLU, hard swish, GELU, ELU, SELU, softplus,
softsign, exponential, Mish): fused after a conv and as their own layer, on the generated
float kernels, against Keras, and their numpy references against Keras."""

from __future__ import annotations

import numpy as np
import pytest

from armsim.graph import Activation
from armsim.model import keras_host
from armsim.model.frontends.keras import to_graph
from armsim.model.tfimport import import_keras
from armsim.ops import activations
from armsim.plan import make_plan
from armsim.session.session import Session

NAMES = ["silu", "swish", "hard_silu", "hard_swish", "gelu", "elu", "selu", "softplus",
         "softsign", "exponential", "mish"]


@pytest.mark.parametrize("act", NAMES)
def test_activation_agrees_with_keras(act):
    keras = import_keras()
    x = keras.Input((6, 6, 2))
    y = keras.layers.Conv2D(3, 3, activation=act)(x)
    y = keras.layers.Activation(act)(keras.layers.Dense(4)(keras.layers.Flatten()(y)))
    m = keras.Model(x, y)
    g = to_graph(m, act)
    kinds = {op.activation.kind for op in g.ops if op.activation is not None}
    assert activations.KERAS_NAMES.get(act, act) in kinds
    xs = np.random.default_rng(1).normal(scale=2.0, size=(3, 6, 6, 2)).astype(np.float32)
    h = keras_host.predict(m, xs)
    cpus = ("m4f", "m0") if act in ("softplus", "gelu") else ("m4f",)  # soft float too
    for cpu in cpus:
        s = Session(g, make_plan(g), cpu, "large")
        for x1, hh in zip(xs, h):
            out = s.run(x1).outputs
            assert np.all(np.abs(out - hh) <= 1e-5 + 1e-5 * np.abs(hh)), (act, cpu)


@pytest.mark.parametrize("act", NAMES)
def test_numpy_reference_agrees_with_keras(act):
    keras = import_keras()
    x = np.linspace(-8, 8, 97, dtype=np.float32)
    want = np.asarray(keras.activations.get(act)(x), np.float64)
    got = activations.apply(x.astype(np.float64),
                            Activation(activations.KERAS_NAMES.get(act, act)))
    assert np.allclose(got, want, rtol=1e-5, atol=1e-6)
