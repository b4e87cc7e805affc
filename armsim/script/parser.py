"""Parse uVision debugger scripts (``.ini``) into a :class:`Program`.

Seed-style lines (``_WFLOAT (536874068,0.1242609)``) take a compiled-regex fast path and are
converted in bulk; every other line goes through the tokenizer and the statement parser.
Names of commands, functions and registers are case-insensitive, as in the µVision command
window. Running a program is the runner's job (``armsim.script.parse_text`` and
``parse_file`` run a memory-only program and return its writes).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..errors import ScriptError
from .lexer import Token, strip_comments, tokenize
from .model import KIND_CODES, KINDS, Script
from .program import (REGISTER_ALIASES, REGISTERS, BreakSet, Call, Expr, FuncDef, Go, Load,
                      Loc, Print, Program, SetReg, Sleep, Statement, Write, WriteBatch)
from .values import ValueRangeError, parse_float32_array

READS = {"_RBYTE": 1, "_RWORD": 2, "_RDWORD": 4, "_RFLOAT": 4, "_RDOUBLE": 8}
LOAD_OPTIONS = ("INCREMENTAL", "NOCODE", "NORESET", "CLEAR")
#: Keil commands and statements armsim recognises but does not run.
UNSUPPORTED = {
    "SIGNAL", "DEFINE", "MAP", "RESET", "KILL", "BK", "BD", "BL", "BE", "WS", "WK", "INCLUDE",
    "EXEC", "LOG", "SLOG", "DIR", "EVAL", "ASM", "ENTER", "SET", "T", "P", "PSTEP", "OSTEP",
    "TSTEP", "SAVE", "RADIX", "MODE", "COVERAGE", "LA", "PA", "SCOPE", "SIGNAL", "SWBREAKCONF",
    "RUNTIMEINFO", "ITMLOG", "EXIT", "STOP", "TWATCH", "U", "D", "E", "DISPLAY", "UNASSEMBLE",
    "BREAKACCESS", "BREAKDISABLE", "BREAKENABLE", "BREAKKILL", "BREAKLIST",
    "INT", "UNSIGNED", "CHAR", "LONG", "FLOAT", "DOUBLE", "WHILE", "IF", "FOR", "DO", "RETURN",
    "SWITCH", "TWATCH", "MEMSET", "RAND", "GETINT", "GETLONG", "GETFLOAT", "GETDBL",
}
COMMANDS = "_WBYTE/_WWORD/_WDWORD/_WFLOAT/_WDOUBLE, REG = value, FUNC, Name(), LOAD, G, BS, printf"

_FAST = re.compile(
    r"[ \t]*_WFLOAT[ \t]*\([ \t]*(0[xX][0-9A-Fa-f]{1,8}|[1-9][0-9]{0,9}|0)[ \t]*,[ \t]*"
    r"([+-]?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)[fF]?)"
    r"[ \t]*\)[ \t]*;?[ \t]*$",
    re.IGNORECASE)
_FIRST_WORD = re.compile(r"\s*([A-Za-z_]\w*)")


def decode(raw: bytes, path: str) -> list[str]:
    """Bytes -> lines: UTF-8 with optional BOM; CRLF, CR and LF line ends."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise ScriptError(f"not UTF-8 text (byte 0x{raw[e.start]:02X})", path, line,
                          col) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ScriptError("NUL byte: this is not a text script", path, line, 1)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline ending the last line does not start another
    return lines


def read_lines(path: str | os.PathLike[str]) -> list[str]:
    """Read and decode a script file (refusing one over the size or line caps)."""
    from . import limits

    p = Path(path)
    try:
        size = p.stat().st_size
        if size > limits.MAX_BYTES:
            raise ScriptError(f"script is {size:,} bytes; the cap is {limits.MAX_BYTES:,} "
                              "(ARMSIM_SCRIPT_MAX_BYTES)", str(p))
        raw = p.read_bytes()
    except OSError as e:
        raise ScriptError(f"cannot read script: {e.strerror or e}", str(p)) from None
    return decode(raw, str(p))


def parse_program(path: str | os.PathLike[str]) -> Program:
    """Parse a script file into a program."""
    return parse_lines(read_lines(path), str(path))


def parse_lines(lines: list[str], path: str) -> Program:
    """Parse decoded lines into a program."""
    from . import limits

    if len(lines) > limits.MAX_LINES:
        raise ScriptError(f"script has {len(lines):,} lines; the cap is {limits.MAX_LINES:,} "
                          "(ARMSIM_SCRIPT_MAX_LINES)", path, limits.MAX_LINES + 1, 1)
    return _Parser(path, lines).run()


