#!/usr/bin/env python3
"""Build jnk0le/cortexm-AES's hand-written routines from a checkout and write a
check_cycles.py manifest with the cycle counts its author measured on silicon.

The repository's doc/aes/*_details.md publish DWT cycle counts of each routine, called from a
unit test, on an STM32F0 (Cortex-M0, 0 wait states), an STM32F1 (M3, 0 wait states), an
STM32F4 (M4, 0 wait states) and an STM32H7 (M7, tables in DTCM). Those are the instructions
armsim runs, so the difference is the cycle model's error (armsim/timing/accuracy.py holds
the result). This script builds each routine against the checkout (never copied into
armsim) with a small driver that calls it between the symbols bench_start and bench_end:

    python scripts/aes_manifest.py --repo ../cortexm-AES --out build/aes
    python scripts/check_cycles.py build/aes/aes.toml

A routine whose published figure includes a set-up (setDecKey: the decryption key schedule
after the encryption one) runs that set-up before bench_start. The figures below are the
repository's tables at commit b18b7a4 (0 wait-state columns).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from armsim.firmware.toolchain import find_gcc  # noqa: E402

#: core -> (GCC -mcpu, MCU preset standing in for the measured part, its clock in MHz)
CORES = {"m0": ("cortex-m0", "generic", None), "m3": ("cortex-m3", "generic", None),
         "m4": ("cortex-m4", "stm32f407", 16), "m7": ("cortex-m7", "stm32f746", 16)}
FLASH = {"generic": 0, "stm32f407": 0x08000000, "stm32f746": 0x08000000}


def _ks(fn: str) -> tuple:
    return ("ks", fn)


def _enc(fn: str, rounds: int) -> tuple:
    return ("enc", fn, rounds)


def routines() -> list[tuple[str, str, list[tuple], list[tuple], list[str], int]]:
    """(core, name, set-up calls, measured calls, sources, published cycles) per row."""
    out: list = []

    def add(core, name, calls, files, cycles, pre=()):
        out.append((core, name, list(pre), calls, files, cycles))

    s, f, d = "CM0_sBOX/", "CM0_FASTMULsBOX/", "CM0_d4T/"
    add("m0", "sBOX ks128", [_ks("CM0_sBOX_AES128_keyschedule_enc")],
        [s + "CM0_sBOX_AES128_keyschedule_enc.S"], 399)
    add("m0", "sBOX ks256", [_ks("CM0_sBOX_AES256_keyschedule_enc")],
        [s + "CM0_sBOX_AES256_keyschedule_enc.S"], 568)
    add("m0", "d4T ks128", [_ks("CM0_d4T_AES128_keyschedule_enc")],
        [d + "CM0_d4T_AES128_keyschedule_enc.S"], 439)
    add("m0", "d4T ks256", [_ks("CM0_d4T_AES256_keyschedule_enc")],
        [d + "CM0_d4T_AES256_keyschedule_enc.S"], 620)
    add("m0", "FASTMUL OTFKS enc128", [("otf", "CM0_FASTMULsBOX_OTFKS_AES128_encrypt")],
        [f + "CM0_FASTMULsBOX_OTFKS_AES128_encrypt.S"], 2506)
    add("m0", "FASTMUL OTFKS enc256", [("otf", "CM0_FASTMULsBOX_OTFKS_AES256_encrypt")],
        [f + "CM0_FASTMULsBOX_OTFKS_AES256_encrypt.S"], 3558)
    m0 = {10: dict(se=1646, sd=2537, fe=1567, fd=2351, de=1152, dd=1155, dk=1604, fe4=1138,
                   fd4=1132, fk=1500),
          14: dict(se=2306, sd=3589, fe=2195, fd=3323, de=1588, dd=1591, dk=2308, fe4=1574,
                   fd4=1568, fk=2156)}
    for r, p in m0.items():
        k = "128" if r == 10 else "256"
        add("m0", f"sBOX enc{k}", [_enc("CM0_sBOX_AES_encrypt", r)],
            [s + "CM0_sBOX_AES_encrypt.S"], p["se"])
        add("m0", f"sBOX dec{k}", [_enc("CM0_sBOX_AES_decrypt", r)],
            [s + "CM0_sBOX_AES_decrypt.S"], p["sd"])
        add("m0", f"FASTMUL enc{k}", [_enc("CM0_FASTMULsBOX_AES_encrypt", r)],
            [f + "CM0_FASTMULsBOX_AES_encrypt.S"], p["fe"])
        add("m0", f"FASTMUL dec{k}", [_enc("CM0_FASTMULsBOX_AES_decrypt", r)],
            [f + "CM0_FASTMULsBOX_AES_decrypt.S"], p["fd"])
        add("m0", f"d4T enc{k}", [_enc("CM0_d4T_AES_encrypt", r)],
            [d + "CM0_d4T_AES_encrypt.S"], p["de"])
        add("m0", f"d4T dec{k}", [_enc("CM0_d4T_AES_decrypt", r)],
            [d + "CM0_d4T_AES_decrypt.S"], p["dd"])
        add("m0", f"d4T_FAST enc{k}", [_enc("CM0_d4T_FAST_AES_encrypt", r)],
            [d + "CM0_d4T_FAST_AES_encrypt.S"], p["fe4"])
        add("m0", f"d4T_FAST dec{k}", [_enc("CM0_d4T_FAST_AES_decrypt", r)],
            [d + "CM0_d4T_FAST_AES_decrypt.S"], p["fd4"])
        add("m0", f"d4T setDecKey{k}", [("dks", "CM0_d4T_AES_keyschedule_dec", r)],
            [d + f"CM0_d4T_AES{k}_keyschedule_enc.S", d + "CM0_d4T_AES_keyschedule_dec.S"],
            p["dk"], [_ks(f"CM0_d4T_AES{k}_keyschedule_enc")])
        add("m0", f"FASTMUL setDecKey{k}", [("dks", "CM0_FASTMUL_AES_keyschedule_dec", r)],
            [s + f"CM0_sBOX_AES{k}_keyschedule_enc.S", d + "CM0_FASTMUL_AES_keyschedule_dec.S"],
            p["fk"], [_ks(f"CM0_sBOX_AES{k}_keyschedule_enc")])
    t = "CM3_1T/"
    m34 = {"m3": dict(ks128=302, ks256=378, e10=627, e14=859, u10=599, u14=819, k10=813,
                      k14=1163, d10=629, d14=861, v10=600, v14=820),
           "m4": dict(ks128=302, ks256=378, e10=626, e14=858, u10=601, u14=821, k10=811,
                      k14=1164, d10=629, d14=863, v10=602, v14=822)}
    for core, p in m34.items():
        for r, k in ((10, "128"), (14, "256")):
            add(core, f"1T ks{k}", [_ks(f"CM3_1T_AES{k}_keyschedule_enc")],
                [t + f"CM3_1T_AES{k}_keyschedule_enc.S"], p[f"ks{k}"])
            add(core, f"1T enc{k}", [_enc("CM3_1T_AES_encrypt", r)],
                [t + "CM3_1T_AES_encrypt.S"], p[f"e{r}"])
            add(core, f"1T dec{k}", [_enc("CM3_1T_AES_decrypt", r)],
                [t + "CM3_1T_AES_decrypt.S"], p[f"d{r}"])
            add(core, f"1T enc{k} unrolled", [("enc3", f"CM3_1T_AES{k}_encrypt_unrolled")],
                [t + f"CM3_1T_AES{k}_encrypt_unrolled.S"], p[f"u{r}"])
            add(core, f"1T dec{k} unrolled", [("enc3", f"CM3_1T_AES{k}_decrypt_unrolled")],
                [t + f"CM3_1T_AES{k}_decrypt_unrolled.S"], p[f"v{r}"])
            add(core, f"1T setDecKey{k}", [("dks", "CM3_1T_AES_keyschedule_dec", r)],
                [t + f"CM3_1T_AES{k}_keyschedule_enc.S", t + "CM3_1T_AES_keyschedule_dec.S"],
                p[f"k{r}"], [_ks(f"CM3_1T_AES{k}_keyschedule_enc")])
    for r, k, pe, pd in ((10, "128", 844, 1240), (14, "256", 1172, 1744)):
        add("m4", f"DSPsBOX enc{k}", [_enc("CM4_DSPsBOX_AES_encrypt", r)],
            ["CM4_DSPsBOX/CM4_DSPsBOX_AES_encrypt.S"], pe)
        add("m4", f"DSPsBOX dec{k}", [_enc("CM4_DSPsBOX_AES_decrypt", r)],
            ["CM4_DSPsBOX/CM4_DSPsBOX_AES_decrypt.S"], pd)
    t = "CM7_1T/"
    for r, k, pk, pe, pkd, pd, pds in ((10, "128", 139, 292, 357, 293, 400),
                                       (14, "256", 178, 400, 509, 401, 556)):
        add("m7", f"1T ks{k}", [_ks(f"CM7_1T_AES{k}_keyschedule_enc")],
            [t + f"CM7_1T_AES{k}_keyschedule_enc.S"], pk)
        add("m7", f"1T enc{k}", [_enc("CM7_1T_AES_encrypt", r)],
            [t + "CM7_1T_AES_encrypt.S"], pe)
        add("m7", f"1T dec{k}", [_enc("CM7_1T_AES_decrypt", r)],
            [t + "CM7_1T_AES_decrypt.S"], pd)
        add("m7", f"1T setDecKey{k}", [("dks", "CM7_1T_AES_keyschedule_dec", r)],
            [t + f"CM7_1T_AES{k}_keyschedule_enc.S", t + "CM7_1T_AES_keyschedule_dec.S"],
            pkd, [_ks(f"CM7_1T_AES{k}_keyschedule_enc")])
        add("m7", f"DSPsBOX enc{k}", [_enc("CM7_DSPsBOX_AES_encrypt", r)],
            ["CM7_DSPsBOX/CM7_DSPsBOX_AES_encrypt.S"], pds)
    return out


def _args(call: tuple) -> str:
    """Argument set-up for one call (AAPCS: r0-r3)."""
    kind = call[0]
    regs = {"ks": ("rk", "key"), "dks": ("rk",), "enc": ("rk", "inb", "outb"),
            "enc3": ("rk", "inb", "outb"), "otf": ("key", "inb", "outb")}[kind]
    lines = [f"    ldr r{i}, ={sym}" for i, sym in enumerate(regs)]
    if kind in ("dks", "enc"):
        lines.append(f"    movs r{len(regs)}, #{call[2]}")
    return "\n".join(lines) + "\n"


DRIVER = """    .syntax unified
    .cpu {cpu}
    .thumb
    .section .isr_vector, "a"
    .word 0x20008000
    .word Reset_Handler
    .text
    .balign 4
    .thumb_func
    .global Reset_Handler
