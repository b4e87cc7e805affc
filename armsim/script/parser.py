"""Parse uVision debugger scripts into memory writes.

Seed-style lines (``_WFLOAT (536874068,0.1242609)``) take a compiled-regex fast path and are
converted in bulk; every other line goes through the tokenizer and expression parser.
Function and command names are case-insensitive, as in the uVision command window.
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import ScriptError
from .lexer import Token, strip_comments, tokenize
from .model import KIND_CODES, KINDS, Script, WriteKind
from .values import ValueRangeError, parse_float32, parse_float32_array

#: Reads return what memory holds at that point of the script: (address, size) -> bytes.
MemoryReader = Callable[[int, int], bytes]

READS = {"_RBYTE": 1, "_RWORD": 2, "_RDWORD": 4, "_RFLOAT": 4, "_RDOUBLE": 8}

_FAST = re.compile(
    r"[ \t]*_WFLOAT[ \t]*\([ \t]*(0[xX][0-9A-Fa-f]{1,8}|[1-9][0-9]{0,9}|0)[ \t]*,[ \t]*"
    r"([+-]?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)[fF]?)"
    r"[ \t]*\)[ \t]*;?[ \t]*$",
    re.IGNORECASE)


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


def parse_file(path: str | os.PathLike[str], memory: MemoryReader | None = None) -> Script:
    """Parse a script file; see :func:`parse_text`."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise ScriptError(f"cannot read script: {e.strerror or e}", str(p)) from None
    return parse_lines(decode(raw, str(p)), str(p), memory)


def parse_text(text: str, path: str = "<script>", memory: MemoryReader | None = None) -> Script:
    """Parse script text into a :class:`Script` of memory writes in source order."""
    return parse_lines(decode(text.encode("utf-8"), path), path, memory)


def parse_lines(lines: list[str], path: str, memory: MemoryReader | None = None) -> Script:
    """Parse already-decoded lines."""
    return _Parser(path, lines, memory).run()


