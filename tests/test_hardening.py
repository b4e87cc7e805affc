"""Hardening: broken kernels end fast with a typed report, hostile inputs are refused
cleanly, and agreement is never reported when it is not real."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from unicorn import arm_const as A

from armsim.parts import cpus
from armsim.parts import mcus as mcu
from armsim.cli import main
from armsim.model.inputs import DEFAULT_MODEL, data_file
from armsim.firmware.build import build
from armsim.firmware.kernels import KERNELS_ENV, kernels_dir
from armsim.firmware.toolchain import CACHE_ENV, find_gcc
from armsim.machine.elf import ElfImage
from armsim.machine.emulator import Machine
from armsim.errors import ArmsimError, ElfError, EmulatorFault, ModelError, ScriptError
from armsim.model.frontends.load import load_model
from armsim.plan import make_plan
from armsim.plan.seed import seed_graph, seed_plan

HERE = Path(__file__).resolve().parent

BROKEN = {
    "spin": ("for (;;) { }", "instruction-budget"),
    "svc": ('__asm volatile("svc #1");', "svc"),
    "bkpt": ('__asm volatile("bkpt #3");', "bkpt"),
    "udf": ('__asm volatile("udf #2");', "undefined-instruction"),
    "even": ("((void (*)(void))((uintptr_t)&target & ~1u))();", "thumb-bit-missing"),
    "unmapped": ("sink = *(volatile uint32_t *)0x60000000u;", "unmapped-read"),
    "flash_write": ("*flash_word = 1;", "write-protected"),
    "null_call": ("((void (*)(void))zero)();", "pc-zero"),
    "recursion": ("sink = deep(1);", "stack-overflow"),
    # every fault kind once more through the TLB armsim fills itself (tlb.py)
    "sram_fetch": ("((void (*)(void))0x20000101u)();", "never-execute"),
    "scs_fetch": ("((void (*)(void))0xE000ED01u)();", "never-execute"),
    "xn_unmapped_fetch": ("((void (*)(void))0x40000001u)();", "never-execute"),
    "unmapped_fetch": ("((void (*)(void))0x60000001u)();", "unmapped-fetch"),
    "unmapped_write": ("*(volatile uint32_t *)0x60000000u = 1;", "unmapped-write"),
    "alias_write": ("*(volatile uint32_t *)0x08000100u = 1;", "write-protected"),
    "guard_read": ("sink = *(volatile uint32_t *)(((uintptr_t)&_ebss + 0xFFFu) & ~0xFFFu);",
                   "stack-overflow"),
    "sram_write_after_read": ("sink = *(volatile uint32_t *)0x20010000u; "
                              "*(volatile uint32_t *)0x20010000u = 7; "
                              "sink = *(volatile uint32_t *)0x100000u;", "unmapped-read"),
}
NETWORK = """
#include <stdint.h>
#include "armsim_nn.h"
volatile uint32_t sink;
extern uint32_t _ebss;
volatile uintptr_t zero = 0;
volatile uint32_t limit = 100000000u;
volatile uint32_t *volatile flash_word = (volatile uint32_t *)0x100u;
void target(void) { sink = 1; }
__attribute__((noinline)) uint32_t deep(uint32_t n)
{
    volatile uint32_t pad[32];
    pad[n & 31] = n;
    if (n > limit) {
        return 0;
    }
    return deep(n + 1) + pad[(n + 1) & 31];
}
void armsim_conv2d_f32(const armsim_conv_params *params, const armsim_view *input,
                       const float *in, const armsim_view *filter, const float *w,
                       const float *bias, const armsim_dims *out_dims, float *out)
{
    (void)params; (void)input; (void)in; (void)filter; (void)w; (void)bias; (void)out_dims;
    (void)out;
    BROKEN_BODY
}
"""


@pytest.fixture(scope="module")
def broken_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("broken")
    return root


def broken_machine(root: Path, name: str, monkeypatch) -> Machine:
    """The seed firmware whose convolution op entry is replaced by a broken body."""
    from armsim.session.session import Session

    kdir = root / name
    if not kdir.exists():
        shutil.copytree(kernels_dir(), kdir)
        (kdir / "opt" / "armsim_conv2d_f32.c").unlink()  # the broken entry serves both sets
        (kdir / "ref" / "armsim_conv2d_f32.c").write_text(
            NETWORK.replace("BROKEN_BODY", BROKEN[name][0]))
    monkeypatch.setenv(KERNELS_ENV, str(kdir))
    monkeypatch.setenv(CACHE_ENV, str(root / "cache"))
    g = seed_graph(8)
    return Session(g, seed_plan(g), "m4f", "generic", max_instructions=2_000_000,
                   timeout_s=5).machine


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_kernel_ends_fast_with_its_own_report(broken_tree, name, monkeypatch):
    m = broken_machine(broken_tree, name, monkeypatch)
    t0 = time.perf_counter()
    with pytest.raises(EmulatorFault) as exc:
        m.run(max_instructions=2_000_000, timeout_s=5)
    assert time.perf_counter() - t0 < 1.0
    e = exc.value
    assert e.kind == BROKEN[name][1], str(e)
    assert e.exit_code == 1  # a check that failed, not bad input
    for part in ("registers:", "disassembly:", "stack (sp", "memory map:", f"error: {e.kind}"):
        assert part in e.report
    if name == "recursion":
        assert e.function == "deep" and "guard page" in str(e)
    if name in ("sram_fetch", "scs_fetch", "xn_unmapped_fetch", "unmapped_fetch"):
        target = int(re.search(r"0x([0-9A-F]+)u", BROKEN[name][0]).group(1), 16)
        assert e.pc == target & ~1, str(e)
    if name == "scs_fetch" or name == "xn_unmapped_fetch":
        assert "never-execute System" in e.report or "never-execute Peripheral" in e.report
    if name == "unmapped_write":
        assert "write to unmapped memory at 0x60000000 (4 bytes)" in str(e)
    if name == "alias_write":
        assert "write to read-only memory at 0x08000100" in str(e)
    if name == "sram_write_after_read":  # SRAM is written and read back on the fast path
        assert "read of unmapped memory at 0x00100000" in str(e)
    if name == "null_call":
        assert "LR=0" in e.report or "null pointer" in e.report


def test_time_limit_is_its_own_error(broken_tree, monkeypatch):
    m = broken_machine(broken_tree, "spin", monkeypatch)
    with pytest.raises(EmulatorFault) as exc:
        m.run(max_instructions=10**12, timeout_s=0.3)
    assert exc.value.kind == "time-limit" and "0.3 s" in str(exc.value)
    assert exc.value.function == "armsim_conv2d_f32"


def test_cli_broken_kernel_exit_1_no_traceback(broken_tree, monkeypatch, capsys):
    """A kernel that faults is a failed check (exit 1), never a traceback."""
    broken_machine(broken_tree, "unmapped", monkeypatch)
    assert main(["simulate", "--max-instructions", "1000000", "--timeout", "2"]) == 1
    err = capsys.readouterr().err
    assert "read of unmapped memory at 0x60000000" in err and "Traceback" not in err


def _tiny(tmp_path: Path, source: str, name: str, cpu: str = "cortex-m4") -> Path:
    src = tmp_path / f"{name}.S"
    src.write_text(source)
    out = tmp_path / f"{name}.elf"
    subprocess.run([find_gcc(), f"-mcpu={cpu}", "-mthumb", "-nostdlib", "-nostartfiles", "-T",
                    str(HERE / "kernels" / "tiny.ld"), str(src), "-o", str(out)], check=True)
    return out


def test_golden_crash_report(tmp_path):
    out = tmp_path / "fault1.elf"
    subprocess.run([find_gcc(), "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-nostartfiles",
                    "-DFAULT_CASE=1", "-T", str(HERE / "kernels" / "tiny.ld"),
                    str(HERE / "kernels" / "faults.S"), "-o", str(out)], check=True)
    m = Machine(ElfImage.load(out), cpus.get_cpu("m4f"), mcu.get_mcu("generic"))
    with pytest.raises(EmulatorFault) as exc:
        m.run()
    golden = HERE / "golden" / "crash_unmapped_read.txt"
    assert exc.value.report + "\n" == golden.read_text()


def test_normal_return_ends_exactly_at_the_sentinel(tmp_path):
    """A reset handler that returns (bx lr) ends at armsim_halt through LR = sentinel|1."""
    elf = _tiny(tmp_path, """
    .syntax unified
    .thumb
    .section .isr_vector, "a"
    .word 0x20008000
    .word Reset_Handler
    .text
    .type Reset_Handler, %function
