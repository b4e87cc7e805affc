"""Parse uVision debugger scripts (``.ini``) into a :class:`Program`.

A hand-written recursive-descent parser (docs/scripts.md says why not a grammar library).
Seed-style lines (``_WFLOAT (536874068,0.1242609)``) take a compiled-regex fast path and are
converted in bulk; every other line goes through the tokenizer and the statement parser:
the debug-function language (a C subset inside FUNC and SIGNAL bodies) and µVision's
commands (G, BS, LOAD, MAP, RESET, LOG, INCLUDE, ...). Names of commands, functions and
registers are case-insensitive, as in the µVision command window. Running a program is the
runner's job.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from armsim.errors import ScriptError
from armsim.script import arith, limits
from armsim.script.cmdparse import CommandParser
from armsim.script.exprparse import ASSIGN, MAX_NESTING, TYPE_WORDS, ExpressionParser
from armsim.script.lexer import NOT_UTF8, Token, show, strip_comments, tokenize
from armsim.script.model import KIND_CODES, KINDS, Script
from armsim.script.program import (
    CType,
    Decl,
    Expr,
    ExprStmt,
    FuncDef,
    If,
    Jump,
    Loc,
    Loop,
    Program,
    Statement,
    Write,
    WriteBatch,
)
from armsim.script.values import ValueRangeError, parse_float32_array

#: µVision commands and their accepted spellings (upper case) -> canonical name.
COMMANDS = {
    **dict.fromkeys(("G", "GO"), "G"),
    **dict.fromkeys(("BS", "BREAKSET", "BA", "BREAKACCESS"), "BS"),
    **dict.fromkeys(("BK", "BREAKKILL"), "BK"),
    **dict.fromkeys(("BD", "BREAKDISABLE"), "BD"),
    **dict.fromkeys(("BE", "BREAKENABLE"), "BE"),
    **dict.fromkeys(("BL", "BREAKLIST"), "BL"),
    **dict.fromkeys(("T", "TSTEP"), "T"),
    **dict.fromkeys(("P", "PSTEP", "O", "OSTEP"), "P"),
    **dict.fromkeys(("EVAL", "EVALUATE"), "EVAL"),
    "E": "E", "ENTER": "E", "EXIT": "EXIT", "RESET": "RESET",
}
#: Line commands read as raw text (their arguments are paths, labels or command strings).
LINE_COMMANDS = {"LOAD", "INCLUDE", "MAP", "LOG", "SLOG", "ITMLOG", "KILL", "SET", "RADIX"}
#: Commands of the debugger's windows and tools: accepted, noted, nothing to do here.
NOTED = {"ASM", "U", "UNASSEMBLE", "D", "DISPLAY", "WS", "WATCHSET", "WK", "WATCHKILL", "LA",
         "LOGICANALYZER", "PA", "PERFORMANCEANALYZER", "COVERAGE", "SCOPE", "SAVE", "DIR",
         "MODE", "RUNTIMEINFO", "SWBREAKCONF", "TRACE", "ER", "EVENTRECORDER", "TASKINFO",
         "SYSTEMVIEWER", "WATCH", "ASSIGN",
         # tracepoints (TraceRun, TraceSuspend, TraceHalt, TraceDataPoint, TraceAccessPoint,
         # and their kill, list, disable and enable; µVision's TL): they record trace data
         # and never stop the program, so a set-up runs the same without them
         "TK", "TRACEKILL", "TL", "TRACELIST", "TD", "TRACEDISABLE", "TE", "TRACEENABLE",
         "TR", "TRACERUN", "TS", "TRACESUSPEND", "TH", "TRACEHALT", "TRACEDATAPOINT",
         "TRACEACCESSPOINT"}

_FAST = re.compile(
    r"[ \t]*_WFLOAT[ \t]*\([ \t]*(0[xX][0-9A-Fa-f]{1,8}|[1-9][0-9]{0,9}|0)[ \t]*,[ \t]*"
    r"([+-]?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)[fF]?)"
    r"[ \t]*\)[ \t]*;?[ \t]*$",
    re.IGNORECASE)
_FIRST_WORD = re.compile(r"\s*([A-Za-z_]\w*)")


def decode(raw: bytes, path: str) -> list[str]:
    """Bytes -> lines: UTF-8 with optional BOM; CRLF, CR and LF line ends.

    Bytes that are not UTF-8 (a Latin-1 ``é`` in a comment) are kept as surrogate escapes:
    comments may hold them; anywhere else the parser reports them, quoting the line."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode("utf-8", "surrogateescape")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ScriptError("NUL byte: this is not a text script", path, line, 1)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline ending the last line does not start another
    return lines


