"""The memory plan: the seed preset checked against the notebook and Keras itself, and the
generated planner's arena checked against the graph's lifetimes."""

from __future__ import annotations

import numpy as np
import pytest

from armsim.errors import LayoutError
from armsim.plan import make_plan
from armsim.plan.seed import seed_graph, seed_plan


def test_addresses_are_the_seeds_and_contiguous():
    plan = seed_plan(seed_graph(8))
    assert [(b.name, b.address) for b in plan] == [
        ("input", 0x20000014), ("conv_weights", 0x20000C54), ("dense_weights", 0x20000F74),
        ("conv_bias", 0x2000C374), ("dense_bias", 0x2000C394)]
    bufs = list(plan)
    for a, b in zip(bufs, bufs[1:]):  # at F=8 every buffer ends where the next begins
        assert a.end == b.address
    assert max(b.end for b in plan) == 0x2000C3BC
    assert plan.arena[0] == 0x2000C3C0


def test_sizes_follow_filters_addresses_fixed():
    plan = seed_plan(seed_graph(4))
    assert plan["conv_weights"].count == 100
    assert plan["dense_weights"].count == 5760
    assert plan["dense_weights"].address == 0x20000F74
    assert plan.arena[0] == 0x2000C3C0  # the reservation keeps room for F=8
    for bad in (0, 9):
        with pytest.raises(LayoutError):
            seed_graph(bad)


def test_element_order_formulas(random_weights):
    w = random_weights
    plan = seed_plan(seed_graph(8, w))
    image = np.random.default_rng(0).normal(size=(28, 28, 1)).astype(np.float32)
    p = plan.pack({**w, "input": image})
    k = 12 * 12 * 8
    for y, x in [(0, 1), (3, 17), (27, 5)]:
        assert p["input"][x * 28 + y] == image[y, x, 0]
    for o, i, j in [(0, 1, 2), (7, 4, 0), (3, 2, 4)]:
        assert p["conv_weights"][o * 25 + j * 5 + i] == w["conv_weights"][i, j, 0, o]
    for c, kk in [(0, 5), (9, k - 1), (4, 700)]:
        assert p["dense_weights"][c * k + kk] == w["dense_weights"][kk, c]


def test_pack_is_the_seed_notebooks_transpose_flatten(random_weights):
    w = random_weights
    plan = seed_plan(seed_graph(8, w))
    image = np.random.default_rng(1).normal(size=(28, 28, 1)).astype(np.float32)
    tensors = {**w, "input": image}
    for name, arr in tensors.items():
        packed = plan[name].pack(arr)
        np.testing.assert_array_equal(packed, arr.T.flatten(order="C"))
        np.testing.assert_array_equal(plan[name].unpack(packed), arr)


def test_strides_are_the_transposed_orders():
    plan = seed_plan(seed_graph(8))
    assert plan["input"].strides() == (1, 28, 784)  # (row, col, ch): IN[x*28 + y]
    assert plan["conv_weights"].strides() == (1, 5, 25, 25)  # (i, j, in, o)
    assert plan["dense_weights"].strides() == (1, 1152)  # (k, c): W2[c*K + k]


def test_flatten_index_matches_keras(random_weights):
    """k = (row*12 + col)*F + o is Keras' own Flatten order of the pooled map."""
    from armsim.model.tfimport import import_keras
    from armsim.model.train import seed_model_from

    keras = import_keras()
    m = seed_model_from(random_weights)
    image = np.random.default_rng(2).normal(size=(1, 28, 28, 1)).astype(np.float32)
    pooled = np.asarray(keras.Model(m.input, m.get_layer("pool").output)(image))[0]
    flat = np.asarray(keras.Model(m.input, m.get_layer("flatten").output)(image))[0]
    for row, col, o in [(0, 0, 1), (5, 11, 7), (11, 3, 0)]:
        assert flat[(row * 12 + col) * 8 + o] == pooled[row, col, o]


