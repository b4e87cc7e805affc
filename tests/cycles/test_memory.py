"""Flash timing per MCU preset in the cycle estimate: wait states from the part's table by
clock, and the accelerator (ART) on or off, on a self-timing loop."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from armsim.firmware.toolchain import find_gcc
from armsim.errors import ArmsimError
from armsim.parts.flash import fetch_for
from armsim.session.image_run import ImageRunner

from .harness import LINK, TEMPLATE

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                                reason="needs arm-none-eabi-gcc")
N = 20
# 8 16-bit ALU instructions + subs + bne: 20 bytes at 0x18, two 16-byte flash lines
BODY = "\n".join("    adds r1, #1" for _ in range(8))


@pytest.fixture(scope="module")
def elf(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("flash") / "loop.S"
    src.write_text(TEMPLATE.format(mcpu="cortex-m4", n=N, snippet=BODY, pad="", prologue=""))
    out = src.with_suffix(".elf")
    subprocess.run([find_gcc(), "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-nostartfiles",
                    "-T", str(LINK), str(src), "-o", str(out)], check=True)
    return out


def window(elf: Path, fetch) -> float:
    r = ImageRunner(elf, "stm32f407")
    r.fetch = fetch
    res = r.run_on(None, [], between=(r.symbol_address("bench_start", "START"),
                                      r.symbol_address("bench_end", "END")))
    assert res.window is not None
    return res.window.cycles_estimate


def test_wait_states_follow_the_clock_table():
    # RM0090 table 10: 0 WS up to 30 MHz ... 5 WS up to 168 MHz
    assert [fetch_for("stm32f407", f).wait_states for f in (16, 30, 31, 90, 120, 168)] == \
        [0, 0, 1, 2, 3, 5]
    with pytest.raises(ArmsimError, match="at most at 168 MHz"):
        fetch_for("stm32f407", 200)
    with pytest.raises(ArmsimError, match="no flash timing table"):
        fetch_for("generic", 100)


def test_flash_timing_in_a_self_timing_loop(elf):
    reset = window(elf, fetch_for("stm32f407", setup="reset"))  # 16 MHz: no wait states
    assert window(elf, None) == reset
    off = window(elf, fetch_for("stm32f407", 168, "off"))
    on = window(elf, fetch_for("stm32f407", 168, "on"))
    # accelerator off: every pass fetches the 2 16-byte lines the loop spans (0x18-0x2B),
    # 5 wait states each
    assert off - reset == N * 2 * 5
    # ART on: the lines of the loop's first pass and of its body miss once each, then hit
    assert on - reset == 2 * 2 * 5


#: one load from SRAM1 (AXI) and one from DTCM, one store to SRAM1; r3 and r5 set before
#: the loop. The loop starts with the SRAM1 load, so the stop at bench_start lands on it.
AXI_BODY = "    ldr r1, [r3]\n    ldr r4, [r5]\n    str r1, [r3, #4]"
AXI_PROLOGUE = "    ldr r3, =0x20010000\n    ldr r5, =0x20002000"


@pytest.fixture(scope="module")
def axi_elf(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("axi") / "loop.S"
    src.write_text(TEMPLATE.format(mcpu="cortex-m7", n=N, snippet=AXI_BODY, pad="",
                                   prologue=AXI_PROLOGUE))
    out = src.with_suffix(".elf")
    subprocess.run([find_gcc(), "-mcpu=cortex-m7", "-mthumb", "-nostdlib", "-nostartfiles",
                    "-T", str(LINK), str(src), "-o", str(out)], check=True)
    return out


def axi_window(elf: Path, latency: int | None = None, dcache: str | None = None):
    from armsim.timing.datamem import data_timing_for

    r = ImageRunner(elf, "stm32f746")
    r.machine.data_timing = data_timing_for(r.mcu, "m7", latency, dcache)
    res = r.run_on(None, [], between=(r.symbol_address("bench_start", "START"),
                                      r.symbol_address("bench_end", "END")))
    assert res.window is not None
    return res


def test_m7_loads_from_axi_sram_cost_the_given_latency_and_dtcm_loads_do_not(axi_elf):
    """STM32F746: DTCM on the TCM interface, SRAM1/SRAM2 on AXI (RM0385 2.2.2). Each
    execution of the SRAM1 load is counted at run time and costs --sram-latency more; the
    DTCM load and the store (taken by the store buffer) cost nothing more."""
    plain = axi_window(axi_elf)
    w = plain.window.data_memory
    assert (w["loads"], w["stores"], w["cycles"]) == (N, N, 0.0)
    assert "not costed" in w["note"]
    # the stop at bench_start landed on the SRAM1 load: it is counted once, when it runs
    assert plain.data_memory["loads"] == N
    for latency in (0, 1, 7):
        res = axi_window(axi_elf, latency)
        assert res.window.cycles_estimate - plain.window.cycles_estimate == N * latency
        assert res.cycles_estimate - plain.cycles_estimate == N * latency
        assert res.window.data_memory["cycles"] == N * latency
    hits = axi_window(axi_elf, 7, "on")  # the data cache on: AXI loads cost as hits
    assert hits.window.cycles_estimate == plain.window.cycles_estimate
    assert hits.window.data_memory["loads"] == N and "cache hits" in hits.window.data_memory["note"]


def test_sram_latency_through_the_cli(axi_elf, elf, capsys):
    import json

    from armsim.cli import main

    capsys.readouterr()
    assert main(["run", str(axi_elf), "--mcu", "stm32f746", "--between", "bench_start",
                 "bench_end", "--sram-latency", "4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["between"]["data_memory"]["loads"] == N
    assert doc["between"]["data_memory"]["cycles"] == 4 * N
    assert doc["data_memory"]["areas"][0].startswith("SRAM1 0x20010000")
    assert main(["run", str(axi_elf), "--mcu", "stm32f746", "--until", "bench_end"]) == 0
    shown = capsys.readouterr()  # notes go to stderr
    assert "20 loads and 20 stores in SRAM1+SRAM2, +0 cycles" in " ".join(shown.err.split())
    # a part without a TCM/AXI split: the option is refused, not ignored
    assert main(["run", str(elf), "--mcu", "stm32f407", "--sram-latency", "4"]) == 2
    assert "no Cortex-M7 TCM/AXI SRAM split" in capsys.readouterr().err


def test_block_stalls_share_a_pc_among_the_blocks_holding_it():
    """A loop entered mid-way: the blocks [0x100, 0x110) and [0x108, 0x110) both hold the
    load at 0x10A; its cycles are shared by executions and add up exactly."""
    import numpy as np

    from armsim.timing.datamem import block_stalls

    keys = np.array([(0x100 << 32) | 0x10, (0x108 << 32) | 0x8, (0x200 << 32) | 4], np.uint64)
    counts = np.array([1, 9, 5], np.uint64)
    pcs = np.array([0x104, 0x10A, 0x200])
    per_pc = np.array([3.0, 30.0, 0.0])
    out = block_stalls(keys, counts, pcs, per_pc)
    assert out.sum() == 33.0
    assert out.tolist() == [3.0 + 3.0, 27.0, 0.0]


def test_run_between_takes_the_clock_and_the_accelerator(elf, capsys):
    import json

    from armsim.cli import main

    def between(*extra: str) -> tuple[float, str]:
        capsys.readouterr()
        assert main(["run", str(elf), "--mcu", "stm32f407", "--between", "bench_start",
                     "bench_end", "--json", *extra]) == 0
        doc = json.loads(capsys.readouterr().out)
        return doc["between"]["cycles_estimate"], doc["flash"]

    usual, note = between()  # the part's usual set-up: 168 MHz, 5 wait states, ART on
    assert "168 MHz: 5 flash wait states, art on (usual set-up: STM32CubeF4" in note
    reset, note = between("--clock-mhz", "16", "--flash-accel", "off")
    assert "16 MHz: 0 flash wait states, art off;" in note
    slow, note = between("--clock-mhz", "168", "--flash-accel", "off")
    assert slow - reset == N * 2 * 5 and "5 flash wait states" in note
    assert reset < usual < slow  # the accelerator hides most, not all, of the wait states
    # the latency at the clock the estimate used, for the run and its window
    assert main(["run", str(elf), "--mcu", "stm32f407", "--between", "bench_start",
                 "bench_end", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["clock_mhz"] == 168
    assert doc["latency_ms"] == pytest.approx(doc["cycles_estimate"] / 168e3, abs=1e-6)
    assert doc["between"]["latency_ms"] == pytest.approx(usual / 168e3, abs=1e-6)
    assert main(["run", str(elf), "--until", "bench_end", "--clock-mhz", "50"]) == 0  # generic
    assert "ms at 50 MHz" in capsys.readouterr().err
    assert main(["run", str(elf), "--flash-accel", "on"]) == 2  # generic: no table
    assert "no flash timing table" in capsys.readouterr().err


def test_check_cycles_compares_programs_with_their_measurements(elf, tmp_path):
    """scripts/check_cycles.py: a manifest of programs and measured cycles -> errors and how
    many agree (here the 'measurements' are the estimate itself, then 20 % off)."""
    import json
    import sys

    reset = window(elf, fetch_for("stm32f407", setup="reset"))
    manifest = tmp_path / "programs.toml"
    manifest.write_text(
        f'[[program]]\nname = "loop"\nelf = "{elf}"\nstart = "bench_start"\n'
        f'end = "bench_end"\nmeasured = {reset}\n\n'
        f'[[program]]\nname = "off"\nelf = "{elf}"\nstart = "bench_start"\n'
        f'end = "bench_end"\nmeasured = {reset * 1.2}\n')
    script = Path(__file__).resolve().parents[2] / "scripts" / "check_cycles.py"
    r = subprocess.run([sys.executable, str(script), str(manifest), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 1, r.stderr  # one of two within 10 %: below the 80 % needed
    doc = json.loads(r.stdout)
    assert doc["within"] == 1 and doc["programs"][0]["error"] == 0
    assert round(doc["programs"][1]["error"], 3) == round(1 / 1.2 - 1, 3)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[program]]\nname = "x"\n')
    r = subprocess.run([sys.executable, str(script), str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and "missing 'elf'" in r.stderr


def test_m7_icache_on_makes_each_line_of_code_miss_once(axi_elf, capsys):
    """--icache on (the M7's L1 instruction cache, 32-byte lines): the loop's code misses
    once per line instead of paying its lines on every pass with the accelerator off."""
    from armsim.cli import main
    from armsim.parts.flash import with_icache

    def total(fetch) -> float:
        r = ImageRunner(axi_elf, "stm32f746")
        r.fetch = fetch
        res = r.run_on(None, [], between=(r.symbol_address("bench_start", "START"),
                                          r.symbol_address("bench_end", "END")))
        return res.window.cycles_estimate

    off = fetch_for("stm32f746", 216, "off")
    on = with_icache(off, "stm32f746", "on")
    assert on.mode == "cache" and on.line_bytes == 32 and "icache on" in on.accel
    ws = off.wait_states
    # ART off: every pass pays each line the loop spans; the I-cache: one miss per line
    assert total(off) - total(on) >= (N - 2) * ws
    assert with_icache(off, "stm32f746", None) == off
    with pytest.raises(ArmsimError, match="no L1 instruction cache"):
        with_icache(fetch_for("stm32f407"), "stm32f407", "on")
    assert main(["run", str(axi_elf), "--mcu", "stm32f746", "--icache", "on", "--json",
                 "--between", "bench_start", "bench_end"]) == 0
    assert "L1 I-cache on" in capsys.readouterr().out
    assert main(["run", str(axi_elf), "--mcu", "stm32f407", "--icache", "on"]) == 2