Reset_Handler:
    movs r0, #7
    bx lr
    .type armsim_halt, %function
    .global armsim_halt
armsim_halt:
    bkpt #0
""", "ret")
    m = Machine(ElfImage.load(elf), cpus.get_cpu("m4f"), mcu.get_mcu("generic"))
    st = m.run()
    assert m.pc == m.image.symbol("armsim_halt").address and st.instructions == 2


SEED = seed_plan(seed_graph(8))


def test_elf_for_another_cpu_is_refused(tmp_path):
    m4 = build(cpus.get_cpu("m4f"), SEED, mcu.get_mcu("generic")).elf
    with pytest.raises(ElfError, match="ARMv7E-M, which Cortex-M3"):
        Machine(ElfImage.load(m4), cpus.get_cpu("m3"), mcu.get_mcu("generic"))
    with pytest.raises(ElfError, match="ARMv7E-M, which Cortex-M0"):
        Machine(ElfImage.load(m4), cpus.get_cpu("m0"), mcu.get_mcu("generic"))
    m7 = build(cpus.get_cpu("m7"), SEED, mcu.get_mcu("generic")).elf
    with pytest.raises(ElfError, match="FPv5"):
        Machine(ElfImage.load(m7), cpus.get_cpu("m4f"), mcu.get_mcu("generic"))


@pytest.mark.parametrize("damage", ["truncate_header", "truncate_body", "garbage", "empty",
                                    "bad_phoff"])
def test_corrupt_elf_is_a_clean_error(tmp_path, damage, capsys):
    good = build(cpus.get_cpu("m4f"), SEED, mcu.get_mcu("generic")).elf.read_bytes()
    bad = {"truncate_header": good[:30], "truncate_body": good[:len(good) // 3],
           "garbage": b"\x7fELF" + bytes(range(256)) * 4, "empty": b"",
           "bad_phoff": good[:28] + (0xFFFFFF00).to_bytes(4, "little") + good[32:]}[damage]
    p = tmp_path / "bad.elf"
    p.write_bytes(bad)
    with pytest.raises(ElfError):
        ElfImage.load(p)
    assert main(["simulate", "--elf", str(p)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_denormal_inputs_stay_within_tolerance(seed_session_f8, random_weights):
    """FPSCR resets to 0 (IEEE denormals kept) while TensorFlow on the CPU flushes them:
    inputs in the denormal range change outputs by far less than the tolerance."""
    from armsim.check import compare
    from armsim.model import keras_host as host
    from armsim.model.train import seed_model_from

    s = seed_session_f8
    s.write_buffers(s.plan.pack(random_weights))
    image = np.full((28, 28, 1), 3e-39, np.float32)  # below float32's 1.18e-38 normal range
    image[::3, ::2, 0] = -7e-40
    r = s.run(image)
    h = host.predict(seed_model_from(random_weights), image[None])[0]
    c = compare.compare(r.outputs, h)
    assert c.agree and c.max_abs_diff <= 1e-6
    assert s.machine.get_reg("FPSCR") & (1 << 24) == 0


def test_nan_weights_never_agree(tmp_path, capsys):
    from armsim.script.writer import seed_format

    g, _ = load_model(data_file(DEFAULT_MODEL))
    lay = make_plan(g, "seed")
    packed = lay.pack({**lay.constant_tensors(), "input": np.zeros((28, 28, 1), np.float32)})
    text = seed_format(lay, packed)
    # a NaN smuggled in as raw bits through _WDWORD
    text += "_WDWORD(0x2000C394, 0x7FC00000)\n"
    lines = [ln for ln in text.splitlines() if not ln.startswith("_WFLOAT (536920980,")]
    p = tmp_path / "nan.ini"
    p.write_text("\n".join(lines) + "\n")
    assert main(["simulate", "--script", str(p), "--json"]) == 2
    assert "NaN" in capsys.readouterr().err


def test_compare_reports_ulp_and_uses_rtol():
    from armsim.check import compare

    a = np.array([1.0, 0.5, 1e-7], np.float32)
    b = np.nextafter(a, np.float32(2))
    c = compare.compare(a, b, tolerance=0.0)
    assert c.max_ulp == 1 and not c.agree
    assert compare.compare(a, b, tolerance=0.0, rtol=1e-6).agree
    both_nan = np.array([np.nan, 1.0], np.float32)
    assert not compare.compare(both_nan, both_nan).agree


def test_legacy_h5_and_lambda_models_need_trust(tmp_path):
    from armsim.model.tfimport import import_keras

    keras = import_keras()
    h5 = tmp_path / "m.h5"
    h5.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    with pytest.raises(ModelError, match="--trust-model"):
        load_model(h5)
    inp = keras.Input((28, 28, 1))
    out = keras.layers.Lambda(lambda x: x * 2.0)(inp)
    lam = keras.Model(inp, keras.layers.Dense(10)(keras.layers.Flatten()(out)))
    p = tmp_path / "lambda.keras"
    lam.save(p)
    with pytest.raises(ModelError, match="Lambda|--trust-model"):
        load_model(p)
    with pytest.raises(ModelError, match=r"does not run: layer 0 layer 'lambda' \(Lambda\)"):
        load_model(p, trust=True)


def test_script_caps(tmp_path, monkeypatch):
    from armsim.script import limits
    from armsim.script.parser import parse_program

    p = tmp_path / "big.ini"
    p.write_text("_WFLOAT (536874068,0.5) \n" * 50)
    monkeypatch.setattr(limits, "MAX_BYTES", 100)
    with pytest.raises(ScriptError, match="cap is 100"):
        parse_program(p)
    monkeypatch.setattr(limits, "MAX_BYTES", 10**9)
    monkeypatch.setattr(limits, "MAX_LINES", 10)
    with pytest.raises(ScriptError, match="50 lines; the cap is 10"):
        parse_program(p)


def test_load_through_a_symlink_out_of_the_tree_is_refused(tmp_path):
    from armsim.script.target import resolve_inside

    outside = tmp_path / "outside.axf"
    outside.write_bytes(b"x")
    tree = tmp_path / "project"
    tree.mkdir()
    (tree / "link.axf").symlink_to(outside)
    with pytest.raises(ScriptError, match="outside the script's folder"):
        resolve_inside("link.axf", str(tree))


def test_mutated_elfs_raise_only_armsim_errors(tmp_path):
    """A short run of scripts/fuzz_elf.py's mutator: only documented errors come out."""
    import random
    import sys

    from armsim.errors import ArmsimError

    sys.path.insert(0, str(HERE.parent / "scripts"))
    from fuzz_elf import mutate

    good = build(cpus.get_cpu("m4f"), SEED, mcu.get_mcu("generic")).elf.read_bytes()
    rng = random.Random(1234)
    p = tmp_path / "m.elf"
    outcomes = {"ok": 0, "error": 0}
    for _ in range(150):
        p.write_bytes(mutate(rng, good))
        try:
            Machine(ElfImage.load(p), cpus.get_cpu("m4f"), mcu.get_mcu("generic")).run(
                max_instructions=2_000_000, timeout_s=0.5)
            outcomes["ok"] += 1
        except ArmsimError:
            outcomes["error"] += 1
    assert outcomes["error"] > 0 and sum(outcomes.values()) == 150


