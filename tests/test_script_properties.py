"""Property tests: every float32 and address survives write -> parse; random and mutated
scripts only ever raise ScriptError."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from armsim.errors import ScriptError
from armsim.script.load import parse_text
from armsim.script.writer import float32_line

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from fuzz_scripts import SEEDS, mutate  # noqa: E402

SRAM = 0x20000000

finite_f32_bits = st.integers(0, 2**32 - 1).filter(
    lambda b: np.isfinite(np.uint32(b).view(np.float32)))
aligned_address = st.integers(0, (1 << 30) - 1).map(lambda a: a * 4)


@given(st.lists(st.tuples(aligned_address, finite_f32_bits), min_size=1, max_size=40,
                unique_by=lambda t: t[0]),
       st.sampled_from(["seed", "hex"]))
@settings(max_examples=300, deadline=None)
def test_float32_bits_and_addresses_round_trip(writes, style):
    text = "".join(float32_line(a, np.uint32(b).view(np.float32), style) for a, b in writes)
    s = parse_text(text)
    assert s.address.tolist() == [a for a, _ in writes]
    assert s.bits.tolist() == [b for _, b in writes]


@given(st.integers(0, 2**32 - 1), st.integers(-(2**31), 2**32 - 1))
@settings(max_examples=200, deadline=None)
def test_dword_expressions_round_trip(address, value):
    s = parse_text(f"_WDWORD(0x{address:X}, {value})\n_WDWORD({address} + 0, ({value}))\n"
                   if address % 4 == 0 else f"_WDWORD(0x{address:X}, {value})\n")
    from armsim.script.model import UNSIGNED_HIGH

    assert int(s.bits[0]) & ~UNSIGNED_HIGH == value & 0xFFFFFFFF
    # spelled above int32's range: flagged, so an int32 buffer's check can name the line
    assert bool(int(s.bits[0]) & UNSIGNED_HIGH) == (value >= 1 << 31)
    assert int(s.address[0]) == address


_PIECES = ["_WFLOAT", "_WDWORD", "_WBYTE", "_RDWORD", "FUNC", "void", "(", ")", "{", "}", ";",
           ",", "0x20000000", "536874068", "0.5", "-1e-3f", "1e39", "//", "/*", "*/", "\"",
           "SP", "=", "g", "main", "LOAD", "%L", "INCREMENTAL", "BS", "<<", "~", "\n", " ",
           "\t", "\r\n", "0777", "1FH", "printf", "\u00e9", "\x00", "\ufeff", "%", "@"]


def _check(text: str) -> None:
    try:
        parse_text(text, "fuzz.ini")
    except ScriptError as e:
        assert e.line >= 0 and str(e).startswith("fuzz.ini")


@given(st.lists(st.sampled_from(_PIECES), max_size=40))
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
def test_random_token_soup_raises_only_script_errors(pieces):
    _check("".join(pieces))


@given(st.integers(0, 2**32 - 1))
@settings(max_examples=400, deadline=None)
def test_mutated_scripts_raise_only_script_errors(seed):
    """The mutator of scripts/fuzz_scripts.py, over its seed and set-up scripts."""
    rng = random.Random(seed)
    _check(mutate(rng, rng.choice(SEEDS)))
