"""Profiling: attribution sums, MACs against the model, hand-checked cycles, CPU variants,
footprint fit, and the speedscope/CSV/PNG outputs."""

from __future__ import annotations

import csv
import io
import json
import sys
import subprocess
from pathlib import Path

import pytest

from armsim.timing import cycles
from armsim.parts import cpus
from armsim.parts import mcus as mcu
from armsim.firmware.toolchain import find_gcc
from armsim.cli import main
from armsim.machine.elf import ElfImage
from armsim.machine.emulator import Machine

HERE = Path(__file__).resolve().parent
# movs r0,#1; adds r0,#2; ldr r1,[r2]; ldr r3,[r2,#4]; str r0,[r2,#8]; muls r0,r1; b .-10
SEQUENCE = bytes.fromhex("0120" "0230" "1168" "5368" "9060" "4843" "f9e7")


def run_json(capsys, *args: str):
    code = main(list(args))
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("cpu, base, total", [
    # M0 (DDI 0432): ALU 1, 1; LDR 2, 2 (no pipelining); STR 2; MUL 1 (fast); B 1 + P 2
    ("m0", 1 + 1 + 2 + 2 + 2 + 1 + 1, 12),
    # M3/M4 (DDI 0337/0439): LDR 2 then pipelined 1; STR after a load 1; B = 1 + P, P = 1
    # as measured (a taken branch takes two cycles on an STM32F4)
    ("m3", 1 + 1 + 2 + 1 + 1 + 1 + 1, 9),
    ("m4f", 1 + 1 + 2 + 1 + 1 + 1 + 1, 9),
    ("m33", 1 + 1 + 2 + 1 + 1 + 1 + 1, 9),
    # M7 dual issue (pipeline.py): movs | adds (needs r0: next cycle) + ldr r1 | ldr r3
    # (a new cycle: adds and ldr r1 paired) + str | muls (waits for r1: load latency 2) + b
    # paired; a predicted branch costs no refill
    ("m7", 4, 4),
])
def test_hand_checked_sequence_per_cpu(cpu, base, total):
    bc = cycles.block_cost(SEQUENCE, 0x100, cycles.TIMINGS[cpu])
    assert bc.base == base and bc.end == "taken"
    t = cycles.TIMINGS[cpu]
    assert bc.base + t.refill == total


@pytest.mark.parametrize("cpu", ["m3", "m4f"])
def test_hand_checked_loop_with_it_blocks(cpu, tmp_path):
    """tests/kernels/it_blocks.S on M3/M4: Reset block movs+bl+P = 3; entry block (prologue
    and first pass) 11; body 8 x 9 (its two ITs fold onto the 16-bit CMPs before them); the
    bne is taken 9 times (+1 each); bx lr 1+1; b 1+1+1 (a 32-bit B.W at a halfword address:
    the return lands on an unaligned 32-bit instruction)."""
    out = tmp_path / "it.elf"
    subprocess.run([find_gcc(), "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-nostartfiles", "-T",
                    str(HERE / "kernels" / "tiny.ld"), str(HERE / "kernels" / "it_blocks.S"),
                    "-o", str(out)], check=True)
    m = Machine(ElfImage.load(out), cpus.get_cpu("m4f"), mcu.get_mcu("generic"))
    st = m.run()
    est = cycles.estimate(cpu, st.keys, st.counts, m.read)
    assert est.total == 3 + 11 + 9 * 8 + 9 * 1 + 2 + 3
    assert cycles.estimate(cpu, st.keys, st.counts, m.read, wait_states=2).total == \
        est.total + 2 * (1 + 9 + 1 + 1)  # taken: bl, bne x9, bx lr, b: each pays the wait states


