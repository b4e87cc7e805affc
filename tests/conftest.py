"""Shared fixtures: MNIST from ../shared (or $ARMSIM_MNIST_DIR), the bundled model, sessions."""

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
    from armsim.model import mnist

    return mnist.load("test", mnist_dir)


@pytest.fixture(scope="session")
def default_ref():
    """(graph, Keras model) of the bundled seed model."""
    from armsim.model.inputs import DEFAULT_MODEL, data_file
    from armsim.model.frontends.load import load_model

    return load_model(data_file(DEFAULT_MODEL))


@pytest.fixture(scope="session")
def default_model(default_ref):
    return default_ref[1]


@pytest.fixture(scope="session")
def random_weights() -> dict[str, np.ndarray]:
    """Seed-architecture weights (F=8) drawn at random, by seed buffer name, Keras shapes."""
    rng = np.random.default_rng(1234)
    f = 8
    return {"conv_weights": rng.normal(0, 0.3, (5, 5, 1, f)).astype(np.float32),
            "conv_bias": rng.normal(0, 0.1, (f,)).astype(np.float32),
            "dense_weights": rng.normal(0, 0.05, (12 * 12 * f, 10)).astype(np.float32),
            "dense_bias": rng.normal(0, 0.1, (10,)).astype(np.float32)}


@pytest.fixture(scope="session")
def seed_session_f8():
    """The seed network (F=8, zero weights) on an M4F: a Session tests write memory into."""
    from armsim.plan.seed import seed_graph, seed_plan
    from armsim.session.session import Session

    g = seed_graph(8)
    return Session(g, seed_plan(g), "m4f", "generic")