def _vector_asm(body: str, fpu: bool = False) -> str:
    return f"""
    .syntax unified
    .thumb
    {'.fpu fpv4-sp-d16' if fpu else ''}
    .section .isr_vector, "a"
    .word 0x20008000
    .word Reset_Handler
    .text
    .type Reset_Handler, %function
    .global Reset_Handler
Reset_Handler:
    ldr r2, =0x20000002
    {body}
    bx lr
    .ltorg
    .type armsim_halt, %function
    .global armsim_halt
armsim_halt:
    bkpt #0
"""


def test_fpu_instruction_with_the_fpu_off_is_nocp(tmp_path):
    """No CPACR write before a VFP instruction: the chip takes NOCP, so does armsim."""
    elf = _tiny(tmp_path, _vector_asm("movs r0, #7\n    vmov s0, r0\n    vadd.f32 s1, s0, s0",
                                      fpu=True), "nocp")
    m = Machine(ElfImage.load(elf), cpus.get_cpu("m4f"), mcu.get_mcu("generic"))
    with pytest.raises(EmulatorFault) as exc:
        m.run()
    assert exc.value.kind == "no-fpu" and "CPACR" in str(exc.value)
    assert "vmov s0, r0" in exc.value.report.split("=>")[1].splitlines()[0]
    # the same code after enabling CP10/CP11 runs
    # CPACR, then DSB and ISB as the architecture requires before the first FP instruction
    enable = ("ldr r3, =0xE000ED88\n    ldr r1, =0x00F00000\n    str r1, [r3]\n    dsb\n"
              "    isb\n    movs r0, #7\n    vmov s0, r0\n    vadd.f32 s1, s0, s0")
    ok = _tiny(tmp_path, _vector_asm(enable, fpu=True), "fpu_on")
    m = Machine(ElfImage.load(ok), cpus.get_cpu("m4f"), mcu.get_mcu("generic"))
    assert m.run().instructions == 10  # 3 ldr, str, dsb, isb, movs, vmov, vadd, bx lr
    assert m.run().instructions == 10  # and again: the gate's stop never costs a count


