"""Thumb decoding with capstone: instruction counts per block and readable listings."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterator

import capstone
from capstone import arm


@lru_cache(maxsize=1)
def _cs() -> capstone.Cs:
    return capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)


@lru_cache(maxsize=2)
def _detailed(skipdata: bool) -> capstone.Cs:
    cs = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    cs.detail = True
    cs.skipdata = skipdata
    return cs


def scan(code: bytes, address: int) -> Iterator[Any]:
    """Every instruction of a code segment with operand details, stepping over bytes that
    do not decode (literal pools, padding)."""
    return (i for i in _detailed(True).disasm(code, address) if i.id != 0)


def decode_one(code: bytes, address: int) -> Any | None:
    """The instruction at the start of ``code``, with operand details, or None."""
    return next(_detailed(False).disasm(code, address, 1), None)


def count_instructions(code: bytes, address: int) -> int | None:
    """Instructions in ``code`` decoded from ``address``; None unless it decodes completely."""
    n = 0
    end = address
    for _addr, size, _mn, _op in _cs().disasm_lite(code, address):
        n += 1
        end += size
    return n if end == address + len(code) else None


def listing(code: bytes, address: int, limit: int = 0) -> list[tuple[int, str]]:
    """(address, "mnemonic operands") for up to ``limit`` instructions (0: all)."""
    out = []
    for addr, _size, mn, op in _cs().disasm_lite(code, address, limit):
        out.append((addr, f"{mn} {op}".strip()))
    return out


@lru_cache(maxsize=4096)
def _memory_insns(code: bytes, address: int) -> tuple[tuple[int, int, bool], ...]:
    """(address, offset, is_store) of a block's loads and stores not based on SP or PC."""
    out = []
    for insn in _detailed(False).disasm(code, address):
        mem = [o for o in insn.operands if o.type == arm.ARM_OP_MEM]
        if mem and mem[0].mem.base not in (arm.ARM_REG_SP, arm.ARM_REG_PC):
            out.append((insn.address, mem[0].mem.disp,
                        insn.mnemonic.startswith(("st", "vst", "push"))))
    return tuple(out)


def access_insn(code: bytes, address: int, target: int, write: bool,
                after: int = -1) -> int | None:
    """The instruction of a block (``code`` at ``address``) that most likely made an access to
    ``target`` (a peripheral: the engine reports only the block): among its loads (or
    stores) after ``after`` that are not based on SP or PC, the first whose offset is
    ``target``'s offset in its 4 KiB page (a register-struct access such as
    ``DWT->CYCCNT``), else the first with offset 0, else the first. None if none."""
    found = [(a, d) for a, d, st in _memory_insns(code, address) if st == write and a > after]
    for want in (target & 0xFFF, 0):
        for a, disp in found:
            if disp == want:
                return a
    return found[0][0] if found else None
