"""Tokens of the uVision command language, with Keil's numeric constant forms."""

from __future__ import annotations

import re
from typing import NamedTuple

from armsim.errors import ScriptError

#: Bytes of a line that were not UTF-8, as decode() keeps them (surrogate escapes).
NOT_UTF8 = re.compile("[\udc80-\udcff]")


def show(text: str) -> str:
    """A line for a message: bytes that were not UTF-8 shown as \\xNN."""
    return NOT_UTF8.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02X}", text)


class Token(NamedTuple):
    """A token: kind ("int", "float", "name", "op", "string", "end"), value, text, position."""

    kind: str
    value: object
    text: str
    col: int
    line: int = 0


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<hex>(?:0[xX][0-9A-Fa-f$]+|\d[0-9A-Fa-f$]*[hH])[uUlL]*)(?![\w.])
  | (?P<float>(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?|\d+[eE][+-]?\d+[fF]?)
  | (?P<number>\d[0-9A-Za-z$]*)
  | (?P<name>%?[A-Za-z_][A-Za-z0-9_]*|\$(?![0-9A-Fa-f]))
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<char>'(?:[^'\\]|\\[^x0-7]|\\x[0-9A-Fa-f]{1,2}|\\[0-7]{1,3})')
  | (?P<path>\\\\?[A-Za-z_.][\w.]*(?:\\\\?[\w./]+)*)
  | (?P<op><<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||\+\+|--|->|[-+*/%&|^]=|[-+*/%&|^~!()<>{},;=.:?`\\\[\]])
""", re.VERBOSE)


def parse_int(text: str) -> int | None:
    """A Keil integer constant (0x.., ..H, ..Y, ..T, ..Q/..O, leading-0 octal, $ groups, L/U)."""
    t = text.replace("$", "")
    t = t.rstrip("uUlL")
    if not t:
        return None
    try:
        if t[:2] in ("0x", "0X"):
            return int(t[2:], 16)
        last = t[-1].upper()
        if last == "H" and t[0].isdigit():
            return int(t[:-1], 16)
        if last == "Y":
            return int(t[:-1], 2)
        if last == "T":
            return int(t[:-1], 10)
        if last in "QO":
            return int(t[:-1], 8)
        if len(t) > 1 and t[0] == "0":
            return int(t, 8)
        return int(t, 10)
    except ValueError:
        return None


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\a", "b": "\b", "f": "\f",
            "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def unescape(body: str) -> str:
    """C escapes in a string or character literal (\\n, \\t, \\x41, \\101, ...); an unknown
    escape keeps its character, as C compilers do (with a warning)."""
    if "\\" not in body:
        return body

    def one(m: "re.Match[str]") -> str:
        e = m.group(1)
        if e[0] in "xX":
            return chr(int(e[1:], 16)) if len(e) > 1 else "x"
        if e[0] in "01234567" and (len(e) > 1 or e != "0"):
            return chr(int(e, 8) & 0xFF)
        return _ESCAPES.get(e, e)

    return re.sub(r"\\([xX][0-9A-Fa-f]{0,2}|[0-7]{1,3}|.)", one, body)


def tokenize(text: str, file: str, line: int, col0: int = 1, end: bool = True) -> list[Token]:
    """Split one line (comments already removed) into tokens, ending with an "end" token."""
    out: list[Token] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ScriptError(f"unexpected character {text[pos]!r}", file, line, col0 + pos,
                              text)
        kind = m.lastgroup
        s = m.group()
        col = col0 + pos
        pos = m.end()
        if kind == "ws":
            continue
        if kind == "float":
            out.append(Token("float", s, s, col, line))
        elif kind in ("number", "hex"):
            v = parse_int(s)
            if v is None:
                raise ScriptError(f"malformed number {s!r} (expected decimal, 0x hex, "
                                  "H/Y/T/Q suffix forms)", file, line, col, text)
            out.append(Token("int", v, s, col, line))
        elif kind == "string":
            out.append(Token("string", unescape(s[1:-1]), s, col, line))
        elif kind == "char":
            out.append(Token("int", ord(unescape(s[1:-1])[:1] or "\0") & 0xFF, s, col, line))
        else:
            out.append(Token(kind or "op", s, s, col, line))
    if end:
        out.append(Token("end", None, "", col0 + n, line))
    return out


_CHAR = re.compile(r"'(?:[^'\\]|\\.[^']{0,2})'")


def strip_comments(line: str, in_block: bool) -> tuple[str, bool]:
    """Remove // and /* */ comments from one line, tracking a block comment across lines.

    Comment text is replaced by spaces so columns stay right.
    """
    out = []
    i = 0
    n = len(line)
    in_string = False
    while i < n:
        if in_block:
            j = line.find("*/", i)
            if j < 0:
                out.append(" " * (n - i))
                return "".join(out), True
            out.append(" " * (j + 2 - i))
            i = j + 2
            in_block = False
            continue
        c = line[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(line[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
            continue
        if c == "'":  # a character literal ('"', '/') is copied whole
            m = _CHAR.match(line, i)
            if m is not None:
                out.append(m.group())
                i = m.end()
                continue
        if c == '"':
            in_string = True
        elif line.startswith("//", i):
            out.append(" " * (n - i))
            break
        elif line.startswith("/*", i):
            in_block = True
            out.append("  ")
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out), in_block