#: CPACR = CP10/CP11 full access, then DSB/ISB: the FPU on before a VFP access
_FPU_ON = ("ldr r3, =0xE000ED88\n    ldr r1, =0x00F00000\n    str r1, [r3]\n    dsb\n"
           "    isb\n    ")
ALIGNMENT_PATHS = ["engine", "watch"]


@pytest.fixture(params=ALIGNMENT_PATHS)
def alignment_path(request, monkeypatch):
    """Each alignment test on both paths: the engine's own fault (armsim's Unicorn build)
    and the instruction watch (an engine without the patch, or ARMSIM_ALIGNMENT=watch)."""
    from armsim.machine import alignment

    monkeypatch.setenv(alignment.MODE_VARIABLE, request.param)
    return request.param


@pytest.mark.parametrize("body, cpu, gcc_cpu, faults", [
    ("ldrd r0, r1, [r2]", "m4f", "cortex-m4", "LDRD needs 4-byte alignment"),
    ("ldrd r0, r1, [r2, #8]!", "m4f", "cortex-m4", "LDRD needs 4-byte alignment"),
    ("ldrd r0, r1, [r2], #8", "m3", "cortex-m3", "LDRD needs 4-byte alignment"),
    ("ldm r2, {r0, r1}", "m4f", "cortex-m4", "LDM needs 4-byte alignment"),
    ("ldmdb r2!, {r0, r1, r3}", "m4f", "cortex-m4", "LDMDB needs 4-byte alignment"),
    ("stmia r2!, {r0, r1}", "m7", "cortex-m7", "STM needs 4-byte alignment"),
    ("strd r0, r1, [r2]", "m3", "cortex-m3", "STRD needs 4-byte alignment"),
    ("strd r0, r1, [r2, #-4]", "m33", "cortex-m33", "STRD needs 4-byte alignment"),
    ("ldrex r0, [r2]", "m4f", "cortex-m4", "LDREX needs 4-byte alignment"),
    ("lda r0, [r2]", "m33", "cortex-m33", "LDA needs 4-byte alignment"),
    ("stl r0, [r2]", "m33", "cortex-m33", "STL needs 4-byte alignment"),
    (_FPU_ON + "vldr s0, [r2]", "m4f", "cortex-m4", "VLDR needs 4-byte alignment"),
    (_FPU_ON + "vstr d0, [r2, #8]", "m7d", "cortex-m7", "VSTR needs 4-byte alignment"),
    (_FPU_ON + "vldmia r2, {s0-s3}", "m4f", "cortex-m4", "VLDMIA needs 4-byte alignment"),
    (_FPU_ON + "vstmdb r2!, {d0-d1}", "m7d", "cortex-m7", "VSTMDB needs 4-byte alignment"),
    ("ldr r0, [r2]", "m4f", "cortex-m4", None),  # allowed on v7-M (UNALIGN_TRP is 0)
    ("str r0, [r2, #1]", "m7", "cortex-m7", None),
    ("adds r2, #1\n    ldrh r0, [r2]", "m4f", "cortex-m4", None),
    ("adds r2, #1\n    ldrh r0, [r2]", "m0", "cortex-m0", "ARMv6-M faults on every unaligned"),
    ("ldr r0, [r2]", "m0", "cortex-m0", "ARMv6-M faults on every unaligned"),
    ("adds r2, #2\n    ldrd r0, r1, [r2]", "m4f", "cortex-m4", None),  # word aligned: fine
    (_FPU_ON + "adds r2, #2\n    vldr d0, [r2]", "m7d", "cortex-m7", None),  # word: fine
    ("push {r0, r1, r2}\n    pop {r0, r1, r2}", "m4f", "cortex-m4", None),
])
def test_unaligned_accesses_fault_where_the_chip_does(tmp_path, body, cpu, gcc_cpu, faults,
                                                       alignment_path):
    from armsim.machine import alignment

    """The fault names the access's exact address, and stops at the faulting instruction
    with no register written (the instruction has not executed), on both paths."""
    fpu = "vldr" in body or "vstr" in body or "vld" in body or "vst" in body
    elf = _tiny(tmp_path, _vector_asm(body, fpu=fpu), f"ua_{cpu}", gcc_cpu)
    m = Machine(ElfImage.load(elf), cpus.get_cpu(cpu), mcu.get_mcu("generic"))
    watched = alignment_path == "watch" or not alignment.engine_aligns()
    assert (m.alignment is not None) == (watched and cpu != "m0")
    if faults is None:
        assert m.run().instructions >= 3
        return
    with pytest.raises(EmulatorFault) as exc:
        m.run()
    assert exc.value.kind == "unaligned" and faults in str(exc.value), str(exc.value)
    faulting = exc.value.report.split("=>")[1].splitlines()[0]
    assert body.splitlines()[-1].strip().split()[0][:3] in faulting, faulting
    assert exc.value.pc == m.pc and f"PC 0x{m.pc:08X}" in str(exc.value)
    first = {"ldrd r0, r1, [r2, #8]!": 0x2000000A, "ldmdb r2!, {r0, r1, r3}": 0x1FFFFFF6,
             "strd r0, r1, [r2, #-4]": 0x1FFFFFFE, "vstr d0, [r2, #8]": 0x2000000A,
             "vstmdb r2!, {d0-d1}": 0x1FFFFFF2}
    base = 0x20000003 if "adds r2, #1" in body else 0x20000002
    address = first.get(body.splitlines()[-1].strip(), base)
    assert f"at 0x{address:08X} by" in str(exc.value), str(exc.value)
    assert int(m.uc.reg_read(A.UC_ARM_REG_R2)) == base  # no writeback happened


