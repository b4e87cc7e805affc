"""The debug-function language and µVision's commands as real set-up scripts use them: each
script of tests/scripts/real_like/ runs its set-up on the emulator and leaves the memory,
registers, notes and warnings it should; warning cases; signals on the cycle clock;
\\file\\line addresses; peripherals."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from armsim.cli import main
from armsim.errors import EmulatorFault, ScriptError
from armsim.plan.seed import seed_graph, seed_plan
from armsim.script.parser import parse_lines, parse_program
from armsim.script.target import run_script
from armsim.session.session import Session

REAL = Path(__file__).resolve().parent / "scripts" / "real_like"


def fresh() -> Session:
    """A new machine per script (MAP and peripheral regions belong to one machine)."""
    g = seed_graph(8)
    s = Session(g, seed_plan(g), "m4f", "generic")
    s.machine.begin()
    return s


def word(m, address: int) -> int:
    return int.from_bytes(m.read(address, 4), "little")


def run(name: str, **kw):
    s = fresh()
    log = run_script(parse_program(REAL / name), s.machine, None, lenient=True, **kw)
    return s.machine, log


def at_main(m) -> bool:
    return m.pc == m.image.symbol("main").address


def test_stm32f4_clock_setup_writes_peripherals_and_reaches_main():
    m, log = run("stm32f4_flash.ini")
    assert at_main(m)
    assert word(m, 0x40023800) == 0x00010083  # RCC_CR read back, HSEON or-ed in
    assert word(m, 0x40023C00) == 0x705
    assert word(m, 0xE000ED08) == 0x08000000
    assert m.get_reg("SP") < m.initial_sp  # start-up code ran on the vector table's stack
    assert "wrote 3 registers and read 1 of 0x40023800-0x40023833 (RCC on STM32F4/F7?)" \
        in log.peripherals[0]
    assert not log.warnings


def test_sdram_bring_up_with_discarded_reads_and_external_ram():
    m, log = run("stm32f7_sdram.ini")
    assert at_main(m)
    assert [word(m, 0xC0000000 + 4 * i) for i in range(16)] == \
        [0xA5A50000 | i for i in range(16)]
    assert word(m, 0xA0000150) == 3 | 1 << 4 | 7 << 5  # the last FMC command
    assert word(m, 0xA0000154) == 0x603 << 1
    assert any("read 1 of 0xA0033000" in p for p in log.peripherals)  # the mode-register read
    assert any("_sleep_" in n for n in log.notes)


def test_map_gives_local_sram_and_pointer_stores_reach_it():
    m, log = run("lpc17xx_ram.ini")
    assert at_main(m)
    region = m.map.find(0x10000000, 0x8000)
    assert region is not None and region.perms == "rwx"
    assert word(m, 0x10000004) == 0x12345679
    assert word(m, 0x400FC0C4) == 0x042887DE


def test_validation_style_reset_log_enter_eval_and_exit():
    m, log = run("cmsis_validation.ini")
    assert at_main(m)
    assert [word(m, 0x20010000 + 4 * i) for i in range(3)] == [1, 2, 3]
    assert word(m, 0x20010020) == 0  # after EXIT: not run
    text = log.logs["validation.log"]
    assert "setup 1: SP=0x20020000 PC=" in text and "done after 1 run(s), last SP 0x20020000, ok" \
        in text
    assert any("test_runs * 10 = 10" in n for n in log.notes)
    assert any("EXIT" in n for n in log.notes)
    assert not log.warnings  # OnResetExec ran (RESET), Setup was called


def test_signal_runs_on_the_estimated_cycle_clock_and_breaks_the_run():
    s = fresh()
    m = s.machine
    text = (REAL / "signal_clock.ini").read_text().splitlines()
    log = run_script(parse_lines(text, str(REAL / "signal_clock.ini")), m, None, lenient=True)
    assert word(m, 0x40000024) == 3
    assert any("_break_ set by a signal" in n for n in log.notes)
    now = m.cycles_so_far()
    assert 6000 <= now < 6000 + 64  # stopped at the third tick, within a block's cycles
    assert any("SIGNAL STATE: Tick: waits until" in n for n in log.notes)
    assert any("DEFINE BUTTON" in n and "not run" in n for n in log.notes)


def test_signal_sees_states_advance_by_its_twatch():
    s = fresh()
    m = s.machine
    script = ("DEFINE unsigned long t0\nDEFINE unsigned long t1\nDEFINE int n\n"
              "SIGNAL void Probe (void) {\n  t0 = states;\n  twatch(500);\n  t1 = states;\n"
              "  n = 1;\n}\nLOAD %L INCREMENTAL\nProbe();\nG\n"
              "_WDWORD(0x20010000, t1 - t0);\n_WDWORD(0x20010004, n);\n")
    run_script(parse_lines(script.splitlines(), "probe.ini"), m, None)
    assert word(m, 0x20010004) == 1
    assert 500 <= word(m, 0x20010000) < 500 + 64


def test_c_subset_functions_loops_pointers_and_math():
    m, log = run("c_subset.ini")
    base = 0x20010000
    assert m.read(base, 6) == bytes([0x41, 0x42, 0, 0x44, 0x45, 0x46])
    assert m.read(base + 8, 2) == (0xBEEF).to_bytes(2, "little")
    assert struct.unpack("<f", m.read(base + 12, 4))[0] == 1.5
    assert [word(m, base + k) for k in (16, 20, 24, 28)] == [55, 7, 2, 0xBF]
    assert m.get_reg("R0") == 0xBEEF
    assert m.get_reg("R1") == 13 << 4
    assert m.get_reg("SP") == word(m, 0x08000000)


def test_latin1_comment_and_include():
    m, log = run("latin1_comments.ini")
    assert at_main(m) and word(m, 0xE000ED08) == 0x08000000
    m, log = run("include_main.ini")
    assert at_main(m) and word(m, 0x40023800) == 0x81


def test_stepping_breakpoint_commands_and_logs():
    m, log = run("stepping.ini")
    assert any("T 3: 3 instruction(s)" in n for n in log.notes)
    assert any("P 2: 2 instruction(s)" in n for n in log.notes)
    assert set(log.logs) == {"itm.log", "uart.log"}
    assert any("killed without being hit" in w for w in log.warnings)


def test_program_variables_and_access_breakpoint():
    m, log = run("program_variables.ini")
    assert word(m, 0x10000040) == 3
    assert word(m, 0x10000044) == m.image.symbol("armsim_predicted").address
    assert any("breakpoint 0 (armsim_predicted)" in n for n in log.notes)
    assert m.pc == m.image.symbol("armsim_halt").address
    assert not log.warnings


def test_file_line_breakpoint_resolves_through_dwarf():
    s = fresh()
    m = s.machine
    for fn in ("main", "armsim_conv2d_1ch_f32"):  # the generated main and a kernel's source
        addr = m.image.symbol(fn).address
        file, line = m.image.source_line(addr)
        name = Path(file).name
        for form in (f"\\{name}\\{line}", f"\\\\network\\{name}\\{line}"):
            m.begin()
            log = run_script(parse_lines(["LOAD %L INCREMENTAL", f"BS {form}", "G"], "l.ini"),
                             m, None)
            assert m.image.describe(m.pc).startswith(fn + "+"), (form, m.image.describe(m.pc))
            assert m.image.source_line(m.pc) == (file, line), form
            assert not log.warnings
    with pytest.raises(ScriptError, match="has no code in the ELF's line table"):
        m.begin()
        run_script(parse_lines(["BS \\nosuch.c\\12"], "l.ini"), m, None)


@pytest.mark.parametrize("lines, warning", [
    (["SP = 0", "PC = _RDWORD(0x08000004)"], "SP set to 0x00000000"),
    (["PC = 0x30000000"], "PC set to 0x30000000, outside readable memory"),
    (["BS main", "g, armsim_halt"], "ended at main+0x0 (breakpoint 0 (main)), not at armsim_halt"),
    (["BS armsim_finish", "BS main", "g, main"], "BS armsim_finish was never hit"),
    (["FUNC void OnResetExec (void) {", "}"], "OnResetExec() is defined but never ran"),
    (["FUNC void Unused (void) {", "}"], "FUNC Unused() is defined but never called"),
])
def test_warnings(lines, warning):
    s = fresh()
    log = run_script(parse_lines(lines, "w.ini"), s.machine, None)
    assert any(warning in w for w in log.warnings), log.warnings


def test_strict_turns_warnings_into_exit_1(tmp_path, capsys):
    p = tmp_path / "w.ini"
    p.write_text("FUNC void Unused (void) {\n}\nLOAD %L INCREMENTAL\ng, main\n")
    assert main(["script", "check", str(p), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)[0]
    assert rep["warnings"] == ["line 1: FUNC Unused() is defined but never called"]
    assert rep["stopped_at"] == "main+0x0"
    assert main(["script", "check", str(p), "--strict"]) == 1


def test_fault_during_g_names_the_script_line():
    s = fresh()
    with pytest.raises(EmulatorFault) as exc:
        run_script(parse_lines(["LOAD %L INCREMENTAL", "PC = 0x20000001", "G"], "f.ini"),
                   s.machine, None)
    assert "f.ini:3: the run started by 'G' faulted" in str(exc.value)
    assert exc.value.report  # the crash report is kept


def test_peripherals_strict_keeps_the_fault(capsys):
    path = str(REAL / "stm32f4_flash.ini")
    assert main(["script", "check", path, "--peripherals", "strict"]) == 2
    assert "outside mapped memory" in capsys.readouterr().err
    assert main(["script", "check", path, "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)[0]
    assert any("RCC on STM32F4/F7?" in p for p in rep["peripherals"])


def test_lenient_check_warns_about_another_programs_names(tmp_path, capsys):
    p = tmp_path / "blinky.ini"
    p.write_text('LOAD "..\\\\obj\\\\Blinky.axf" INCREMENTAL\nPORT0 = 0x55;\n'
                 "BS \\\\Blinky\\main.c\\40\ng, main\n")
    assert main(["script", "check", str(p), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)[0]
    text = " ".join(rep["warnings"])
    assert "outside the script's folder" in text and "not loaded" in text
    assert "'PORT0'" in text and "VTREG" in text
    assert "line 40 of main.c has no code" in text


def test_endless_wait_on_a_peripheral_names_it(monkeypatch):
    from armsim.script import limits

    monkeypatch.setattr(limits, "MAX_STEPS", 20_000)
    s = fresh()
    with pytest.raises(ScriptError) as exc:
        run_script(parse_lines(["FUNC void W (void) {",
                                "  while ((_RDWORD(0x40023800) & 0x20000) == 0) { }", "}",
                                "W();"], "w.ini"), s.machine, None)
    assert "0x40023800, an unmodelled peripheral (RCC on STM32F4/F7?)" in str(exc.value)


def test_parser_and_runner_do_not_import_each_other():
    import ast

    import armsim.script.parser as parser
    import armsim.script.runner as runner

    def imports(module) -> set[str]:
        tree = ast.parse(Path(module.__file__).read_text())
        return {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}

    assert not any(m.endswith("runner") for m in imports(parser))
    assert not any(m.endswith("parser") for m in imports(runner))


def test_log_dir_writes_the_scripts_log_files(tmp_path, capsys):
    assert main(["script", "check", str(REAL / "cmsis_validation.ini"), "--log-dir",
                 str(tmp_path), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)[0]
    assert rep["logs_written"] == [str(tmp_path / "validation.log")]
    assert "done after 1 run(s)" in (tmp_path / "validation.log").read_text()


def test_simulate_reports_a_setup_scripts_warnings(tmp_path, capsys, mnist_dir):
    from armsim.model.inputs import DEFAULT_MODEL, data_file

    weights = tmp_path / "w.ini"
    assert main(["export", str(data_file(DEFAULT_MODEL)), "--image", "3", "--data",
                 str(mnist_dir), "--out", str(weights)]) == 0
    script = tmp_path / "s.ini"
    script.write_text("FUNC void Unused (void) {\n}\n_WDWORD(0x40023830, 0x1FF);\n"
                      + weights.read_text())
    capsys.readouterr()
    assert main(["simulate", "--script", str(script), "--no-host", "--json"]) == 0
    out = capsys.readouterr()
    rep = json.loads(out.out)
    row = rep[0] if isinstance(rep, list) else rep
    assert any("FUNC Unused() is defined but never called" in w for w in row["warnings"])
    assert "RCC on STM32F4/F7?" in out.err


def test_script_check_leaves_a_wait_on_a_peripheral_with_a_warning(tmp_path, capsys):
    p = tmp_path / "hse.ini"
    p.write_text("_WDWORD(0x40023800, 0x00010000);   // HSEON\n"
                 "do { } while ((_RDWORD(0x40023800) & 0x00020000) == 0);  // HSERDY\n"
                 "LOAD %L INCREMENTAL\ng, main\n")
    assert main(["script", "check", str(p), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)[0]
    assert any("turned 10,000 times reading an unmodelled peripheral" in w and
               "0x40023800" in w and "loop was left" in w for w in rep["warnings"])
    assert rep["stopped_at"] == "main+0x0"


def test_top_level_blocks_and_more_commands(tmp_path, capsys):
    """A top-level if/else and while with braces on their own lines, RESET MAP, ASSIGN,
    ITMLOG with a channel and BA (an access breakpoint) as older scripts write them."""
    p = tmp_path / "t.ini"
    p.write_text("DEFINE int n\nn = 3\nif (n > 2)\n{\n  _WDWORD(0x40000000, n);\n}\n"
                 "else\n{\n  n = 0;\n}\nwhile (n > 0)\n{\n  n--;\n}\nRESET MAP\n"
                 "ASSIGN COM1 <S1IN >S1OUT\nITMLOG 0 > itm.txt\nBA READ armsim_predicted\n"
                 "BK *\nLOAD %L INCREMENTAL\ng, main\nEVAL n\n")
    assert main(["script", "check", str(p), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)[0]
    assert any("n = 0 (0x00000000)" in n for n in rep["notes"])
    assert any("0x40000000" in x for x in rep["peripherals"])
    assert any("'RESET MAP'" in n for n in rep["notes"])
    assert "itm.txt" in rep["logs"]
    assert rep["stopped_at"] == "main+0x0"


def test_uvision_short_type_names():
    """µVision's uchar, uint, ulong and bit, as its manual's examples write them."""
    from armsim.script.load import parse_text

    s = parse_text("FUNC ulong Twice (uint x) {\n  uchar c;\n  bit b;\n  c = 300;\n  b = 1;\n"
                   "  return x * 2 + c + b;\n}\n_WDWORD(0x20010000, Twice(5))\n")
    assert s.blocks() == [(0x20010000, (10 + 44 + 1).to_bytes(4, "little"))]  # 300 -> 44


def test_program_symbols_ignore_case_as_in_uvision():
    s = fresh()
    log = run_script(parse_lines(["LOAD %L INCREMENTAL", "g, MAIN"], "c.ini"), s.machine, None)
    assert at_main(s.machine) and not log.warnings
