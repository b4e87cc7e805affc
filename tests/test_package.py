"""The package works outside the repository: the wheel carries kernels, runtime, linker
script and bundled data, and a non-editable install simulates and profiles from /tmp."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(out)], check=True,
                   capture_output=True)
    (whl,) = out.glob("armsim-*.whl")
    return whl


def test_wheel_file_list(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    kernels = {p.relative_to(ROOT).as_posix() for p in (ROOT / "kernels").rglob("*")
               if p.is_file()}
    assert kernels, "no kernel sources in the checkout"
    missing = {f"armsim/{k}" for k in kernels} - names
    assert not missing, missing
    for must in ("armsim/kernels/runtime/armsim.ld", "armsim/kernels/runtime/startup.c",
                 "armsim/kernels/include/armsim_nn.h", "armsim/kernels/baseline.json",
                 "armsim/data/default_model.keras", "armsim/data/digits.npz",
                 "armsim/cli/__init__.py", "armsim/plan/seed.py"):
        assert must in names, must
    assert not any(n.startswith(("tests/", "kernels/")) for n in names)


@pytest.mark.slow
def test_installed_copy_runs_from_another_directory(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target), "ARMSIM_CACHE_DIR": str(tmp_path / "c")}
    env.pop("ARMSIM_KERNELS_DIR", None)
    where = subprocess.run([sys.executable, "-c", "import armsim; print(armsim.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(target))
    sim = subprocess.run([sys.executable, "-m", "armsim", "simulate", "--json"], cwd=tmp_path,
                         env=env, capture_output=True, text=True)
    assert sim.returncode == 0, sim.stderr
    assert all(r["agree"] for r in json.loads(sim.stdout))
    prof = subprocess.run([sys.executable, "-m", "armsim", "profile", "--json"], cwd=tmp_path,
                          env=env, capture_output=True, text=True)
    assert prof.returncode == 0, prof.stderr
    assert json.loads(prof.stdout)["total_instructions"] > 0


@pytest.mark.slow
def test_installed_copy_runs_int8_with_cmsis_nn_from_the_environment(wheel, tmp_path):
    """Outside the checkout CMSIS-NN comes from $ARMSIM_CMSIS_NN_DIR; without it, int8 is a
    clear exit 2 and float32 still runs."""
    from armsim.firmware import cmsis

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target), "ARMSIM_CACHE_DIR": str(tmp_path / "c"),
           "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env.pop("ARMSIM_KERNELS_DIR", None)
    env.pop(cmsis.ENV, None)
    run = lambda *a, e=env: subprocess.run([sys.executable, "-m", "armsim", *a],  # noqa: E731
                                           cwd=tmp_path, env=e, capture_output=True, text=True)
    q = run("quantize", str(ROOT / "armsim" / "data" / "default_model.keras"), "--calibration",
            "16", "--out", "m.tflite", "--data", str(ROOT.parent / "shared" / "data" / "mnist"))
    assert q.returncode == 0, q.stderr
    no = run("simulate", "--model", "m.tflite", "--image", "0", "--data",
             str(ROOT.parent / "shared" / "data" / "mnist"))
    assert no.returncode == 2 and "CMSIS-NN not found" in no.stderr, no.stderr
    yes = run("simulate", "--model", "m.tflite", "--json",
              e={**env, cmsis.ENV: str(cmsis.locate().root)})
    assert yes.returncode == 0, yes.stderr
    assert all(r["agree"] for r in json.loads(yes.stdout))