def test_every_run_is_checked_for_alignment(tmp_path, alignment_path):
    """No run is spared: the same engine runs an aligned pointer, then faults on the same
    LDRD given an unaligned one (written by the host between the runs, as a new input is)."""
    body = "ldr r3, =0x20001000\n    ldr r2, [r3]\n    ldrd r0, r1, [r2]"
    elf = _tiny(tmp_path, _vector_asm(body), "every_run")
    m = Machine(ElfImage.load(elf), cpus.get_cpu("m4f"), mcu.get_mcu("generic"))
    for _ in range(3):
        m.host_write(0x20001000, (0x20000100).to_bytes(4, "little"))
        assert m.run().instructions == 5  # 2 ldr (literal pool), ldr, ldrd, bx lr
    m.host_write(0x20001000, (0x20000102).to_bytes(4, "little"))
    with pytest.raises(EmulatorFault) as exc:
        m.run()
    assert exc.value.kind == "unaligned" and "at 0x20000102 by ldrd" in str(exc.value)


def test_the_setup_engine_faults_by_itself():
    """The engine setup builds (ARM only: scripts/build_unicorn.sh) carries the alignment
    patch, so no run pays for the watch; the PyPI wheel does not."""
    from armsim.machine.alignment import engine_aligns
    from armsim.machine.engine import engine_build

    e = engine_build()
    if not e.arm_only:
        pytest.skip(f"{e}: the PyPI wheel, which watches instead")
    assert engine_aligns(), f"{e} runs an unaligned LDRD: rebuild with scripts/build_unicorn.sh"