def read_lines(path: str | os.PathLike[str]) -> list[str]:
    """Read and decode a script file (refusing one over the size or line caps)."""
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


def parse_program(path: str | os.PathLike[str], _depth: int = 0,
                  _seen: frozenset[Path] = frozenset()) -> Program:
    """Parse a script file into a program."""
    return parse_lines(read_lines(path), str(path), _depth, _seen | {Path(path).resolve()})


def parse_lines(lines: list[str], path: str, _depth: int = 0,
                _seen: frozenset[Path] = frozenset()) -> Program:
    """Parse decoded lines into a program."""
    if len(lines) > limits.MAX_LINES:
        raise ScriptError(f"script has {len(lines):,} lines; the cap is {limits.MAX_LINES:,} "
                          "(ARMSIM_SCRIPT_MAX_LINES)", path, limits.MAX_LINES + 1, 1)
    return _Parser(path, lines, _depth, _seen).run()


def c_type(words: list[str]) -> CType | None:
    """The C type named by type keywords (``unsigned long``), or None if they name none."""
    ws = [w.lower() for w in words]
    if not ws or any(w not in TYPE_WORDS for w in ws):
        return None
    if ws == ["void"]:
        return ("v",)
    short = {"uchar": ("i", 1, False), "uint": ("i", 4, False), "ulong": ("i", 4, False),
             "bit": ("i", 1, False)}
    if len(ws) == 1 and ws[0] in short:
        return short[ws[0]]
    if any(w in short for w in ws):
        return None
    if "float" in ws:
        return ("f", 4) if len(ws) == 1 else None
    if "double" in ws:
        return ("f", 8) if ws in (["double"], ["long", "double"]) else None
    signed = "unsigned" not in ws
    size = 1 if "char" in ws else 2 if "short" in ws else 8 if ws.count("long") == 2 else 4
    return ("i", size, signed)


