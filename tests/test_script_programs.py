"""Scripts against the user's own program, as real µVision projects write them: LOAD of an
image makes it the program; names it lacks are errors; program variables by their C types
(DWARF): elements, members, pointers; SIGNAL functions that wait for the program's accesses;
MAP ... CLEAR, tracepoint commands, file-qualified places with relative paths; INCLUDE and
LOAD above the script's folder inside its project; writes where the part has no memory."""

from __future__ import annotations

import json
import shutil

import pytest

from armsim.cli import main

USER_C = """
typedef struct node { int value; float gain; struct node *next; unsigned char tag[3]; } node_t;
node_t first = {1, 2.5f, 0, {7, 8, 9}};
node_t second = {2, 0.5f, &first, {1, 2, 3}};
node_t *head = &second;
volatile float buf[16];
volatile int counter;
int main(void) { counter = 3; buf[1] = 2.0f; return counter + head->next->value; }
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A µVision-like project: the image in Objects/, scripts in Scripts/."""
    root = tmp_path_factory.mktemp("project")
    (root / "app.uvprojx").write_text("<Project/>")
    (root / "Objects").mkdir()
    (root / "Scripts").mkdir()
    src = root / "Src" / "main.c"
    src.parent.mkdir()
    src.write_text(USER_C)
    assert main(["build", "--sources", str(src), "--out", str(root / "Objects" / "app.axf")]) == 0
    return root


def check(capsys, script, *extra: str) -> tuple[int, dict]:
    """``script check --json``: the exit status and the report (its errors joined in
    ``error``)."""
    capsys.readouterr()
    code = main(["script", "check", str(script), "--json", *extra])
    out = capsys.readouterr()
    try:
        rep = json.loads(out.out)[0]
    except (ValueError, IndexError):
        rep = {}
    rep["error"] = "\n".join(rep.get("errors", [])) + out.err
    return code, rep


def notes(rep: dict) -> str:
    return "\n".join(rep["notes"])


def test_load_makes_the_image_the_program_and_types_its_variables(project, capsys):
    s = project / "Scripts" / "vars.ini"
    s.write_text("LOAD ..\\Objects\\app.axf\n"
                 "G, main\n"
                 "EVAL first.value\n"
                 "EVAL second.next->tag[2]\n"
                 "EVAL head->next->gain\n"
                 "_WDWORD(0x20001000, &buf[3])\n"
                 "first.value = 42\n"
                 "head->gain = 1.25\n"
                 "EVAL first.value + second.gain * 4\n")
    code, rep = check(capsys, s)
    assert code == 0, rep
    text = notes(rep)
    assert "now the program" in text and "inside its project" in text
    assert "G stopped at main+0x0" in text  # the image's main, not armsim's firmware's
    assert "first . value = 1 " in text and "tag [ 2 ] = 9 " in text
    assert "gain = 2.5" in text
    assert "second . gain * 4 = 47" in text  # 42 + 1.25 * 4: both stores landed
    assert rep["warnings"] == []


def test_a_name_the_users_program_lacks_is_an_error(project, capsys):
    s = project / "Scripts" / "missing.ini"
    s.write_text("LOAD ..\\Objects\\app.axf\nG, no_such_function\n")
    code, rep = check(capsys, s)
    assert code == 2 and "'no_such_function'" in rep["error"] and "missing.ini:2" in rep["error"]
    # a member the struct does not have, and '.' on a pointer, say what is there
    s.write_text("LOAD ..\\Objects\\app.axf\nEVAL head.value\n")
    code, rep = check(capsys, s)
    assert code == 2 and "a pointer: use ->" in rep["error"]
    s.write_text("LOAD ..\\Objects\\app.axf\nEVAL first.nope\n")
    code, rep = check(capsys, s)
    assert code == 2 and "has no member 'nope'" in rep["error"] and "value, gain" in rep["error"]
    # with --elf the program is the user's too
    s.write_text("G, no_such_function\n")
    code, rep = check(capsys, s, "--elf", str(project / "Objects" / "app.axf"))
    assert code == 2 and "'no_such_function'" in rep["error"]
    # against armsim's stand-in firmware it stays a warning (that firmware cannot have it)
    code, rep = check(capsys, s)
    assert code == 0 and any("no_such_function" in w for w in rep["warnings"])