def test_the_watch_says_once_that_it_is_slower(monkeypatch, capsys):
    from armsim.machine import alignment

    monkeypatch.setattr(alignment, "engine_aligns", lambda: False)
    monkeypatch.setattr(alignment, "_warned", False)
    monkeypatch.delenv(alignment.MODE_VARIABLE, raising=False)
    assert alignment.use_watch() and alignment.use_watch()
    err = capsys.readouterr().err
    assert err.count("armsim:") == 1 and "slower" in err, err
    monkeypatch.setenv(alignment.MODE_VARIABLE, "sometimes")
    with pytest.raises(ArmsimError, match="ARMSIM_ALIGNMENT"):
        alignment.use_watch()


@pytest.mark.parametrize("name", ["sram_fetch", "scs_fetch", "xn_unmapped_fetch",
                                  "unmapped_fetch", "alias_write", "sram_write_after_read"])
def test_same_faults_on_unicorns_own_tlb(broken_tree, name, monkeypatch):
    """An engine whose virtual TLB is not sound (the PyPI wheel) runs on Unicorn's own TLB:
    fetches from non-executable regions still fault, with the same kinds."""
    from armsim.machine import tlb

    monkeypatch.setattr(tlb, "vtlb_sound", lambda: False)
    m = broken_machine(broken_tree, name, monkeypatch)
    assert not m.tlb.virtual
    with pytest.raises(EmulatorFault) as exc:
        m.run(max_instructions=2_000_000, timeout_s=5)
    assert exc.value.kind == BROKEN[name][1], str(exc.value)