class _Parser:
    def __init__(self, path: str, lines: list[str]) -> None:
        self.path = path
        self.lines = lines
        self.program = Program(path, lines)
        self.fast_addr: list[str] = []
        self.fast_val: list[str] = []
        self.fast_line: list[int] = []
        self.slow: list[tuple[int, int, int, int]] = []  # address, kind code, bits, line
        self.tokens: list[Token] = []
        self.pos = 0

    # -- driver -----------------------------------------------------------------------------
    def run(self) -> Program:
        in_block = False
        opened = 0
        fast = _FAST.match
        n = len(self.lines)
        i = 0
        while i < n:
            line = self.lines[i]
            lineno = i + 1
            i += 1
            if not in_block:
                m = fast(line)
                if m is not None:
                    self.fast_addr.append(m.group(1))
                    self.fast_val.append(m.group(2))
                    self.fast_line.append(lineno)
                    continue
                if not line or line.isspace():
                    continue
            was_in_block = in_block
            code, in_block = strip_comments(line, in_block)
            if in_block and not was_in_block:
                opened = lineno
            if not code.strip():
                continue
            word = _FIRST_WORD.match(code)
            head = word.group(1).upper() if word else ""
            if head == "FUNC":
                i, in_block = self.function(lineno, code, in_block)
            elif head == "LOAD":
                self.flush()
                self.load(lineno, code, word.end() if word else 0)
            else:
                self.tokens = tokenize(code, self.path, lineno)
                self.pos = 0
                self.statements(self.program.statements, top=True)
        if in_block:
            raise self.error_at(opened, 1, "unterminated /* comment (opened here)")
        self.flush()
        return self.program

    def flush(self, into: list[Statement] | None = None) -> None:
        """Turn the pending constant writes into one WriteBatch statement."""
        if not self.fast_addr and not self.slow:
            return
        script = self.batch()
        (self.program.statements if into is None else into).append(WriteBatch(script))
        self.fast_addr, self.fast_val, self.fast_line, self.slow = [], [], [], []

    def batch(self) -> Script:
        n_fast = len(self.fast_addr)
        addr = np.fromiter((int(a, 16) if a[:2] in ("0x", "0X") else int(a)
                            for a in self.fast_addr), np.int64, n_fast)
        try:
            vals = parse_float32_array(self.fast_val)
        except ValueRangeError as e:
            i, why = e.args
            raise self.error_at(self.fast_line[i], 1,
                                f"_WFLOAT value {self.fast_val[i]} {why}") from None
        bits = vals.view(np.uint32).astype(np.uint64)
        lines = np.asarray(self.fast_line, np.int32)
        kind = np.full(n_fast, KIND_CODES["_WFLOAT"], np.int8)
        for i in np.flatnonzero(addr >= 1 << 32)[:1]:
            raise self.error_at(int(lines[i]), 1, f"address {addr[i]} is beyond 32 bits")
        if self.slow:
            s = self.slow
            addr = np.concatenate([addr, np.array([w[0] for w in s], np.int64)])
            kind = np.concatenate([kind, np.array([w[1] for w in s], np.int8)])
            bits = np.concatenate([bits, np.array([w[2] for w in s], np.uint64)])
            lines = np.concatenate([lines, np.array([w[3] for w in s], np.int32)])
            order = np.argsort(lines, kind="stable")
            addr, kind, bits, lines = addr[order], kind[order], bits[order], lines[order]
        return Script(self.path, addr, kind, bits, lines, len(self.lines))

    # -- errors -----------------------------------------------------------------------------
    def error_at(self, lineno: int, col: int, message: str) -> ScriptError:
        text = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""
        return ScriptError(message, self.path, lineno, col, text)

    def error(self, message: str, tok: Token | None = None) -> ScriptError:
        t = tok or self.peek()
        return self.error_at(t.line, t.col, message)

    # -- token helpers ----------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        t = self.tokens[self.pos]
        if t.kind != "end":
            self.pos += 1
        return t

    def expect(self, text: str, what: str) -> Token:
        t = self.peek()
        if t.text != text:
            found = f"'{t.text}'" if t.kind != "end" else "end of line"
            raise self.error(f"expected {what}, found {found}")
        return self.take()

    # -- multi-line and raw-text commands ----------------------------------------------------
    def function(self, lineno: int, code: str, in_block: bool) -> tuple[int, bool]:
        """FUNC void Name (void) { ... }: gather lines until the braces balance."""
        self.flush()
        tokens: list[Token] = []
        depth = 0
        seen_open = False
        i = lineno - 1
        while True:
            tokens += tokenize(code, self.path, i + 1, end=False)
            depth = sum(1 if t.text == "{" else -1 if t.text == "}" else 0 for t in tokens)
            seen_open = seen_open or any(t.text == "{" for t in tokens)
            i += 1
            if seen_open and depth <= 0:
                break
            if i >= len(self.lines):
                raise self.error_at(lineno, 1, "FUNC body is never closed (missing '}')")
            code, in_block = strip_comments(self.lines[i], in_block)
        last = tokens[-1] if tokens else Token("end", None, "", 1, lineno)
        self.tokens = tokens + [Token("end", None, "", last.col + len(last.text), last.line)]
        self.pos = 0
        self.func_def()
        return i, in_block

    def func_def(self) -> None:
        start = self.take()  # FUNC
        t = self.take()
        if t.text.lower() != "void":
            raise self.error(f"FUNC returning '{t.text}' is not supported (only FUNC void)", t)
        name = self.take()
        if name.kind != "name":
            raise self.error("expected the function's name after FUNC void", name)
        self.expect("(", "'(' after the function name")
        if self.peek().text.lower() == "void":
            self.take()
        if self.peek().text != ")":
            raise self.error("FUNC parameters are not supported (only (void))")
        self.expect(")", "')'")
        self.expect("{", "'{' opening the function body")
        body: list[Statement] = []
        self.statements(body, top=False)
        self.expect("}", "'}' closing the function body")
        after = self.peek()
        if after.kind != "end":
            raise self.error(f"unexpected '{after.text}' after the function body", after)
        self.flush(body)
        self.program.statements.append(FuncDef(name.text.upper(), body,
                                               Loc(start.line, start.col)))

    def load(self, lineno: int, code: str, after: int) -> None:
        """LOAD %L [options] / LOAD path [options] (a quoted path may hold spaces)."""
        rest = code[after:]
        col0 = after + 1
        m = re.match(r'\s*("(?:[^"\\]|\\.)*"|\S+)', rest)
        if not m:
            raise self.error_at(lineno, col0, "LOAD needs a file: %L or a path")
        raw = m.group(1)
        path = None if raw.upper() == "%L" else raw.strip('"').replace("\\\\", "\\")
        options = []
        pos = m.end()
        for opt in re.finditer(r"\S+", rest[pos:]):
            word = opt.group().rstrip(";").upper()
            if not word:
                continue
            if word not in LOAD_OPTIONS:
                raise self.error_at(lineno, col0 + pos + opt.start(),
                                    f"unknown LOAD option '{opt.group()}' (armsim accepts "
                                    f"{', '.join(LOAD_OPTIONS)})")
            options.append(word)
        self.program.statements.append(Load(path, tuple(options), Loc(lineno, 1)))

    # -- statements -------------------------------------------------------------------------
    def statements(self, out: list[Statement], top: bool) -> None:
        """Statements up to end of input (top level) or '}' (FUNC body)."""
        while True:
            t = self.peek()
            if t.kind == "end" or (not top and t.text == "}"):
                return
            if t.text == ";":
                self.take()
                continue
            self.statement(out, top)
            t = self.peek()
            if t.text == ";":
                self.take()
            elif t.kind == "end" or (not top and t.text == "}"):
                if not top and t.kind == "end":
                    raise self.error("expected ';' or '}' in the FUNC body, found end of input")
            elif top:
                raise self.error(f"expected ';' or end of line after the statement, found "
                                 f"'{t.text}'")
            else:
                raise self.error(f"expected ';' after the statement, found '{t.text}'")

    def statement(self, out: list[Statement], top: bool) -> None:
        t = self.peek()
        if t.kind != "name":
            raise self.error(f"expected a command or function call, found '{t.text}'")
        name = t.text.upper()
        loc = Loc(t.line, t.col)
        nxt = self.peek(1).text
        if name in KINDS:
            self.take()
            self.write(name, out)
            return
        if name in READS:
            raise self.error(f"{t.text}() reads memory but its value is not used")
        if name in REGISTERS and nxt == "=":
            self.take()
            self.take()
            self.flush(out if not top else None)
            out.append(SetReg(REGISTER_ALIASES.get(name, name), self.expression(), loc))
            return
        if name == "PRINTF":
            self.take()
            self.expect("(", "'(' after printf")
            s = self.take()
            if s.kind != "string":
                raise self.error("printf needs a string", s)
            if self.peek().text == ",":
                raise self.error("printf arguments are not supported (only a plain string)")
            self.expect(")", "')' closing printf")
            out.append(Print(str(s.value), loc))
            return
        if name == "_SLEEP_":
            self.take()
            self.expect("(", "'(' after _sleep_")
            self.expression()
            self.expect(")", "')' closing _sleep_")
            out.append(Sleep(loc))
            return
        if top and name in ("G", "GO"):
            self.take()
            start = None if self.peek().text == "," or self.peek().kind == "end" else self.expression()
            stop = None
            if self.peek().text == ",":
                self.take()
                stop = self.expression()
            self.flush()
            out.append(Go(start, stop, loc))
            return
        if top and name in ("BS", "BREAKSET"):
            self.take()
            where = self.expression()
            if self.peek().text == ",":
                raise self.error("BS count and command arguments are not supported")
            self.flush()
            out.append(BreakSet(where, loc))
            return
        if nxt == "(" and self.peek(2).text == ")" and name not in UNSUPPORTED:
            self.take()
            self.take()
            self.take()
            self.flush(out if not top else None)
            out.append(Call(name, loc))
            return
        if name == "FUNC":
            raise self.error("FUNC definitions cannot be nested", t)
        if name in UNSUPPORTED or name in ("G", "GO", "BS", "BREAKSET"):
            where = "in a FUNC body " if not top else ""
            raise self.error(f"'{t.text}' {where}is not supported by armsim (supported: "
                             f"{COMMANDS})", t)
        raise self.error(f"'{t.text}' is not a supported command or function (supported: "
                         f"{COMMANDS})", t)

    def write(self, name: str, out: list[Statement]) -> None:
        kind = KINDS[name]
        start = self.tokens[self.pos - 1]
        self.expect("(", f"'(' after {kind.name}")
        addr_tok = self.peek()
        address = self.expression()
        self.expect(",", f"',' between the address and the value of {kind.name}")
        literal = self.float_literal()
        value = self.expression()
        self.expect(")", f"')' closing {kind.name}(address, value)")
        w = Write(kind, address, value, Loc(start.line, start.col), literal)
        if _constant(address) and _constant(value):
            from .runner import evaluate, write_bits

            a = evaluate(address, None, self.path, self.lines)
            bits = write_bits(w, evaluate(value, None, self.path, self.lines), self.path,
                              self.lines)
            if not isinstance(a, int) or not 0 <= a < 1 << 32:
                raise self.error(f"{kind.name} address {a!r} is outside the 32-bit address "
                                 "space", addr_tok)
            self.slow.append((a, KIND_CODES[kind.name], bits, start.line))
        else:
            self.flush(out if out is not self.program.statements else None)
            out.append(w)

    def float_literal(self) -> str | None:
        """The text of a bare (signed) float literal value followed by ')', else None."""
        i = self.pos
        sign = ""
        if self.tokens[i].text in ("-", "+"):
            sign = self.tokens[i].text
            i += 1
        t = self.tokens[min(i, len(self.tokens) - 1)]
        if t.kind == "float" and self.tokens[min(i + 1, len(self.tokens) - 1)].text == ")":
            return ("-" if sign == "-" else "") + t.text
        return None

    # -- expressions ------------------------------------------------------------------------
    _BINARY = [("|",), ("^",), ("&",), ("<<", ">>"), ("+", "-"), ("*", "/", "%")]

    def expression(self, level: int = 0) -> Expr:
        if level == len(self._BINARY):
            return self.unary()
        left = self.expression(level + 1)
        while self.peek().kind == "op" and self.peek().text in self._BINARY[level]:
            op = self.take()
            right = self.expression(level + 1)
            left = ("bin", op.text, left, right, op.line, op.col)
        return left

    def unary(self) -> Expr:
        t = self.peek()
        if t.text in ("-", "+", "~"):
            self.take()
            return ("un", t.text, self.unary(), t.line, t.col)
        if t.text == "(":
            self.take()
            v = self.expression()
            self.expect(")", "')'")
            return v
        if t.kind == "int":
            self.take()
            return ("int", t.value, t.line, t.col)
        if t.kind == "float":
            self.take()
            return ("float", t.text, t.line, t.col)
        if t.kind == "name" and t.text.upper() in READS:
            self.take()
            self.expect("(", f"'(' after {t.text}")
            addr = self.expression()
            self.expect(")", f"')' closing {t.text}(address)")
            return ("read", t.text.upper(), addr, t.line, t.col)
        if t.kind == "name" and self.peek(1).text != "(":
            self.take()
            return ("name", t.text, t.line, t.col)
        if t.kind == "end":
            raise self.error("expected a value, found end of line")
        raise self.error(f"expected a number, '(' or a _R... read, found '{t.text}'")


def _constant(e: Expr) -> bool:
    kind = e[0]
    if kind in ("int", "float"):
        return True
    if kind == "un":
        return _constant(e[2])
    if kind == "bin":
        return _constant(e[2]) and _constant(e[3])
    return False