Reset_Handler:
{pre}{first}    .global bench_start
bench_start:
{calls}    .global bench_end
bench_end:
    b bench_end
    .ltorg
    .bss
    .balign 16
rk: .space 256
key: .space 32
inb: .space 16
outb: .space 16
"""
LINK = """MEMORY {{ FLASH (rx) : ORIGIN = {flash:#x}, LENGTH = 256K
  RAM (rw) : ORIGIN = 0x20000000, LENGTH = 32K }}
ENTRY(Reset_Handler)
SECTIONS {{
  .isr_vector : {{ KEEP(*(.isr_vector)) }} > FLASH
  .text : {{ *(.text*) *(.rodata*) }} > FLASH
  .data : {{ *(.data*) }} > RAM
  .bss : {{ *(.bss*) *(COMMON) }} > RAM
}}
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", required=True, help="a checkout of jnk0le/cortexm-AES")
    ap.add_argument("--out", default="build/aes", help="where the images and manifest go")
    args = ap.parse_args()
    repo, out = Path(args.repo).resolve(), Path(args.out).resolve()
    target = repo / "aes" / "target"
    if not target.is_dir():
        print(f"aes_manifest: {repo}: no aes/target folder (a checkout of "
              "jnk0le/cortexm-AES expected)", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    gcc, entries = find_gcc(), []
    for i, (core, name, pre, calls, files, cycles) in enumerate(routines()):
        mcpu, mcu, clock = CORES[core]
        link = out / f"{mcu}.ld"
        link.write_text(LINK.format(flash=FLASH[mcu]))
        first, last = calls[0], calls[1:]
        src = out / f"{core}_{i:02d}.S"
        src.write_text(DRIVER.format(
            cpu=mcpu, pre="".join(_args(c) + f"    bl {c[1]}\n" for c in pre),
            first=_args(first), calls=f"    bl {first[1]}\n" + "".join(
                _args(c) + f"    bl {c[1]}\n" for c in last)))
        elf = src.with_suffix(".elf")
        cmd = [gcc, f"-mcpu={mcpu}", "-mthumb", "-O2", "-nostdlib", "-nostartfiles",
               "-mfloat-abi=soft", "-T", str(link), "-I", str(target), "-I", str(repo),
               str(src), *[str(target / f) for f in files], str(repo / "aes" / "lookup_tables.c"),
               "-o", str(elf)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            print(f"aes_manifest: {name} ({core}) did not build:\n{done.stderr}",
                  file=sys.stderr)
            return 2
        entry = (f'[[program]]\nname = "{core} {name}"\nelf = "{elf.name}"\n'
                 f'start = "bench_start"\nend = "bench_end"\nmeasured = {cycles}\n'
                 f'mcu = "{mcu}"\n')
        if clock:
            entry += f'clock_mhz = {clock}\nflash_accel = "off"\n'
        if mcu == "generic":
            entry += f'cpu = "{core}"\n'
        entries.append(entry)
    manifest = out / "aes.toml"
    manifest.write_text("\n".join(entries))
    print(f"{len(entries)} routines built; manifest {manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