def test_attribution_sums_and_ops(capsys, mnist_dir):
    code, p = run_json(capsys, "profile", "--json")
    assert code == 0 and p["agree"]
    total = p["total_instructions"]
    assert sum(f["instructions"] for f in p["functions"]) == total
    assert sum(x["instructions"] for x in p["ops"]) + p["startup"]["instructions"] + \
        p["finish"]["instructions"] == total
    assert sum(x["instructions"] for x in p["layers"]) == sum(x["instructions"] for x in p["ops"])
    assert p["total_cycles_estimate"] >= total  # M4F: never below one IPC
    assert abs(sum(f["cycles_estimate"] for f in p["functions"]) - p["total_cycles_estimate"]) < 1
    layers = {x["name"]: x for x in p["layers"]}
    assert list(layers) == ["conv", "pool", "flatten", "dense"]
    assert layers["conv"]["instructions"] > layers["dense"]["instructions"] > \
        layers["flatten"]["instructions"] == 0
    by_fn = {(f["name"], f["layer"]): f for f in p["functions"]}
    assert by_fn[("armsim_conv2d_f32", "conv")]["calls"] == 1
    assert by_fn[("armsim_softmax_f32", "dense")]["calls"] == 1  # softmax fused into dense
    assert by_fn[("expf", "dense")]["calls"] == 10  # library calls land in the caller's op
    assert ("Reset_Handler", "(startup)") in by_fn
    # after the last op: the argmax and the return to the halt, in their own labelled row
    assert ("armsim_finish", "(finish)") in by_fn and ("armsim_argmax_f32", "(finish)") in by_fn
    # the same input through simulate gives the same exact total
    code, s = run_json(capsys, "simulate", "--json", "--image", "3")
    assert s["instructions"] == p["total_instructions"]


@pytest.mark.parametrize("name", ["seed", "dscnn", "mobilenet"])
def test_layer_macs_match_the_keras_model(name, tmp_path, capsys, default_model):
    """Each Keras layer's row holds that layer's own multiply-accumulates."""
    import numpy as np

    from armsim.model import zoo

    model = default_model if name == "seed" else zoo.build(name)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    x = tmp_path / "x.npy"
    np.save(x, zoo.sample_inputs(model, 1))
    code, p = run_json(capsys, "profile", "--model", str(path), "--inputs", str(x), "--mcu",
                       "large", "--json")
    assert code == 0 and p["agree"]
    rows = {r["name"]: r for r in p["layers"]}
    keras_layers = [ly for ly in model.layers if type(ly).__name__ != "InputLayer"]
    assert list(rows) == [ly.name for ly in keras_layers]
    for ly in keras_layers:
        cls = type(ly).__name__
        out = ly.output.shape
        if cls == "Conv2D":
            kh, kw = ly.kernel_size
            want = out[1] * out[2] * out[3] * kh * kw * ly.input.shape[-1]
        elif cls == "DepthwiseConv2D":
            kh, kw = ly.kernel_size
            want = out[1] * out[2] * out[3] * kh * kw
        elif cls == "Dense":
            want = ly.input.shape[-1] * ly.units
        else:
            want = 0
        assert rows[ly.name]["macs"] == want, ly.name
        if want:
            assert rows[ly.name]["instructions"] > 0 and rows[ly.name]["cycles_estimate"] > 0
    assert sum(r["macs"] for r in rows.values()) == p["macs"]


def test_footprint_names_plan_buffers_and_measures_stack(capsys):
    _, p = run_json(capsys, "profile", "--layout", "seed", "--json")
    fp = p["footprint"]
    assert fp["weights_in"] == "sram"
    assert {"input", "conv_weights", "dense_weights", "conv_bias", "dense_bias"} <= set(fp["buffers"])
    assert fp["buffers"]["dense_weights"] == {"address": "0x20000F74", "bytes": 46080,
                                              "region": "sram"}
    assert fp["buffers"]["conv"]["region"] == "arena"
    assert 64 <= fp["ram"]["stack_peak"] <= 4096 and fp["fits"]
    assert fp["flash"]["total"] == fp["flash"]["text"] + fp["flash"]["rodata"] + fp["flash"]["data"]


