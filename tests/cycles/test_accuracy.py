"""The cycle model's measured error as data: the published rows' summary per core, the
user's own table (scripts/check_cycles.py --save) and what the reports say."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from statistics import median

import pytest

from armsim.cli import main
from armsim.timing import accuracy
from tests.cycles.test_memory import elf  # noqa: F401  (the fixture)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_cycles.py"


def test_published_summary_is_the_rows_largest_and_median_error():
    cores = {c for c, *_ in accuracy.MEASURED}
    assert {"m0", "m3", "m4f", "m7"} <= cores
    for core in cores:
        errs = [abs(e - m) / m * 100 for c, _, m, e in accuracy.MEASURED if c == core]
        acc = accuracy.published(core)
        assert acc.max_pct == round(max(errs), 1) and acc.median_pct == round(median(errs), 1)
        assert acc.n == len(errs) and not acc.local
    # variants on the same model share its rows; a core never measured says so
    assert accuracy.published("m7d") == accuracy.published("m7").__class__(
        "m7d", *[getattr(accuracy.published("m7"), f) for f in ("max_pct", "median_pct", "n",
                                                                  "source")])
    assert accuracy.published("m33") is None
    assert accuracy.error_json("m33")["max"] is None
    assert "no silicon measurements of m33" in accuracy.error_words("m33")


def test_a_local_table_replaces_the_published_error_for_its_part(tmp_path, monkeypatch):
    monkeypatch.setenv("ARMSIM_HOME", str(tmp_path))
    path = accuracy.save_local([
        {"mcu": "stm32f407", "cpu": "m4f", "name": "a", "measured": 1000, "estimate": 1100},
        {"mcu": "stm32f407", "cpu": "m4f", "name": "b", "measured": 1000, "estimate": 980}])
    assert path == tmp_path / "cycle-errors.json"
    mine = accuracy.error_json("m4f", "stm32f407")
    assert mine["local"] and mine["max"] == 10.0 and mine["median"] == 6.0
    assert "your 2 programs measured on stm32f407" in accuracy.error_words("m4f", "stm32f407")
    # the same program saved again replaces its row; other parts keep the published figure
    accuracy.save_local([{"mcu": "stm32f407", "cpu": "m4f", "name": "a", "measured": 1000,
                          "estimate": 1000}])
    assert accuracy.error_json("m4f", "stm32f407")["max"] == 2.0
    assert accuracy.error_json("m4f", "nrf52840") == accuracy.error_json("m4f")
    (tmp_path / "cycle-errors.json").write_text("[not json")
    with pytest.raises(accuracy.ArmsimError, match="not a table of measured cycle errors"):
        accuracy.error_json("m4f", "stm32f407")


def test_reports_state_the_error_on_their_core(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ARMSIM_HOME", str(tmp_path))
    assert main(["simulate", "--image", "1", "--json", "--cpu", "m7"]) == 0
    row = json.loads(capsys.readouterr().out)
    row = row[0] if isinstance(row, list) else row
    assert row["estimate_error_pct"]["max"] == accuracy.published("m7").max_pct
    assert main(["simulate", "--image", "1", "--cpu", "m3"]) == 0
    assert f"±{accuracy.published('m3').max_pct:g} % on this core" in capsys.readouterr().out


def test_check_cycles_save_writes_the_users_table(elf, tmp_path):  # noqa: F811
    from armsim.parts.flash import fetch_for
    from tests.cycles.test_memory import window
    measured = window(elf, fetch_for("stm32f407", setup="reset")) * 1.05
    manifest = tmp_path / "mine.toml"
    manifest.write_text(f'[[program]]\nname = "loop"\nelf = "{elf}"\nstart = "bench_start"\n'
                        f'end = "bench_end"\nmeasured = {measured}\n')
    home = tmp_path / "home"
    r = subprocess.run([sys.executable, str(SCRIPT), str(manifest), "--save"],
                       capture_output=True, text=True, env={"ARMSIM_HOME": str(home),
                                                           "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert "saved to" in r.stdout and "m4f: largest |error| 4.8 %" in r.stdout
    table = json.loads((home / "cycle-errors.json").read_text())
    assert [x["name"] for x in table["stm32f407"]["m4f"]] == ["loop"]


def test_the_m0_multiplier_is_the_parts():
    """DDI 0432 table 3-1: MULS takes 1 cycle with the fast multiplier, 32 with the small
    one; the part says which (Mcu.multiplier), and --cpu m0 alone states its assumption."""
    from dataclasses import replace

    from armsim.parts.mcus import get_mcu
    from armsim.timing import cycles

    muls = bytes.fromhex("4943")  # muls r1, r1
    samd = get_mcu("samd21g18")
    assert samd.multiplier == "fast" and get_mcu("rp2040").multiplier == "fast"
    assert cycles.timing_key("m0plus", samd) == "m0plus/fast-mul"
    assert cycles.timing_key("m0", samd) == "m0/fast-mul"
    assert cycles.timing_key("m0", get_mcu("generic")) == "m0"
    assert "assumed" in cycles.timing_for("m0").name
    small = cycles.timing_key("m0", replace(samd, multiplier="small"))
    assert cycles.block_cost(muls, 0x100, cycles.timing_for(small)).base == 32
    assert cycles.block_cost(muls, 0x100, cycles.timing_for("m0/fast-mul")).base == 1
    assert cycles.timing_key("m4f", replace(samd, multiplier="small")) == "m4f"
    # the M0+ (DDI 0484): a taken B costs 2 cycles where the M0's costs 3
    b = bytes.fromhex("fee7")  # b . (taken)
    m0, m0p = (cycles.block_cost(b, 0x100, cycles.timing_for(c)).base
               + cycles.timing_for(c).refill for c in ("m0", "m0plus"))
    assert (m0, m0p) == (3, 2)
