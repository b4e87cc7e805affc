"""Writers: the seed's exact text, and write -> parse round trips that keep every bit."""

from __future__ import annotations

import numpy as np

from armsim.plan.seed import seed_graph, seed_plan
from armsim.script.load import parse_text
from armsim.script.check import tensors
from armsim.script.writer import hex_format, seed_format


def _small_case():
    lay = seed_plan(seed_graph(1))
    w = {"conv_weights": np.arange(25, dtype=np.float32).reshape(5, 5, 1, 1) / 4,
         "conv_bias": np.array([-0.5], np.float32),
         "dense_weights": np.full((144, 10), 0.25, np.float32),
         "dense_bias": np.arange(10, dtype=np.float32)}
    image = np.full((28, 28, 1), -1.0, np.float32)
    image[0, 1, 0] = 1.0  # row 0, column 1 -> IN[1*28 + 0]
    return lay, lay.pack({**w, "input": image})


def test_seed_format_text_for_a_small_known_case():
    lay, packed = _small_case()
    text = seed_format(lay, packed)
    lines = text.splitlines(keepends=True)
    assert len(lines) == 25 + 1440 + 784 + 1 + 10
    # conv kernels first: W1[j*5 + i] = kernel[i][j] = (5i + j) / 4
    assert lines[0] == "_WFLOAT (536874068,0.0) \n"
    assert lines[1] == "_WFLOAT (536874072,1.25) \n"   # i=1, j=0 -> 5/4
    assert lines[5] == "_WFLOAT (536874088,0.25) \n"   # i=0, j=1 -> 1/4
    assert lines[25] == "_WFLOAT (536874868,0.25) \n"  # dense weights start
    first_input = 25 + 1440
    assert lines[first_input] == "_WFLOAT (536870932,-1.0) \n"
    assert lines[first_input + 28] == "_WFLOAT (536871044,1.0) \n"
    assert lines[first_input + 784] == "_WFLOAT (536920948,-0.5) \n"
    assert lines[-1] == "_WFLOAT (536921016,9.0) \n"


def _hard_floats(n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    v = bits.view(np.float32).copy()
    v[~np.isfinite(v)] = 0
    special = np.array([-0.0, 1e-45, -1e-45, 1.1754942e-38, 1.1754944e-38, 3.4028235e38,
                        -3.4028235e38, 0.1, 1 / 3], np.float32)
    v[:special.size] = special
    return v


def test_every_float32_survives_seed_and_hex_round_trip():
    lay = seed_plan(seed_graph(8))
    packed = {b.name: np.zeros(b.count, np.float32) for b in lay}
    packed["dense_weights"] = _hard_floats(lay["dense_weights"].count)
    for fmt in (seed_format, hex_format):
        script = parse_text(fmt(lay, packed))
        got = tensors(script, lay)
        for name, arr in packed.items():
            np.testing.assert_array_equal(got[name].view(np.uint32), arr.view(np.uint32))


def test_generated_plan_round_trips_through_hex(tmp_path):
    """Any plan's script buffers survive hex export and parsing, bit for bit."""
    from armsim.model import zoo
    from armsim.model.frontends.keras import to_graph
    from armsim.plan import make_plan

    g = to_graph(zoo.build("conv1d"), "conv1d")
    plan = make_plan(g, weights_in="sram")  # the script carries the weights
    packed = plan.pack({b.name: g.tensors[b.tensor].data for b in plan if b.role != "input"})
    packed[plan.input.name] = plan.input.pack(zoo.sample_inputs(zoo.build("conv1d"), 1)[0])
    text = hex_format(plan, packed, ["header"])
    assert text.startswith("// header\n")
    assert f"// {plan.input.name}: 192 x f32 at 0x20000000" in text
    got = tensors(parse_text(text), plan)
    assert set(got) == set(packed)
    for name, arr in packed.items():
        np.testing.assert_array_equal(got[name].view(np.uint32), arr.view(np.uint32))