def test_too_small_mcu_is_a_fit_error(capsys):
    """The seed's weights in SRAM (as its script writes them) need 77 KB: too much for a
    32 KB part; in flash, as deployed (the default), they fit it."""
    assert main(["profile", "--mcu", "samd21g18", "--weights-in", "sram"]) == 2
    err = capsys.readouterr().err
    assert "does not fit MCU preset 'samd21g18'" in err
    assert "77,248 bytes of SRAM" in err and "32,768 bytes" in err
    code, p = run_json(capsys, "profile", "--mcu", "samd21g18", "--json")
    fp = p["footprint"]
    assert code == 0 and fp["fits"] and fp["weights_in"] == "flash"
    assert fp["flash"]["weights_in_rodata"] == 4 * (8 * 25 + 8 + 1152 * 10 + 10)
    assert fp["ram"]["total"] < 32_768 < 77_248


def test_every_cpu_agrees_and_m0_executes_more(capsys):
    code, rows = run_json(capsys, "profile", "--compare-cpus", "--json")
    assert code == 0
    by = {r["cpu"]: r for r in rows}
    assert set(by) == set(cpus.CPUS)
    assert all(r["agree"] and r["max_abs_diff"] <= 1e-5 for r in rows)
    assert by["m0"]["total_instructions"] > 10 * by["m4f"]["total_instructions"]
    for r in rows:
        if r["cycle_model_exact_table"]:
            assert r["total_cycles_estimate"] >= r["total_instructions"]


