"""Emulator vs the numpy reference vs Keras, on real digits and random weights."""

from __future__ import annotations

import numpy as np
import pytest

from armsim import compare
from armsim import layout as L
from armsim import mnist
from armsim import model as M

TOL = 1e-5


def test_bundled_model_on_test_digits(m4_simulator_f8, default_model, test_split):
    w = M.weights_of(default_model)
    lay = L.seed_layout(w.filters)
    sim = m4_simulator_f8
    sim.write_tensors(lay.pack(w.tensors()))
    idx = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 247, 1500]  # 247 is misclassified by most small CNNs
    images = mnist.scale(test_split.images[idx])
    host = M.predict(default_model, images)
    for i, image in enumerate(images):
        inf = sim.infer(lay["input"].pack(image))
        ref = M.reference(w, image)
        assert inf.predicted == int(np.argmax(host[i])) == int(np.argmax(ref))
        assert np.max(np.abs(inf.outputs - host[i])) <= TOL
        assert np.max(np.abs(inf.outputs - ref)) <= TOL
        assert compare.compare(inf.outputs, host[i]).agree


def test_random_weights_and_inputs(m4_simulator_f8, random_weights):
    lay = L.seed_layout(8)
    sim = m4_simulator_f8
    sim.write_tensors(lay.pack(random_weights.tensors()))
    host_model = M.from_weights(random_weights)
    images = np.random.default_rng(11).uniform(-1, 1, (3, 28, 28, 1)).astype(np.float32)
    host = M.predict(host_model, images)
    for i, image in enumerate(images):
        inf = sim.infer(lay["input"].pack(image))
        assert inf.predicted == int(np.argmax(host[i]))
        assert np.max(np.abs(inf.outputs - host[i])) <= TOL
        # intermediate buffers are readable through ELF symbols
        conv = sim.machine.read_f32("armsim_conv_out")
        assert conv.shape == (24 * 24 * 8,) and conv.min() >= 0.0


def test_fewer_filters_build_and_agree(random_weights):
    from armsim import cpus, mcu
    from armsim.model import SeedWeights
    from armsim.simulate import Simulator

    f = 3
    w = SeedWeights(random_weights.conv_kernel[..., :f], random_weights.conv_bias[:f],
                    np.random.default_rng(2).normal(0, 0.05, (144 * f, 10)).astype(np.float32),
                    random_weights.dense_bias)
    lay = L.seed_layout(f)
    sim = Simulator(lay, cpus.get_cpu("m4f"), mcu.get_mcu("generic"))
    image = np.random.default_rng(3).uniform(-1, 1, (28, 28, 1)).astype(np.float32)
    sim.write_tensors(lay.pack({**w.tensors(), "input": image}))
    inf = sim.run()
    ref = M.reference(w, image)
    assert inf.predicted == int(np.argmax(ref))
    assert np.max(np.abs(inf.outputs - ref)) <= TOL


def test_nan_never_agrees():
    a = np.full(10, 0.1, np.float32)
    b = a.copy()
    b[3] = np.nan
    c = compare.compare(a, b)
    assert not c.agree and c.nan
    assert compare.compare(a, a).agree


def test_build_is_cached_and_rebuilds_on_change(tmp_path, monkeypatch):
    import shutil

    from armsim import build as B
    from armsim import cpus, mcu

    kdir = tmp_path / "kernels"
    shutil.copytree(B.kernels_dir(), kdir)
    monkeypatch.setenv(B.KERNELS_ENV, str(kdir))
    monkeypatch.setenv(B.CACHE_ENV, str(tmp_path / "cache"))
    args = (cpus.get_cpu("m4f"), L.seed_layout(2), mcu.get_mcu("generic"))
    first = B.build(*args)
    again = B.build(*args)
    assert not first.cached and again.cached and again.elf == first.elf
    src = kdir / "src" / "argmax_f32.c"
    src.write_text(src.read_text() + "\n/* changed */\n")
    changed = B.build(*args)
    assert not changed.cached and changed.elf != first.elf


def test_missing_toolchain_is_a_clear_error(monkeypatch):
    from armsim import build as B
    from armsim.errors import ToolchainError

    monkeypatch.setenv(B.GCC_ENV, "/nonexistent/arm-none-eabi-gcc")
    with pytest.raises(ToolchainError, match="apt-get install"):
        B.find_gcc()
