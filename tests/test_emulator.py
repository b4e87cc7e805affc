"""Emulator vs the numpy reference vs Keras on the seed, with real digits and random weights."""

from __future__ import annotations

import numpy as np
import pytest

from armsim.check import compare
from armsim.model import keras_host as host
from armsim.model import mnist
from armsim.model import reference
from armsim.plan import make_plan
from armsim.plan.seed import seed_graph, seed_plan
from armsim.session.session import Session

TOL = 1e-5


def test_bundled_model_on_test_digits(default_ref, test_split):
    g, model = default_ref
    s = Session(g, make_plan(g), "m4f", "generic")
    idx = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 247, 1500]  # 247 is misclassified by most small CNNs
    images = mnist.scale(test_split.images[idx])
    h = host.predict(model, images)
    for i, image in enumerate(images):
        r = s.run(image)
        ref = reference.outputs(g, image)
        assert r.predicted == int(np.argmax(h[i])) == int(np.argmax(ref))
        assert np.max(np.abs(r.outputs - h[i])) <= TOL
        assert np.max(np.abs(r.outputs - ref)) <= TOL
        assert compare.compare(r.outputs, h[i]).agree


def test_random_weights_and_inputs_with_intermediates(random_weights):
    from armsim.model.train import seed_model_from

    g = seed_graph(8, random_weights)
    s = Session(g, seed_plan(g), "m4f", "generic")
    model = seed_model_from(random_weights)
    images = np.random.default_rng(11).uniform(-1, 1, (3, 28, 28, 1)).astype(np.float32)
    h = host.predict(model, images)
    for i, image in enumerate(images):
        r = s.run(image, per_op=True)
        assert r.predicted == int(np.argmax(h[i]))
        assert np.max(np.abs(r.outputs - h[i])) <= TOL
        # every op's output was read before the arena reused its bytes
        ref = reference.evaluate(g, image)
        for name in ("conv", "pool", "dense"):
            np.testing.assert_allclose(r.tensors[name], ref[name], atol=2e-5, rtol=1e-5)
        assert r.tensors["conv"].min() >= 0.0


def test_fewer_filters_build_and_agree(random_weights):
    f = 3
    w = {"conv_weights": random_weights["conv_weights"][..., :f],
         "conv_bias": random_weights["conv_bias"][:f],
         "dense_weights": np.random.default_rng(2).normal(0, 0.05, (144 * f, 10)).astype(np.float32),
         "dense_bias": random_weights["dense_bias"]}
    g = seed_graph(f, w)
    s = Session(g, seed_plan(g), "m4f", "generic")
    image = np.random.default_rng(3).uniform(-1, 1, (28, 28, 1)).astype(np.float32)
    r = s.run(image)
    ref = reference.outputs(g, image)
    assert r.predicted == int(np.argmax(ref))
    assert np.max(np.abs(r.outputs - ref)) <= TOL


def test_nan_never_agrees():
    a = np.full(10, 0.1, np.float32)
    b = a.copy()
    b[3] = np.nan
    c = compare.compare(a, b)
    assert not c.agree and c.nan
    assert compare.compare(a, a).agree
    assert not compare.compare(b, b).agree  # NaN in the same place on both sides still fails


def test_build_is_cached_and_rebuilds_on_change(tmp_path, monkeypatch):
    import shutil

    from armsim.parts import cpus
    from armsim.parts import mcus as mcu
    from armsim.firmware import build as B
    from armsim.firmware import kernels as K
    from armsim.firmware import toolchain as T

    kdir = tmp_path / "kernels"
    shutil.copytree(K.kernels_dir(), kdir)
    monkeypatch.setenv(K.KERNELS_ENV, str(kdir))
    monkeypatch.setenv(T.CACHE_ENV, str(tmp_path / "cache"))
    args = (cpus.get_cpu("m4f"), seed_plan(seed_graph(2)), mcu.get_mcu("generic"))
    first = B.build(*args)
    again = B.build(*args)
    assert not first.cached and again.cached and again.elf == first.elf
    src = kdir / "ref" / "armsim_argmax_f32.c"
    src.write_text(src.read_text() + "\n/* changed */\n")
    changed = B.build(*args)
    assert not changed.cached and changed.elf != first.elf


def test_missing_toolchain_is_a_clear_error(monkeypatch):
    from armsim.errors import ToolchainError
    from armsim.firmware import toolchain as T

    monkeypatch.setenv(T.GCC_ENV, "/nonexistent/arm-none-eabi-gcc")
    with pytest.raises(ToolchainError, match="apt-get install"):
        T.find_gcc()