def test_speedscope_csv_and_plot(tmp_path, capsys):
    import jsonschema

    ss, png = tmp_path / "p.speedscope.json", tmp_path / "ops.png"
    assert main(["profile", "--csv", "--speedscope", str(ss), "--plot", str(png)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows and {"cpu", "function", "op", "calls", "instructions", "cycles_estimate"} <= set(rows[0])
    doc = json.loads(ss.read_text())
    schema = json.loads((HERE / "data" / "speedscope-file-format.schema.json").read_text())
    jsonschema.validate(doc, schema)
    prof = doc["profiles"][0]
    assert sum(prof["weights"]) == prof["endValue"] == sum(int(r["instructions"]) for r in rows)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_hotspots_have_source_lines(capsys):
    _, p = run_json(capsys, "profile", "--json", "--top", "3")
    top = p["hotspots"][0]
    assert top["function"].startswith(("conv5_cols", "conv5_rows"))  # 5x5 taps in registers
    assert top["source"].startswith("armsim_conv2d_1ch_f32.c:")
    assert top["disassembly"] and top["percent"] > 50


def test_latency_at_the_parts_usual_clock_by_default(capsys):
    """profile reports latency_ms by default: at the part's usual clock with the flash set-up
    that goes with it (STM32F407: 168 MHz, 5 wait states, ART on), at a stated nominal clock
    on generic, and at --clock-mhz when given; the text says it is an estimate."""
    code, d = run_json(capsys, "profile", "--json")
    assert code == 0 and d["clock_mhz"] == 100 and d["flash_accel"] == ""
    assert d["latency_ms"] == pytest.approx(d["total_cycles_estimate"] / 100e3)
    assert "nominal clock" in d["flash"]
    code, f4 = run_json(capsys, "profile", "--mcu", "stm32f407", "--json")
    assert code == 0 and f4["clock_mhz"] == 168 and f4["wait_states"] == 5
    assert f4["flash_accel"] == "art on" and "usual set-up" in f4["flash"]
    assert f4["latency_ms"] == pytest.approx(f4["total_cycles_estimate"] / 168e3)
    code, reset = run_json(capsys, "profile", "--mcu", "stm32f407", "--clock-mhz", "16",
                           "--flash-accel", "off", "--json")
    assert reset["wait_states"] == 0 and reset["total_cycles_estimate"] < \
        f4["total_cycles_estimate"]
    assert reset["latency_ms"] == pytest.approx(reset["total_cycles_estimate"] / 16e3)
    assert main(["profile", "--mcu", "stm32f407"]) == 0
    text = capsys.readouterr().out
    assert "latency: about" in text and "at 168 MHz (5 flash wait states, art on)" in text
    assert "docs/cycle-model.md" in text


def test_simulate_and_validate_report_the_latency(capsys):
    """simulate and validate give the latency as profile does: the same cycles for the same
    input (the whole run), at the part's usual clock with its flash set-up, or --clock-mhz;
    validate per input, with the mean and the largest."""
    code, prof = run_json(capsys, "profile", "--mcu", "stm32f407", "--image", "4", "--json")
    code, sim = run_json(capsys, "simulate", "--mcu", "stm32f407", "--image", "4", "--json")
    assert code == 0 and sim["instructions"] == prof["total_instructions"]
    assert sim["cycles_estimate"] == pytest.approx(prof["total_cycles_estimate"], abs=2)
    assert sim["clock_mhz"] == 168 and sim["wait_states"] == 5 and sim["flash_accel"] == "art on"
    assert sim["latency_ms"] == pytest.approx(sim["cycles_estimate"] / 168e3, rel=1e-5)
    assert "docs/cycle-model.md" in sim["estimate_note"]
    code, slow = run_json(capsys, "simulate", "--mcu", "stm32f407", "--clock-mhz", "16",
                          "--flash-accel", "off", "--image", "4", "--json")
    assert slow["clock_mhz"] == 16 and slow["wait_states"] == 0
    assert slow["latency_ms"] == pytest.approx(slow["cycles_estimate"] / 16e3, rel=1e-5)
    code, v = run_json(capsys, "validate", "--n", "6", "--jobs", "1", "--clock-mhz", "50",
                       "--json")
    assert code == 0 and v["clock_mhz"] == 50
    ms = v["latency_ms"]
    assert len(ms["per_input"]) == 6 and ms["max"] == pytest.approx(max(ms["per_input"]))
    assert ms["mean"] == pytest.approx(sum(ms["per_input"]) / 6, rel=1e-5)
    c = v["cycles_estimate"]
    assert c["min"] <= c["median"] <= c["max"]
    assert ms["max"] == pytest.approx(c["max"] / 50e3, rel=1e-5)
    # the cycles grow with the work: a cycle estimate, not the instruction count renamed
    assert c["min"] > v["instructions"]["min"]
    assert main(["validate", "--n", "6", "--jobs", "1", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "est. latency at 100 MHz" in text and "latency: about" in text
    assert main(["simulate", "--image", "0"]) == 0
    assert "est. ms" in capsys.readouterr().out


def test_compare_cpus_and_dtypes_take_the_clock(capsys):
    """--clock-mhz is no longer ignored by --compare-cpus and --compare-dtypes."""
    code, rows = run_json(capsys, "profile", "--compare-cpus", "--clock-mhz", "50", "--json")
    assert code == 0 and {r["clock_mhz"] for r in rows} == {50}
    for r in rows:
        assert r["latency_ms"] == pytest.approx(r["total_cycles_estimate"] / 50e3)
    # (a child process: TensorFlow's converter prints to sys.stdout, which the CLI silences
    # at the descriptor, below pytest's capture)
    p = subprocess.run([sys.executable, "-m", "armsim", "profile", "--compare-dtypes",
                        "--clock-mhz", "25", "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    for dtype in ("float32", "int8"):
        p = d[dtype]
        assert p["clock_mhz"] == 25
        assert p["latency_ms"] == pytest.approx(p["total_cycles_estimate"] / 25e3)
    assert main(["profile", "--compare-cpus", "--clock-mhz", "50"]) == 0
    assert "est. ms" in capsys.readouterr().out
