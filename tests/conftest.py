"""Shared fixtures: MNIST from ../shared (or $ARMSIM_MNIST_DIR), the bundled model, an ELF."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
if "ARMSIM_MNIST_DIR" not in os.environ and SHARED_MNIST.is_dir():
    os.environ["ARMSIM_MNIST_DIR"] = str(SHARED_MNIST)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    d = os.environ.get("ARMSIM_MNIST_DIR")
    if not d or not Path(d).is_dir():
        pytest.skip("no MNIST directory: set ARMSIM_MNIST_DIR")
    return Path(d)


@pytest.fixture(scope="session")
def test_split(mnist_dir: Path):
    from armsim import mnist

    return mnist.load("test", mnist_dir)


@pytest.fixture(scope="session")
def default_model():
    from armsim import model
    from armsim.cli import DEFAULT_MODEL, data_file

    return model.load(data_file(DEFAULT_MODEL))


@pytest.fixture(scope="session")
def random_weights():
    """Seed-architecture weights drawn at random (F=8), reproducibly."""
    from armsim import layout as L
    from armsim.model import SeedWeights

    rng = np.random.default_rng(1234)
    f = 8
    return SeedWeights(
        rng.normal(0, 0.3, (5, 5, 1, f)).astype(np.float32),
        rng.normal(0, 0.1, (f,)).astype(np.float32),
        rng.normal(0, 0.05, (L.POOLED * L.POOLED * f, 10)).astype(np.float32),
        rng.normal(0, 0.1, (10,)).astype(np.float32),
    )


@pytest.fixture(scope="session")
def m4_simulator_f8():
    from armsim import cpus, layout, mcu
    from armsim.simulate import Simulator

    return Simulator(layout.seed_layout(8), cpus.get_cpu("m4f"), mcu.get_mcu("generic"))