@pytest.mark.parametrize("mcu_name", ["generic", "stm32f746"])
def test_selected_code_hooks_count_what_the_span_hook_counted(tmp_path, monkeypatch, mcu_name):
    """armsim's engine instruments only the hooked loads and stores of a native check
    (scripts/patches/unicorn-2.1.3-code-hook-pcs.patch): the M7's address facts, the
    instruction count and the cycle estimate equal those of one hook over the whole span."""
    from armsim.machine import alignment

    if alignment._select_function() is None:
        pytest.skip("this engine has no uc_armsim_hook_select_pcs (the PyPI wheel)")
    import dataclasses

    # the test program is linked at 0: flash there (the F746's ITCM RAM set aside)
    part = dataclasses.replace(mcu.get_mcu(mcu_name), flash_aliases=(0,), other_ram=())
    if part.flash_base == 0:
        part = dataclasses.replace(part, flash_aliases=())
    body = f"""ldr r2, ={part.sram_base + 0x10002:#x}
    movs r3, #10
1:  ldr r0, [r2]
    ldr r1, [r2, #2]
    ldrb r0, [r2]
    str r1, [r2, #6]
    push {{r0, r1}}
    pop {{r0, r1}}
    subs r3, #1
    bne 1b"""
    src = _vector_asm(body).replace(".word 0x20008000", f".word {part.sram_base + 0x8000:#x}")
    elf = _tiny(tmp_path, src, "selected", "cortex-m7")

    def run() -> tuple[int, float, np.ndarray]:
        m = Machine(ElfImage.load(elf), cpus.get_cpu("m7"), part)
        stats = m.run()
        assert m.accesses is not None
        return stats.instructions, m.cycles_so_far(), m.accesses.counts()

    selected = run()
    monkeypatch.setattr(alignment, "_select_function", lambda: None)
    spanned = run()
    assert selected[0] == spanned[0] and selected[1] == spanned[1]
    np.testing.assert_array_equal(selected[2], spanned[2])
    assert selected[2][:, 2].sum() == 10  # the unaligned LDR, once per iteration
    if part.name == "stm32f746":  # SRAM1 (AXI): 3 loads and a store per iteration
        assert (selected[2][:, 0].sum(), selected[2][:, 1].sum()) == (30, 10)
