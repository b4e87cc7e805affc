"""The seed layout checked against Keras itself, not taken on trust."""

from __future__ import annotations

import numpy as np
import pytest

from armsim import layout as L
from armsim import model as M
from armsim.errors import LayoutError


def test_addresses_are_the_seeds_and_contiguous():
    lay = L.seed_layout(8)
    assert [(b.name, b.address) for b in lay] == [
        ("input", 0x20000014), ("conv_weights", 0x20000C54), ("dense_weights", 0x20000F74),
        ("conv_bias", 0x2000C374), ("dense_bias", 0x2000C394)]
    # at F=8 every buffer ends exactly where the next begins
    bufs = list(lay)
    for a, b in zip(bufs, bufs[1:]):
        assert a.end == b.address
    assert lay.end == 0x2000C3BC


def test_sizes_follow_filters_addresses_fixed():
    lay = L.seed_layout(4)
    assert lay["conv_weights"].count == 100
    assert lay["dense_weights"].count == 5760
    assert lay["dense_weights"].address == 0x20000F74
    with pytest.raises(LayoutError):
        L.seed_layout(9)
    with pytest.raises(LayoutError):
        L.seed_layout(0)


def test_element_order_formulas(random_weights):
    w = random_weights
    lay = L.seed_layout(w.filters)
    image = np.random.default_rng(0).normal(size=(28, 28, 1)).astype(np.float32)
    p = lay.pack({**w.tensors(), "input": image})
    f, k = w.filters, 12 * 12 * w.filters
    for y, x in [(0, 1), (3, 17), (27, 5)]:
        assert p["input"][x * 28 + y] == image[y, x, 0]
    for o, i, j in [(0, 1, 2), (7, 4, 0), (3, 2, 4)]:
        assert p["conv_weights"][o * 25 + j * 5 + i] == w.conv_kernel[i, j, 0, o]
    for c, kk in [(0, 5), (9, k - 1), (4, 700)]:
        assert p["dense_weights"][c * k + kk] == w.dense_kernel[kk, c]
    assert f == 8


def test_pack_is_the_seed_notebooks_transpose_flatten(random_weights):
    w = random_weights
    lay = L.seed_layout(8)
    image = np.random.default_rng(1).normal(size=(28, 28, 1)).astype(np.float32)
    seed = {"conv_weights": w.conv_kernel.T.flatten(order="C"),
            "dense_weights": w.dense_kernel.T.flatten(order="C"),
            "input": image.T.flatten(order="C"),
            "conv_bias": w.conv_bias.flatten(order="C"),
            "dense_bias": w.dense_bias.flatten(order="C")}
    packed = lay.pack({**w.tensors(), "input": image})
    for name, arr in seed.items():
        np.testing.assert_array_equal(packed[name], arr)
        np.testing.assert_array_equal(lay[name].unpack(arr), {**w.tensors(), "input": image}[name])


def test_flatten_index_matches_keras(random_weights):
    """k = (row*12 + col)*F + o is Keras' own Flatten order of the pooled map."""
    from armsim._tf import import_keras

    keras = import_keras()
    m = M.from_weights(random_weights)
    image = np.random.default_rng(2).normal(size=(1, 28, 28, 1)).astype(np.float32)
    pooled = np.asarray(keras.Model(m.input, m.get_layer("pool").output)(image))[0]
    flat = np.asarray(keras.Model(m.input, m.get_layer("flatten").output)(image))[0]
    f = random_weights.filters
    for row, col, o in [(0, 0, 1), (5, 11, 7), (11, 3, 0)]:
        assert flat[(row * 12 + col) * f + o] == pooled[row, col, o]


def test_numpy_reference_matches_keras(random_weights):
    m = M.from_weights(random_weights)
    images = np.random.default_rng(3).uniform(-1, 1, (4, 28, 28, 1)).astype(np.float32)
    host = M.predict(m, images)
    ref = np.stack([M.reference(random_weights, im) for im in images])
    np.testing.assert_allclose(ref, host, atol=1e-6)


def test_c_header_is_derived_from_the_layout():
    from armsim.cgen import layout_header

    h = layout_header(L.seed_layout(6))
    assert "#define ARMSIM_CONV_WEIGHTS_ADDR  0x20000C54u" in h
    assert "#define ARMSIM_DENSE_WEIGHTS_COUNT 8640" in h
    assert "#define ARMSIM_FILTERS    6" in h


def test_pack_many_matches_pack_per_item(random_weights):
    lay = L.seed_layout(8)
    images = np.random.default_rng(4).normal(size=(5, 28, 28, 1)).astype(np.float32)
    rows = lay["input"].pack_many(images)
    for row, im in zip(rows, images):
        np.testing.assert_array_equal(row, lay["input"].pack(im))
    with pytest.raises(LayoutError):
        lay["input"].pack_many(images[:, :27])