class _Parser(CommandParser, ExpressionParser):
    def __init__(self, path: str, lines: list[str], depth: int = 0,
                 seen: frozenset[Path] = frozenset()) -> None:
        self.path = path
        self.lines = lines
        self.depth = depth
        self.seen = seen
        self.program = Program(path, lines)
        self.fast_addr: list[str] = []
        self.fast_val: list[str] = []
        self.fast_line: list[int] = []
        self.slow: list[tuple[int, int, int, int]] = []  # address, kind code, bits, line
        self.tokens: list[Token] = []
        self.pos = 0
        self.nest = 0

    def parse_included(self, path: Path) -> Program:
        """An INCLUDEd file, parsed one level deeper (the include cycle and depth checks
        travel with ``seen`` and ``depth``)."""
        return parse_program(path, self.depth + 1, self.seen)

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
            self.check_text(code, lineno)
            word = _FIRST_WORD.match(code)
            head = word.group(1).upper() if word else ""
            second = code[word.end():].split(None, 1) if word else []
            nxt = second[0].upper() if second else ""
            opens_block = head in ("IF", "WHILE", "FOR", "DO", "ELSE") and \
                code.rstrip()[-1:] not in (";", "}")  # its '{' is on a later line
            if head in ("FUNC", "SIGNAL") and nxt not in ("STATE", "KILL") \
                    or code.count("{") > code.count("}") or opens_block:
                i, in_block = self.gather(lineno, code, in_block)
                continue
            self.line(code, lineno, 1, self.program.statements)
        if in_block:
            raise self.error_at(opened, 1, "unterminated /* comment (opened here)")
        self.flush()
        return self.program

    def check_text(self, code: str, lineno: int) -> None:
        m = NOT_UTF8.search(code)
        if m is not None:
            raise self.error_at(lineno, m.start() + 1, f"not UTF-8 text (byte "
                                f"0x{ord(m.group()) - 0xDC00:02X}); only comments may hold "
                                "other bytes")

    def line(self, code: str, lineno: int, col0: int, out: list[Statement]) -> None:
        """One command line (or an exec string): raw-text commands, else statements."""
        word = _FIRST_WORD.match(code)
        head = word.group(1).upper() if word else ""
        rest = code[word.end():] if word else code
        after = rest.lstrip()
        is_expr = after[:1] in ("=", "(", "[") or after[:2] in ("++", "--") or \
            any(after.startswith(a) for a in ASSIGN[1:])
        if word and not is_expr and (head in LINE_COMMANDS or head in NOTED or
                                     (head == "DEFINE" and after.upper().startswith("BUTTON")) or
                                     (head == "SIGNAL")):
            self.flush(out)
            col = col0 + word.start(1)
            self.raw_command(head, after, lineno, col, col0 + len(code) - len(after), code, out)
            return
        saved = self.tokens, self.pos
        self.tokens = tokenize(code, self.path, lineno, col0)
        self.pos = 0
        self.statements(out, top=True, until_brace=False)
        self.tokens, self.pos = saved

    def gather(self, lineno: int, code: str, in_block: bool) -> tuple[int, bool]:
        """A FUNC/SIGNAL definition or a multi-line statement: lines until braces balance."""
        self.flush()
        tokens: list[Token] = []
        seen_open = False
        depth = 0
        i = lineno - 1
        while True:
            self.check_text(code, i + 1)
            line_tokens = tokenize(code, self.path, i + 1, end=False)
            tokens += line_tokens
            for t in line_tokens:
                if t.text == "{":
                    depth += 1
                    seen_open = True
                elif t.text == "}":
                    depth -= 1
            i += 1
            if seen_open and depth <= 0 and tokens and tokens[-1].text in ("}", ";") \
                    and not self.else_follows(i):
                break
            if i >= len(self.lines):
                what = "FUNC body" if tokens and tokens[0].text.upper() in ("FUNC", "SIGNAL") \
                    else "'{' block"
                raise self.error_at(lineno, 1, f"{what} is never closed (missing '}}')")
            code, in_block = strip_comments(self.lines[i], in_block)
        last = tokens[-1] if tokens else Token("end", None, "", 1, lineno)
        self.tokens = tokens + [Token("end", None, "", last.col + len(last.text), last.line)]
        self.pos = 0
        if self.peek().text.upper() in ("FUNC", "SIGNAL"):
            self.func_def()
        else:
            self.statements(self.program.statements, top=True, until_brace=False)
        return i, in_block

    def else_follows(self, i: int) -> bool:
        """True when the next non-blank line (from index ``i``) starts with ``else``: an
        ``if`` block closed on its own line goes on there."""
        while i < len(self.lines) and not self.lines[i].strip():
            i += 1
        return i < len(self.lines) and re.match(r"\s*else\b", self.lines[i], re.I) is not None

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
        return ScriptError(message, self.path, lineno, col, show(text))

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

    def loc(self, t: Token) -> Loc:
        return Loc(t.line, t.col)

    # -- definitions ------------------------------------------------------------------------
    def type_words(self) -> list[str]:
        words = []
        while self.peek().kind == "name" and self.peek().text.lower() in TYPE_WORDS:
            words.append(self.take().text)
        return words

    def ctype(self, what: str) -> CType:
        t = self.peek()
        words = self.type_words()
        ct = c_type(words)
        if ct is None:
            raise self.error(f"expected a type for {what} (int, unsigned long, float, ...), "
                             f"found '{' '.join(words) or t.text}'", t)
        while self.peek().text == "*":
            self.take()
            ct = ("p", ct)
        return ct

    def func_def(self) -> None:
        start = self.take()  # FUNC or SIGNAL
        signal = start.text.upper() == "SIGNAL"
        returns = self.ctype("the function's return")
        name = self.take()
        if name.kind != "name":
            raise self.error(f"expected the function's name after {start.text} "
                             f"{'void' if returns == ('v',) else 'type'}", name)
        if signal and returns != ("v",):
            raise self.error("a SIGNAL function returns void", name)
        self.expect("(", "'(' after the function name")
        params: list[tuple[str, CType]] = []
        if self.peek().text.lower() == "void" and self.peek(1).text == ")":
            self.take()
        while self.peek().text != ")":
            ct = self.ctype("a parameter")
            p = self.take()
            if p.kind != "name":
                raise self.error("expected the parameter's name", p)
            params.append((p.text, ct))
            if self.peek().text != ",":
                break
            self.take()
        self.expect(")", "')' closing the parameter list")
        self.expect("{", "'{' opening the function body")
        body: list[Statement] = []
        self.statements(body, top=False, until_brace=True)
        self.expect("}", "'}' closing the function body")
        after = self.peek()
        if after.text == ";":
            self.take()
            after = self.peek()
        if after.kind != "end":
            raise self.error(f"unexpected '{after.text}' after the function body", after)
        self.flush(body)
        self.program.statements.append(FuncDef(name.text.upper(), body, self.loc(start),
                                               params, returns, signal, name.text))

    # -- statements -------------------------------------------------------------------------
    def statements(self, out: list[Statement], top: bool, until_brace: bool) -> None:
        """Statements up to end of input, or up to '}' when ``until_brace``."""
        while True:
            t = self.peek()
            if t.kind == "end" or (until_brace and t.text == "}"):
                if until_brace and t.kind == "end":
                    raise self.error("expected '}', found end of input")
                return
            self.statement(out, top)

    def end_simple(self, top: bool) -> None:
        """A simple statement ends at ';', at the end of a command line, or before '}'."""
        t = self.peek()
        if t.text == ";":
            self.take()
        elif t.kind == "end" and top:
            return
        elif t.text != "}":
            found = "end of input" if t.kind == "end" else f"'{t.text}'"
            raise self.error(f"expected ';' after the statement, found {found}")

    def block(self, top: bool) -> list[Statement]:
        """A statement or a braced block, as a list."""
        self.nest += 1
        try:
            if self.nest > MAX_NESTING:
                raise self.error(f"statements nest deeper than {MAX_NESTING} levels")
            return self._block(top)
        finally:
            self.nest -= 1

    def _block(self, top: bool) -> list[Statement]:
        body: list[Statement] = []
        if self.peek().text == "{":
            self.take()
            self.statements(body, top, until_brace=True)
            self.expect("}", "'}'")
        else:
            self.statement(body, top)
        self.flush(body)
        return body

    def statement(self, out: list[Statement], top: bool) -> None:
        t = self.peek()
        loc = self.loc(t)
        if not (t.kind == "name" and t.text.upper() in KINDS):
            self.flush(out)  # constant writes so far run before this statement
        if t.text == ";":
            self.take()
            return
        if t.text == "{":
            out += self.block(top)
            return
        word = t.text.lower() if t.kind == "name" else ""
        nxt = self.peek(1).text
        if word == "if":
            self.take()
            cond = self.paren_expr("if")
            then = self.block(top)
            other: list[Statement] = []
            if self.peek().text.lower() == "else":
                self.take()
                other = self.block(top)
            self.flush(out)
            out.append(If(cond, then, other, loc))
            return
        if word == "while":
            self.take()
            cond = self.paren_expr("while")
            out.append(Loop([], cond, None, self.block(top), loc))
            return
        if word == "do":
            self.take()
            body = self.block(top)
            if self.peek().text.lower() != "while":
                raise self.error("expected 'while (...)' after the do body")
            self.take()
            cond = self.paren_expr("do ... while")
            out.append(Loop([], cond, None, body, loc, test_first=False))
            self.end_simple(top)
            return
        if word == "for":
            self.take()
            self.expect("(", "'(' after for")
            init: list[Statement] = []
            if self.peek().text != ";":
                if self.peek().text.lower() in TYPE_WORDS:
                    init.append(self.declaration(loc))
                else:
                    init.append(ExprStmt(self.expression(), loc))
            self.expect(";", "';' after the for initialiser")
            cond = None if self.peek().text == ";" else self.expression()
            self.expect(";", "';' after the for condition")
            step = None if self.peek().text == ")" else self.expression()
            self.expect(")", "')' closing for (...)")
            out.append(Loop(init, cond, step, self.block(top), loc))
            return
        if word in ("break", "continue"):
            self.take()
            out.append(Jump(word, None, loc))
            self.end_simple(top)
            return
        if word == "return":
            self.take()
            value = None if self.peek().text in (";", "}") or self.peek().kind == "end" \
                else self.expression()
            out.append(Jump("return", value, loc))
            self.end_simple(top)
            return
        if word == "switch":
            raise self.error("'switch' is not supported in armsim's debug-function language: "
                             "write it as if/else if", t)
        if word in TYPE_WORDS or (word == "define" and self.peek(1).text.lower() in TYPE_WORDS):
            self.flush(out)
            debugger = word == "define"
            if debugger:
                self.take()
            d = self.declaration(loc)
            d.debugger = debugger or top
            out.append(d)
            self.end_simple(top)
            return
        if word in ("func", "signal"):
            raise self.error(f"{t.text} definitions cannot be nested", t)
        up = t.text.upper()
        if t.kind == "name" and up in COMMANDS and nxt not in ASSIGN and \
                nxt not in ("(", "++", "--", "[") and not (up in ("E", "T", "P") and nxt in
                                                           ("+", "-", "*", "/", ")", "?")):
            self.flush(out)
            self.command(COMMANDS[up], out, loc)
            self.end_simple(top)
            return
        if t.kind == "name" and up in KINDS and nxt == "(":
            self.take()
            self.write(up, out, top)
            self.end_simple(top)
            return
        if t.kind == "name" and up == "EXEC" and nxt == "(":
            self.take()
            self.exec_call(out, loc)
            self.end_simple(top)
            return
        if t.kind == "name" and up in LINE_COMMANDS | NOTED and nxt not in ASSIGN and \
                nxt not in ("(", "++", "--", "["):
            raise self.error(f"'{t.text}' is a command line of its own: write it on its own "
                             "line (in a FUNC, use exec(\"...\"))", t)
        if t.kind not in ("name", "int", "float", "op", "path") or t.text in ("}", ")"):
            raise self.error(f"expected a statement, found '{t.text}'")
        self.flush(out)
        out.append(ExprStmt(self.expression(), loc))
        self.end_simple(top)

    def paren_expr(self, what: str) -> Expr:
        self.expect("(", f"'(' after {what}")
        e = self.expression()
        self.expect(")", f"')' closing {what} (...)")
        return e

    def declaration(self, loc: Loc) -> Decl:
        base = self.ctype("the declaration")
        names: list[tuple[str, CType, Expr | None]] = []
        while True:
            ct = base
            while self.peek().text == "*":
                self.take()
                ct = ("p", ct)
            n = self.take()
            if n.kind != "name":
                raise self.error("expected a variable name in the declaration", n)
            init = None
            if self.peek().text == "=":
                self.take()
                init = self.assignment()
            names.append((n.text, ct, init))
            if self.peek().text != ",":
                return Decl(names, loc)
            self.take()

    def write(self, name: str, out: list[Statement], top: bool) -> None:
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
        a, v = self.fold(address), self.fold(value)
        if a is not None and v is not None:
            try:
                bits = arith.write_bits(kind, literal, v, value)
            except arith.Fault as e:
                raise self.error_at(e.line, e.col, e.reason) from None
            if not isinstance(a, int) or not 0 <= a < 1 << 32:
                raise self.error(f"{kind.name} address {a!r} is outside the 32-bit address "
                                 "space", addr_tok)
            self.slow.append((a, KIND_CODES[kind.name], bits, start.line))
        else:
            self.flush(out)
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

    def fold(self, e: Expr) -> arith.Num | None:
        """A constant expression's value (None if not constant); its errors quote the line."""
        try:
            return arith.fold(e)
        except arith.Fault as exc:
            raise self.error_at(exc.line, exc.col, exc.reason) from None
