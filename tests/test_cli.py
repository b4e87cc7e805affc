"""The armsim command as a user runs it: JSON output, exit codes, errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from armsim.cli import main

HERE = Path(__file__).resolve().parent


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "armsim", *args], capture_output=True,
                          text=True, env=os.environ.copy())


@pytest.fixture(scope="module")
def seed_script(tmp_path_factory, mnist_dir) -> Path:
    """A script written by the seed notebook's own export code for the bundled model."""
    from armsim.model.inputs import DEFAULT_MODEL, data_file

    out = tmp_path_factory.mktemp("seed") / "init2.ini"
    subprocess.run([sys.executable, str(HERE / "helpers" / "seed_notebook_export.py"),
                    str(data_file(DEFAULT_MODEL)), str(mnist_dir), "455", str(out), "train"],
                   check=True)
    return out


def test_simulate_seed_script_json(seed_script, capsys):
    assert main(["simulate", "--script", str(seed_script), "--filters", "8", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert set(r) >= {"predicted", "outputs", "instructions", "host", "max_abs_diff"}
    assert r["predicted"] == r["host"]["predicted"] == 1  # train image 455 is a 1 (seed In [50])
    assert len(r["outputs"]) == 10 and abs(sum(r["outputs"]) - 1) < 1e-5
    assert r["max_abs_diff"] <= 1e-5
    assert r["instructions"] > 300_000  # the optimized kernels: about 420,000 on this digit
    assert r["host_source"] == "rebuilt from the script's weights" and "not the layout" in r["note"]


def test_simulate_seed_script_with_model_and_inferred_filters(seed_script, capsys):
    from armsim.model.inputs import DEFAULT_MODEL, data_file

    assert main(["simulate", "--script", str(seed_script), "--model",
                 str(data_file(DEFAULT_MODEL)), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["predicted"] == r["host"]["predicted"]
    assert r["max_abs_diff"] <= 1e-5


def test_export_is_byte_identical_to_the_seed_notebook(seed_script, tmp_path, mnist_dir, capsys):
    from armsim.model.inputs import DEFAULT_MODEL, data_file

    out = tmp_path / "ours.ini"
    assert main(["export", str(data_file(DEFAULT_MODEL)), "--image", "455", "--split", "train",
                 "--data", str(mnist_dir), "--out", str(out)]) == 0
    assert out.read_bytes() == seed_script.read_bytes()


def test_default_simulate_table(capsys):
    assert main(["simulate"]) == 0
    out = capsys.readouterr().out
    assert "10/10 agree" in out


def test_disagreement_exits_1(seed_script, tmp_path, capsys):
    """A script whose dense bias was tampered with disagrees with the bundled model."""
    from armsim.model.inputs import DEFAULT_MODEL, data_file

    lines = seed_script.read_text().splitlines(keepends=True)
    lines[-8] = "_WFLOAT (536920988,25.0) \n"  # dense bias of class 2 -> 25
    bad = tmp_path / "tampered.ini"
    bad.write_text("".join(lines))
    assert main(["simulate", "--script", str(bad), "--model", str(data_file(DEFAULT_MODEL)),
                 "--json"]) == 1
    r = json.loads(capsys.readouterr().out)
    assert r["predicted"] == 2 and r["host"]["predicted"] == 1


@pytest.mark.parametrize("content, expect", [
    ("_WFLOAT (536874068,0.1)\n_WFLOAT (536874072,0.x)\n", ":2:"),
    ("_WFLOAT (536874068,0.1)\n", "conv_weights: writes 1 values"),
    ("_WFLOAT (536874070,0.1)\n", "not 4-byte aligned"),
    ("_WFLOAT (4294965248,0.1)\n", "outside mapped memory"),
])
def test_bad_scripts_exit_2_without_traceback(tmp_path, content, expect):
    p = tmp_path / "bad.ini"
    p.write_text(content)
    r = run_cli("simulate", "--script", str(p), "--filters", "8")
    assert r.returncode == 2
    assert expect in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_bad_files_exit_2(tmp_path, capsys, mnist_dir):
    assert main(["simulate", "--script", str(tmp_path / "missing.ini")]) == 2
    assert "cannot read script" in capsys.readouterr().err
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a zip")
    assert main(["simulate", "--model", str(junk)]) == 2
    assert "not a Keras model" in capsys.readouterr().err
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK\x03\x04 truncated")
    assert main(["simulate", "--model", str(broken)]) == 2
    assert "damaged .keras archive" in capsys.readouterr().err
    assert main(["export", str(junk), "--image", "0", "--out", str(tmp_path / "x.ini")]) == 2
    assert main(["simulate", "--image", "10000"]) == 2
    assert "out of range" in capsys.readouterr().err


def test_unsupported_layer_is_refused_naming_it(tmp_path, capsys):
    from armsim.model.tfimport import import_keras

    keras = import_keras()
    m = keras.Sequential([keras.Input((28, 28, 1)),
                          keras.layers.UnitNormalization(name="up"),
                          keras.layers.UnitNormalization(name="deconv"),
                          keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    p = tmp_path / "up.keras"
    m.save(p)
    r = run_cli("simulate", "--model", str(p))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    # every unsupported layer at once, by index, name and type; what is supported; and
    # whether --runtime tflm would run it (TFLM's resolver asked about the converted file)
    assert "2 layer(s) armsim's generated firmware does not run: layer 0 layer 'up' " \
        "(UnitNormalization); layer 1 layer 'deconv' (UnitNormalization)" in r.stderr
    assert "Supported layers:" in r.stderr and "DepthwiseConv2D" in r.stderr
    assert "--runtime tflm runs the float32 .tflite TFLiteConverter makes of up.keras" \
        in r.stderr


def test_any_mlp_runs_on_mnist(tmp_path, capsys):
    """A model the seed layout cannot hold gets a generated plan and agrees with Keras."""
    from armsim.model.tfimport import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(3)
    m = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                          keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
    p = tmp_path / "mlp.keras"
    m.save(p)
    assert main(["simulate", "--model", str(p), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 10 and all(r["agree"] for r in rows)


def test_hex_export_runs(tmp_path, mnist_dir, capsys):
    from armsim.model.inputs import DEFAULT_MODEL, data_file

    out = tmp_path / "hex.ini"
    assert main(["export", str(data_file(DEFAULT_MODEL)), "--image", "3", "--data",
                 str(mnist_dir), "--out", str(out), "--format", "hex"]) == 0
    assert out.read_text().startswith("// armsim")
    capsys.readouterr()
    assert main(["simulate", "--script", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["predicted"] == 0  # test image 3 is a 0


def test_tf_noise_does_not_reach_the_terminal():
    r = run_cli("simulate", "--json")
    assert r.returncode == 0
    assert r.stderr == ""
    assert len(json.loads(r.stdout)) == 10
    assert np.all([d["agree"] for d in json.loads(r.stdout)])


@pytest.mark.parametrize("args, words", [
    (["validate", "--start", "-3"], "must be 0 or more"),
    (["simulate", "--tolerance", "-1"], "must be 0 or more"),
    (["profile", "--wait-states", "-1"], "must be 0 or more"),
    (["simulate", "--timeout", "0"], "must be a positive number"),
    (["profile", "--top", "-1"], "must be 0 or more"),
    (["profile", "--json", "--csv"], "not allowed with argument"),
    (["simulate", "--no-host"], "--no-host only applies with --script"),
    (["validate", "--n", "20000"], "there are 10000"),
    (["validate", "--start", "9995", "--n", "10"], "asks for inputs up to 10004"),
    (["export", "MODEL", "--image", "0", "--out", "/nonexistent/dir/x.ini"], "does not exist"),
    (["export", "MODEL", "--image", "0", "--out", "/tmp"], "is a directory"),
    (["profile", "--plot", "/tmp/x.svg"], "expected a .png file"),
    (["profile", "--speedscope", "/tmp"], "is a directory"),
    (["simulate", "--mcu", "rp2040", "--cpu", "m4f"], "does not match MCU preset 'rp2040'"),
    (["simulate", "--model", "/tmp"], "is a directory"),
    (["simulate", "--data", "/etc/hostname", "--image", "1"], "is a file"),
    (["train", "--out", "t.h5"], "expected a .keras file"),
])
def test_nonsense_is_exit_2_with_a_message(args, words, mnist_dir):
    from armsim.model.inputs import DEFAULT_MODEL, data_file

    args = [str(data_file(DEFAULT_MODEL)) if a == "MODEL" else a for a in args]
    r = run_cli(*args)
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    assert words in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_script_with_image_and_empty_script_are_refused_or_flagged(tmp_path, capsys):
    empty = tmp_path / "empty.ini"
    empty.write_text("")
    assert main(["simulate", "--script", str(empty), "--image", "1"]) == 2
    assert "carries its own input" in capsys.readouterr().err
    assert main(["script", "check", str(empty), "--json", "--strict"]) == 1
    rep = json.loads(capsys.readouterr().out)[0]
    assert any("no statements: it does nothing" in w for w in rep["warnings"])
    assert any("memory map only" in n for n in rep["notes"])
    empty_model = tmp_path / "e.keras"
    empty_model.write_bytes(b"")
    assert main(["simulate", "--model", str(empty_model)]) == 2
    assert "is empty" in capsys.readouterr().err


def test_raw_pixels_in_a_seed_script_are_flagged(tmp_path, capsys, mnist_dir):
    from armsim.model.inputs import DEFAULT_MODEL, data_file

    good = tmp_path / "g.ini"
    assert main(["export", str(data_file(DEFAULT_MODEL)), "--image", "0", "--out", str(good),
                 "--mnist-scale", "raw"]) == 0
    capsys.readouterr()
    assert main(["script", "check", str(good), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)[0]
    assert any("raw 0..255 pixels" in w for w in rep["warnings"])


def test_broken_pipe_exits_quietly():
    p = subprocess.run(f"{sys.executable} -m armsim profile --json | head -1", shell=True,
                       capture_output=True, text=True, env=os.environ.copy())
    assert p.stdout.strip() == "{"
    assert "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr


def test_help_lists_every_command_without_markup():
    r = run_cli("--help")
    for cmd in ("train", "export", "plan", "build", "simulate", "validate", "profile",
                "regress", "script"):
        assert f"    {cmd}" in r.stdout
    assert "``" not in r.stdout and "[/]" not in r.stdout
    t = run_cli("train", "--help")
    assert "default 5" in t.stdout and "default 8" in t.stdout and "random seed" in t.stdout


def test_two_input_model_is_refused_by_the_cli(tmp_path, capsys):
    from armsim.model.tfimport import import_keras

    k = import_keras()
    a, b = k.Input((4,), name="a"), k.Input((4,), name="b")
    m = k.Model([a, b], k.layers.Dense(2)(k.layers.Add()([a, b])))
    p = tmp_path / "two.keras"
    m.save(p)
    assert main(["simulate", "--model", str(p), "--inputs", str(p)]) == 2
    assert "has 2 inputs" in capsys.readouterr().err


def test_commands_without_a_host_model_do_not_import_tensorflow(tmp_path, mnist_dir):
    """Commands with no host model stay light: no TensorFlow or Keras import (checked in a
    fresh interpreter, by sys.modules, not by a timing)."""
    from armsim.model.inputs import DEFAULT_MODEL, data_file

    script = tmp_path / "s.ini"
    elf = tmp_path / "seed.elf"
    assert main(["export", str(data_file(DEFAULT_MODEL)), "--image", "0", "--out",
                 str(script)]) == 0
    assert main(["build", "--out", str(elf)]) == 0
    s, e = str(script), str(elf)
    for argv in (["script", "check", s, "--json"],
                 ["simulate", "--script", s, "--no-host", "--json"],
                 ["simulate", "--script", s, "--no-host", "--elf", e, "--json"],
                 ["profile", "--script", s, "--no-host", "--elf", e, "--json"],
                 ["run", e, "--json"],
                 ["--version"], ["--help"], ["simulate", "--help"]):
        code = ("import sys, io, contextlib\nfrom armsim.cli import main\n"
                "with contextlib.redirect_stdout(io.StringIO()):\n"
                f"    try:\n        rc = main({argv!r})\n"
                "    except SystemExit as ex:\n        rc = ex.code\n"
                "print(rc, 'tensorflow' in sys.modules, 'keras' in sys.modules)")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=os.environ.copy())
        assert r.stdout.split()[-3:] == ["0", "False", "False"], (argv, r.stdout + r.stderr)


def test_empty_script_and_raw_pixels_in_simulate(tmp_path, capsys, mnist_dir):
    from armsim.model.inputs import DEFAULT_MODEL, data_file

    empty = tmp_path / "empty.ini"
    empty.write_text("// nothing here\n")
    assert main(["simulate", "--script", str(empty)]) == 2
    assert "writes no memory" in capsys.readouterr().err
    raw = tmp_path / "raw.ini"
    assert main(["export", str(data_file(DEFAULT_MODEL)), "--image", "0", "--out", str(raw),
                 "--mnist-scale", "raw"]) == 0
    capsys.readouterr()
    main(["simulate", "--script", str(raw), "--json"])
    r = json.loads(capsys.readouterr().out)
    assert any("raw 0..255 pixels" in w for w in r["warnings"])


def test_piped_tables_are_wide_and_keep_memory_operands():
    """Not a terminal: tables are not cut at 80 columns, and disassembly keeps [r3, #..]."""
    r = run_cli("profile")
    assert r.returncode == 0
    assert max(len(line) for line in r.stdout.splitlines()) > 100
    hot = r.stdout.split("hot spots")[1]
    assert "[r" in hot and "…" not in hot


def test_version_names_the_engine_build(capsys):
    """--version and every JSON report's versions say which Unicorn build runs."""
    import unicorn

    from armsim.session.versions import versions
    from armsim.machine.engine import PINNED, engine_build

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    eng = engine_build()
    assert f"engine: {eng}" in out
    assert unicorn.__version__ == PINNED == eng.version  # the pin is what runs
    assert versions()["unicorn"] == str(eng)
    assert ("source build" in str(eng)) == eng.arm_only


@pytest.mark.parametrize("spelling, name", [
    ("m4f", "m4f"), ("Cortex-M4F", "m4f"), ("CORTEX-M7", "m7"), ("cortex_m33", "m33"),
    ("m0+", "m0plus"), ("Cortex-M0plus", "m0plus"), ("M0P", "m0plus"), ("M4", "m4f"),
    ("m4-nofp", "m4-nofp"),
    ("M7D", "m7d"),
])
def test_cpu_names_as_people_write_them(spelling, name):
    from armsim.cli.options import cpu_name
    from armsim.parts.cpus import get_cpu

    assert cpu_name(spelling) == name and get_cpu(spelling).name == name


def test_cpu_spellings_on_the_command_line(capsys, monkeypatch):
    """`--cpu m4` runs the M4F and says so once; an unemulated core and a typo exit 2 with
    the reason; --opt takes -O2, O2 and =-O2; --mcu any case."""
    from armsim.cli import options

    monkeypatch.setattr(options, "_noted", set())
    assert main(["profile", "--cpu", "M4", "--mcu", "GENERIC", "--opt", "-O1", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["cpu"] == "m4f"
    assert captured.err.count("m4-nofp is the M4 without one") == 1
    for argv, reason in ((["--cpu", "m55"], "Cortex-M55 is not emulated yet"),
                         (["--cpu", "m9"], "unknown CPU 'm9'"),
                         (["--mcu", "stm32f999"], "unknown MCU preset 'stm32f999'"),
                         (["--opt", "-O9"], "unknown optimisation level")):
        with pytest.raises(SystemExit) as exc:
            main(["profile", *argv])
        assert exc.value.code == 2 and reason in capsys.readouterr().err
    from armsim.cli.app import join_dash_values

    assert join_dash_values(["profile", "--opt", "-O2", "--json"]) == \
        ["profile", "--opt=-O2", "--json"]
    assert join_dash_values(["profile", "--opt", "O2"]) == ["profile", "--opt", "O2"]
    assert join_dash_values(["profile", "--opt=-Os"]) == ["profile", "--opt=-Os"]


def test_does_not_fit_says_what_to_try():
    """The hint reads as one sentence with flash weights too (it was garbled)."""
    from armsim.errors import LayoutError
    from armsim.firmware.build import check_plan_fits
    from armsim.model.frontends.load import load_model
    from armsim.model.inputs import DEFAULT_MODEL, data_file
    from armsim.parts.mcus import get_mcu
    from armsim.plan import make_plan

    import dataclasses

    g, _ = load_model(data_file(DEFAULT_MODEL))
    small = dataclasses.replace(get_mcu("samd21g18"), sram_size=8 * 1024)
    for where, hint in (("sram", "; try --weights-in flash or a larger --mcu (e.g. large)"),
                        ("flash", " bytes; try a larger --mcu (e.g. large)")):
        plan = make_plan(g, "auto", None, where, small.sram_base)
        with pytest.raises(LayoutError) as exc:
            check_plan_fits(plan, small)
        assert str(exc.value).endswith(hint), str(exc.value)