def test_seed_graph_equals_the_keras_frontends(random_weights):
    """The seed preset's own graph and the frontend's reading of the Keras model agree."""
    from armsim.model import reference
    from armsim.model.frontends.keras import to_graph
    from armsim.plan.seed import matches
    from armsim.model.train import seed_model_from

    m = seed_model_from(random_weights)
    g = to_graph(m, "seed")
    assert matches(g) == 8
    ours = seed_graph(8, random_weights)
    assert [(o.kind, o.attrs.get("kernel")) for o in g.ops] == \
        [(o.kind, o.attrs.get("kernel")) for o in ours.ops]
    x = np.random.default_rng(3).uniform(-1, 1, (28, 28, 1)).astype(np.float32)
    host = np.asarray(m(x[None]))[0]
    np.testing.assert_allclose(reference.outputs(ours, x), host, atol=1e-6)
    np.testing.assert_allclose(reference.outputs(g, x), host, atol=1e-6)


def test_c_header_is_derived_from_the_plan():
    from armsim.firmware.render import plan_header

    h = plan_header(seed_graph(6), seed_plan(seed_graph(6)))
    assert "#define ARMSIM_SEED_CONV_WEIGHTS_ADDR 0x20000C54u" in h
    assert "#define ARMSIM_SEED_DENSE_WEIGHTS_COUNT 8640" in h
    assert "IN[x*28 + y] = image[y][x]" in h


def test_pack_many_matches_pack_per_item():
    plan = seed_plan(seed_graph(8))
    images = np.random.default_rng(4).normal(size=(5, 28, 28, 1)).astype(np.float32)
    rows = plan["input"].pack_many(images)
    for row, im in zip(rows, images):
        np.testing.assert_array_equal(row, plan["input"].pack(im))
    with pytest.raises(LayoutError):
        plan["input"].pack(images[0, :27])


def test_auto_picks_the_seed_only_for_the_seed(default_ref):
    """The seed preset where a script writes the weights (SRAM); the deployed default (weights
    in flash) is a generated plan, and the seed layout implies SRAM weights."""
    g, _ = default_ref
    assert make_plan(g, weights_in="sram").preset == "seed"
    assert make_plan(g, "seed").preset == "seed" and make_plan(g, "seed").weights_in == "sram"
    default = make_plan(g)
    assert default.preset == "auto" and default.weights_in == "flash"
    natural = make_plan(g, "natural", weights_in="sram")
    assert natural.preset == "auto" and natural.input.axes == (0, 1, 2)
    assert make_plan(g, base=0x20001000, weights_in="sram").preset == "auto"
    with pytest.raises(LayoutError, match="fixed SRAM addresses"):
        make_plan(g, "seed", weights_in="flash")


@pytest.mark.parametrize("name", ["resnet", "concat", "dscnn", "mobilenet"])
def test_arena_shares_bytes_only_between_disjoint_lifetimes(name):
    from armsim.model import zoo
    from armsim.model.frontends.keras import to_graph

    g = to_graph(zoo.build(name), name)
    plan = make_plan(g)
    arena = [b for b in plan.buffers if b.region == "arena"]
    assert {b.tensor for b in arena} >= {o.outputs[0] for o in g.ops if o.kind != "reshape"}
    lo, size = plan.arena
    for a in arena:
        assert a.address % 16 == 0 and lo <= a.address and a.end <= lo + size
        for b in arena:
            if a is b:
                continue
            overlap = a.address < b.end and b.address < a.end
            live_together = a.lifetime[0] <= b.lifetime[1] and b.lifetime[0] <= a.lifetime[1]
            assert not (overlap and live_together), (a.name, b.name)
    # the arena is smaller than every activation side by side (sharing happened)
    assert size < sum((b.nbytes + 15) // 16 * 16 for b in arena)
    # script buffers: in order from the base, aligned, not overlapping, before the arena
    script = list(plan)
    assert script[0].address == plan.base and script[0].role == "input"
    for a, b in zip(script, script[1:]):
        assert a.end <= b.address and b.address % 8 == 0
    assert script[-1].end <= lo


def test_flash_plan_keeps_weights_out_of_sram():
    from armsim.model import zoo
    from armsim.model.frontends.keras import to_graph

    g = to_graph(zoo.build("lenet5"), "lenet5")
    sram, flash = make_plan(g, weights_in="sram"), make_plan(g)
    assert [b.name for b in flash] == [g.inputs[0]]
    assert flash.flash_weight_bytes() == sum(t.size * 4 for t in g.constants())
    assert flash.sram_bytes() < sram.sram_bytes() - flash.flash_weight_bytes() + 64
