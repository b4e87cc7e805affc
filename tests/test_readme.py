"""The README's library example runs as written (extracted from the README, so the two
cannot drift), and armsim's public names are the functions whatever was imported before."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def library_example() -> str:
    """The first Python block after the README's "### The library" heading."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### The library"):]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m, "the README's library section has no python block"
    return m.group(1)


@pytest.fixture(scope="module")
def example_dir(tmp_path_factory) -> Path:
    """The files the example names: a keyword-spotting model and MFCC inputs."""
    from armsim.model import zoo

    d = tmp_path_factory.mktemp("readme")
    m = zoo.build("dscnn")
    m.save(d / "kws.keras")
    np.save(d / "mfcc.npy", zoo.sample_inputs(m, 2))
    return d


@pytest.mark.parametrize("before", ["", "import armsim.session.profile, armsim.plan.buffers, "
                                        "armsim.firmware.build, armsim.model.frontends\n"])
def test_readme_library_example_runs_as_written(example_dir, before):
    code = before + library_example()
    proc = subprocess.run([sys.executable, "-c", code], cwd=example_dir, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    totals = [int(float(v)) for v in lines[-1].split()]
    assert totals[0] > 100_000 and totals[1] > 0 and totals[2] > 0


def test_public_names_are_functions_whatever_was_imported():
    code = ("import armsim.session.profile, armsim.plan, armsim.firmware.build\n"
            "import armsim\n"
            "from armsim.session import profile as P\n"
            "assert callable(armsim.profile) and armsim.profile is P.profile\n"
            "assert callable(armsim.plan) and callable(armsim.build) and armsim.Session\n"
            "assert armsim.load_model.__module__ == 'armsim.model.frontends.load'\n"
            "print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_import_armsim_loads_neither_tensorflow_nor_the_emulator():
    code = ("import sys, armsim\n"
            "heavy = [m for m in ('tensorflow', 'keras', 'unicorn', 'armsim.machine.emulator') "
            "if m in sys.modules]\n"
            "print(heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_old_module_paths_name_the_new_modules():
    """Code written against the paths before the package redesign keeps working: each old
    module path is the new module, and the old ``armsim.profile`` module stays callable."""
    code = ("import armsim\n"
            "from armsim.emulator import Machine\n"
            "from armsim.machine import emulator\n"
            "from armsim.image_run import run_image\n"
            "from armsim.session import Session\n"
            "import armsim.codegen.firmware as F, armsim.firmware.build as B\n"
            "from armsim.profile import Profile\n"
            "import armsim.profile\n"
            "assert Machine is emulator.Machine and F is B and callable(armsim.profile)\n"
            "assert armsim.profile.Profile is Profile and armsim.Session is Session\n"
            "print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