class _Parser:
    def __init__(self, path: str, lines: list[str], memory: MemoryReader | None) -> None:
        self.path = path
        self.lines = lines
        self.memory = memory
        self.fast_addr: list[str] = []
        self.fast_val: list[str] = []
        self.fast_line: list[int] = []
        self.slow: list[tuple[int, int, int, int]] = []  # address, kind code, bits, line
        self.tokens: list[Token] = []
        self.pos = 0
        self.lineno = 0
        self.text = ""

    # -- driver -----------------------------------------------------------------------------
    def run(self) -> Script:
        in_block = False
        opened = 0
        fast = _FAST.match
        for lineno, line in enumerate(self.lines, 1):
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
            if code.strip():
                self.statement_line(lineno, line, code)
        if in_block:
            raise self.error_at(opened, 1, "unterminated /* comment (opened here)")
        return self.finish()

    def finish(self) -> Script:
        n_fast = len(self.fast_addr)
        addr = np.fromiter((int(a, 0) if a[:2].lower() == "0x" else int(a)
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
            s = np.array(self.slow, dtype=object)
            addr = np.concatenate([addr, s[:, 0].astype(np.int64)])
            kind = np.concatenate([kind, s[:, 1].astype(np.int8)])
            bits = np.concatenate([bits, np.array([int(b) for b in s[:, 2]], np.uint64)])
            lines = np.concatenate([lines, s[:, 3].astype(np.int32)])
            order = np.argsort(lines, kind="stable")
            addr, kind, bits, lines = addr[order], kind[order], bits[order], lines[order]
        return Script(self.path, addr, kind, bits, lines, len(self.lines))

    # -- errors -----------------------------------------------------------------------------
    def error_at(self, lineno: int, col: int, message: str) -> ScriptError:
        text = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""
        return ScriptError(message, self.path, lineno, col, text)

    def error(self, message: str, tok: Token | None = None) -> ScriptError:
        t = tok or self.peek()
        return ScriptError(message, self.path, self.lineno, t.col, self.text)

    # -- token helpers ----------------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.pos]

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

    # -- statements -------------------------------------------------------------------------
    def statement_line(self, lineno: int, raw: str, code: str) -> None:
        self.lineno, self.text = lineno, raw
        self.tokens = tokenize(code, self.path, lineno)
        self.pos = 0
        while self.peek().kind != "end":
            self.statement()
            t = self.peek()
            if t.text == ";":
                self.take()
            elif t.kind != "end":
                raise self.error(f"expected ';' or end of line after the statement, "
                                 f"found '{t.text}'")

    def statement(self) -> None:
        t = self.peek()
        if t.kind != "name":
            raise self.error(f"expected a command or function call, found '{t.text}'")
        name = t.text.upper()
        if name in KINDS:
            self.take()
            self.write(KINDS[name], t)
            return
        if name in READS:
            raise self.error(f"{t.text}() reads memory but its value is not used")
        raise self.error(f"'{t.text}' is not a supported command or function "
                         "(supported: _WBYTE, _WWORD, _WDWORD, _WFLOAT, _WDOUBLE)", t)

    def write(self, kind: WriteKind, name_tok: Token) -> None:
        self.expect("(", f"'(' after {kind.name}")
        addr_tok = self.peek()
        address = self.expression()
        if not isinstance(address, int):
            raise self.error(f"{kind.name} address must be an integer, got {address!r}",
                             addr_tok)
        if not 0 <= address < 1 << 32:
            raise self.error(f"{kind.name} address {address:#x} is outside the 32-bit "
                             "address space", addr_tok)
        self.expect(",", f"',' between the address and the value of {kind.name}")
        value_tok = self.peek()
        bits = self.write_value(kind, value_tok)
        self.expect(")", f"')' closing {kind.name}(address, value)")
        self.slow.append((address, KIND_CODES[kind.name], bits, self.lineno))

    def write_value(self, kind: WriteKind, tok: Token) -> int:
        literal = self.literal_text()
        if kind.is_float:
            if literal is not None:
                try:
                    v = parse_float32(literal) if kind.size == 4 else float(literal.rstrip("fF"))
                except ValueRangeError as e:
                    raise self.error(f"{kind.name} value {literal} {e.args[1]}", tok) from None
                if kind.size == 8 and not np.isfinite(v):
                    raise self.error(f"{kind.name} value {literal} overflows float64", tok)
            else:
                v = self.expression()
                if isinstance(v, int) and float(np.float32(v) if kind.size == 4 else float(v)) != v:
                    raise self.error(f"{kind.name} value {v} is not exactly representable as "
                                     f"float{8 * kind.size}", tok)
                if kind.size == 4:
                    try:
                        v = parse_float32(repr(float(v)))
                    except ValueRangeError as e:
                        raise self.error(f"{kind.name} value {v!r} {e.args[1]}", tok) from None
            if kind.size == 4:
                return int(np.float32(v).view(np.uint32))
            return struct.unpack("<Q", struct.pack("<d", float(v)))[0]
        if literal is not None:
            raise self.error(f"{kind.name} expects an integer value, found float {literal}", tok)
        v = self.expression()
        if not isinstance(v, int):
            raise self.error(f"{kind.name} expects an integer value, got {v!r}", tok)
        width = 8 * kind.size
        if not -(1 << (width - 1)) <= v < 1 << width:
            raise self.error(f"{kind.name} value {v} does not fit {kind.size} byte(s)", tok)
        return v & ((1 << width) - 1)

    def literal_text(self) -> str | None:
        """If the value is a bare (signed) number followed by ')', its text; else None."""
        i = self.pos
        sign = ""
        if self.tokens[i].text in ("-", "+"):
            sign = self.tokens[i].text
            i += 1
        t = self.tokens[i]
        if t.kind in ("float", "int") and self.tokens[i + 1].text == ")":
            if t.kind == "float":
                self.pos = i + 1
                return (sign if sign == "-" else "") + t.text
            return None
        return None

    # -- expressions ------------------------------------------------------------------------
    _BINARY = [("|",), ("^",), ("&",), ("<<", ">>"), ("+", "-"), ("*", "/", "%")]

    def expression(self, level: int = 0) -> int | float:
        if level == len(self._BINARY):
            return self.unary()
        left = self.expression(level + 1)
        while self.peek().kind == "op" and self.peek().text in self._BINARY[level]:
            op = self.take()
            right = self.expression(level + 1)
            left = self.binary(op, left, right)
        return left

    def binary(self, op: Token, a: int | float, b: int | float) -> int | float:
        o = op.text
        if o in ("|", "^", "&", "<<", ">>", "%") and not (isinstance(a, int) and isinstance(b, int)):
            raise self.error(f"operator '{o}' needs integers", op)
        if o == "+":
            return a + b
        if o == "-":
            return a - b
        if o == "*":
            return a * b
        if o in ("/", "%"):
            if b == 0:
                raise self.error("division by zero", op)
            if isinstance(a, int) and isinstance(b, int):
                q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)  # C truncation
                return q if o == "/" else a - q * b
            return a / b
        if o in ("<<", ">>"):
            assert isinstance(a, int) and isinstance(b, int)
            if not 0 <= b < 64:
                raise self.error(f"shift count {b} out of range 0..63", op)
            return a << b if o == "<<" else a >> b
        assert isinstance(a, int) and isinstance(b, int)
        return a | b if o == "|" else a ^ b if o == "^" else a & b

    def unary(self) -> int | float:
        t = self.peek()
        if t.text in ("-", "+", "~"):
            self.take()
            v = self.unary()
            if t.text == "-":
                return -v
            if t.text == "~":
                if not isinstance(v, int):
                    raise self.error("operator '~' needs an integer", t)
                return ~v
            return v
        if t.text == "(":
            self.take()
            v = self.expression()
            self.expect(")", "')'")
            return v
        if t.kind == "int":
            self.take()
            return int(t.value)  # type: ignore[arg-type]
        if t.kind == "float":
            self.take()
            return float(t.text.rstrip("fF"))
        if t.kind == "name" and t.text.upper() in READS:
            return self.read(t)
        if t.kind == "end":
            raise self.error("expected a value, found end of line")
        raise self.error(f"expected a number, '(' or a _R... read, found '{t.text}'")

    def read(self, t: Token) -> int | float:
        self.take()
        name = t.text.upper()
        self.expect("(", f"'(' after {t.text}")
        at = self.peek()
        addr = self.expression()
        self.expect(")", f"')' closing {t.text}(address)")
        if not isinstance(addr, int) or not 0 <= addr < 1 << 32:
            raise self.error(f"{t.text} address {addr!r} is not a 32-bit address", at)
        size = READS[name]
        data = self.read_memory(addr, size, t)
        if name == "_RFLOAT":
            return float(np.frombuffer(data, "<f4")[0])
        if name == "_RDOUBLE":
            return float(np.frombuffer(data, "<f8")[0])
        return int.from_bytes(data, "little")

    def read_memory(self, addr: int, size: int, t: Token) -> bytes:
        """Bytes at addr as the script has left them so far, over the target's memory."""
        base = bytearray(size)
        have = [False] * size
        if self.memory is not None:
            try:
                base = bytearray(self.memory(addr, size))
                have = [True] * size
            except Exception as e:  # the target reports unmapped memory its own way
                raise self.error(f"{t.text}(0x{addr:08X}) reads unmapped memory ({e})", t) \
                    from None
        partial = self.finish_partial()
        if len(partial):
            a, v, _ = partial.to_bytes()
            for i in range(size):
                sel = np.flatnonzero(a == addr + i)
                if sel.size:
                    base[i] = int(v[sel[-1]])
                    have[i] = True
        if not all(have):
            raise self.error(f"{t.text}(0x{addr:08X}) reads memory that nothing has written "
                             "(no target memory to read)", t)
        return bytes(base)

    def finish_partial(self) -> Script:
        saved = (list(self.fast_addr), list(self.fast_val), list(self.fast_line), list(self.slow))
        try:
            return self.finish()
        finally:
            self.fast_addr, self.fast_val, self.fast_line, self.slow = saved
