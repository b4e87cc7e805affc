"""Parsing uVision scripts: the seed's lines, comments, expressions, and bad lines."""

from __future__ import annotations

import numpy as np
import pytest

from armsim.errors import ScriptError
from armsim.script.load import parse_text


def test_seed_line_forms():
    s = parse_text("_WFLOAT (536874068,0.1242609) \n_WFLOAT(0x20000C58, -1.5e-3f);\n"
                   "_wfloat ( 536874076 , 1e-08 )\n")
    assert s.address.tolist() == [536874068, 0x20000C58, 536874076]
    np.testing.assert_array_equal(s.bits.astype(np.uint32).view(np.float32),
                                  np.array([0.1242609, -1.5e-3, 1e-8], np.float32))


def test_comments_crlf_bom_and_blank_lines():
    text = "\ufeff// header\r\n\r\n/* block\r\n comment */ _WDWORD(0x20000000, 0x12345678) // x\r\n"
    s = parse_text(text)
    assert s.line.tolist() == [4]
    assert s.blocks() == [(0x20000000, bytes.fromhex("78563412"))]


def test_expressions_and_reads():
    s = parse_text("_WDWORD(0x20000000 + 4*2, (1 << 4) | 0x3)\n"
                   "_WBYTE(0x20000010, _RBYTE(0x20000008) + 1)\n"
                   "_WWORD(0x20000012, -1)\n_WDOUBLE(0x20000018, 0.5)\n")
    blocks = dict(s.blocks())
    assert blocks[0x20000008] == bytes([0x13, 0, 0, 0])
    assert blocks[0x20000010] == bytes([0x14])
    assert blocks[0x20000012] == bytes([0xFF, 0xFF])
    assert blocks[0x20000018] == bytes.fromhex("000000000000e03f")


@pytest.mark.parametrize("text, line, message", [
    ("_WFLOAT (536874068,0.1)\n_WFLOAT (536874072,zz)\n", 2, "unknown symbol or register 'zz'"),
    ("_WFLOAT (536874068,0.1)\n_WFLOAT (536874072,0.x)\n", 2, "expected ')'"),
    ("_WFLOAT (536874068,1e39)\n", 1, "overflows float32"),
    ("_WFLOAT (536874068,1e-50)\n", 1, "rounds to 0"),
    ("_WBYTE(0x20000000, 256)\n", 1, "does not fit 1 byte"),
    ("_WDWORD(0x20000000, 1.5)\n", 1, "expects an integer value"),
    ("\n\n_WFLOAT(0x20000000, 1.0\n", 3, "expected ')'"),
    ("FUNC void f(void) {\n  switch (1) { }\n}\n", 2, "'switch' is not supported"),
    ("FUNC void f(void) {\n  int i\n  i = 2;\n}\n", 3, "expected ';' after the statement"),
    ("x = 1 +\n", 1, "expected a value, found end of line"),
    ("FUNC int f(int a) {\n  return a;\n}\n_WDWORD(0x20000000, f(1, 2))\n", 4,
     "takes 1 argument(s), got 2"),
    ("_WDWORD(0x20000000, q)\n", 1, "a VTREG of a device peripheral"),
    ("_WDWORD(0x20000000, 1/0)\n", 1, "division by zero"),
    ("_WBYTE(0x20000000, 1)\n/* never closed\n_WBYTE(0, 1)\n", 2, "unterminated"),
    ("_WDWORD(0x100000000, 1)\n", 1, "outside the 32-bit"),
    ("_WFLOAT(0x20000000, 1.0)\n_WFLOAT(0x20000000, 2.0)\n", 2, "written twice"),
])
def test_bad_lines(text, line, message):
    with pytest.raises(ScriptError) as exc:
        s = parse_text(text, "bad.ini")
        s.blocks()
    assert exc.value.line == line
    assert message in str(exc.value)
    assert str(exc.value).startswith(f"bad.ini:{line}:")
