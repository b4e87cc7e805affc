"""Thumb decoding with capstone: instruction counts per block and readable listings."""

from __future__ import annotations

from functools import lru_cache

import capstone


@lru_cache(maxsize=1)
def _cs() -> capstone.Cs:
    return capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)


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