def test_signals_wait_for_the_programs_accesses(project, capsys):
    s = project / "Scripts" / "watch.ini"
    s.write_text("SIGNAL void watcher (void) {\n"
                 "  wwatch(&counter);\n"
                 "  wwatch(&counter);\n"
                 "  printf(\"written: %d\\n\", counter);\n"
                 "  rwatch(&counter);\n"
                 "  printf(\"read: %d\\n\", counter);\n"
                 "}\n"
                 "LOAD ..\\Objects\\app.axf\n"
                 "watcher()\n"
                 "BS WRITE buf[1]\n"
                 "G, main\n"
                 "G\n"
                 "EVAL buf[1]\n"
                 "BK *\n"
                 "G\n")
    code, rep = check(capsys, s)
    assert code == 0, rep
    text = notes(rep)
    # the start-up clears counter (.bss), main writes 3, then reads it back
    assert "printf: written: 3" in text and "printf: read: 3" in text
    assert "breakpoint 0 (buf [ 1 ])" in text and "buf [ 1 ] = 2" in text
    assert "the program exited" in text
    assert text.index("written: 3") < text.index("buf [ 1 ] = 2") < text.index("read: 3")


def test_real_script_constructs(project, capsys):
    s = project / "Scripts" / "misc.ini"
    s.write_text("MAP 0x60000000, 0x6000FFFF READ WRITE\n"
                 "_WDWORD(0x60000000, 5)\n"
                 "MAP 0x60000000, 0x6000FFFF CLEAR\n"
                 "MAP 0x20000000, 0x2000FFFF CLEAR\n"
                 "TK *\nTL\nTD 0\n"
                 "LOAD ..\\Objects\\app.axf\n"
                 "BS \\\\app\\../Src/main.c\\main\n"
                 "G\n")
    code, rep = check(capsys, s)
    assert code == 0, rep
    text = notes(rep)
    assert "0x60000000-0x6000FFFF cleared" in text and "the part's sram" in text
    assert "'TK *'" in text and "breakpoint 0" in text
    # an access to a cleared range faults, as an unmapped one does
    s.write_text("MAP 0x30000000, 0x3000FFFF READ WRITE\nMAP 0x30000000, 0x3000FFFF CLEAR\n"
                 "EVAL _RDWORD(0x30000000)\n")
    code, rep = check(capsys, s)
    assert code == 2


def test_writes_where_the_part_has_no_memory(project, capsys):
    s = project / "Scripts" / "gap.ini"
    s.write_text("_WDWORD(0x40023800, 1)\n_WDWORD(0x30000000, 5)\n")
    code, rep = check(capsys, s)
    assert code == 2 and "gap.ini:2" in rep["error"] and "access violation" in rep["error"]
    s.write_text("MAP 0x30000000, 0x3000FFFF READ WRITE\n_WDWORD(0x30000000, 5)\n"
                 "_WDWORD(0xC0000000, 1)\n")
    code, rep = check(capsys, s)
    assert code == 0 and any("0xC0000000" in p for p in rep["peripherals"])
    # the M7 parts' ITCM at 0 and the STM32F4's CCM are memory of their part
    s.write_text("_WDWORD(0x00000100, 7)\n")
    assert check(capsys, s, "--mcu", "stm32f746")[0] == 0
    assert check(capsys, s, "--mcu", "stm32f407")[0] == 2  # flash there: read-only
    s.write_text("_WDWORD(0x10000100, 7)\n")
    assert check(capsys, s, "--mcu", "stm32f407")[0] == 0
    assert check(capsys, s)[0] == 2  # generic has nothing at 0x10000000


def test_files_above_the_script_folder(project, tmp_path, capsys):
    (project / "Scripts" / "sub").mkdir(exist_ok=True)
    (project / "common.ini").write_text("_WDWORD(0x20000000, 1)\n")
    s = project / "Scripts" / "sub" / "inc.ini"
    s.write_text("INCLUDE ..\\..\\common.ini\n")
    code, rep = check(capsys, s)
    assert code == 0 and "inside its project" in notes(rep)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.ini").write_text("_WDWORD(0x20000004, 2)\n")
    shutil.copy(s, outside.parent / "probe.ini")
    rel = "..\\" * len(s.parent.relative_to(s.anchor).parts) + \
        str(outside.relative_to(outside.anchor) / "x.ini").replace("/", "\\")
    s.write_text(f"INCLUDE {rel}\n")
    code, rep = check(capsys, s)
    assert code == 2 and "--allow-path" in rep["error"] and "outside the script's folder" \
        in rep["error"]
    code, rep = check(capsys, s, "--allow-path", str(outside))
    assert code == 0 and "--allow-path allows" in notes(rep)
