"""Training: a short run on a slice of MNIST, and (slow) the full seed recipe."""

from __future__ import annotations

import json

import pytest

from armsim.model.frontends.load import load_model
from armsim.plan.seed import matches
from armsim.cli import main


def test_short_training_prints_metrics_and_saves(tmp_path, mnist_dir, capsys):
    out = tmp_path / "m.keras"
    assert main(["train", "--data", str(mnist_dir), "--filters", "2", "--epochs", "1",
                 "--limit", "3000", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "Test accuracy:" in text and "Confusion matrix" in text and "macro avg" in text
    acc = float(text.split("Test accuracy:")[1].split()[0])
    assert 0.5 < acc <= 1.0  # 3,000 images and one epoch still learn something
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["filters"] == 2 and meta["seed"] == 0
    assert matches(load_model(out)[0]) == 2  # the seed architecture, F = 2
    assert main(["train", "--out", str(tmp_path / "m.h5")]) == 2  # refused before training
    assert "expected a .keras file" in capsys.readouterr().err


@pytest.mark.slow
def test_full_recipe_reaches_the_seeds_accuracy(tmp_path, mnist_dir, capsys):
    out = tmp_path / "full.keras"
    assert main(["train", "--data", str(mnist_dir), "--out", str(out), "--quiet"]) == 0
    acc = float(capsys.readouterr().out.split("Test accuracy:")[1].split()[0])
    assert acc >= 0.97
