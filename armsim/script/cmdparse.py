"""µVision commands in the parser: line commands read as raw text (LOAD, INCLUDE, MAP, LOG,
KILL, DEFINE BUTTON, SIGNAL STATE/KILL, the window commands) and the commands of a statement
line (G, BS, BK/BD/BE/BL, T/P, E, EVAL, EXIT, RESET). A mixin of the parser (parser.py)."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from armsim.errors import ScriptError
from armsim.script.lexer import Token, tokenize
from armsim.script.paths import resolve_inside
from armsim.script.program import (
    BreakCmd,
    BreakSet,
    Command,
    Go,
    Include,
    Load,
    Loc,
    Statement,
    Step,
)

if TYPE_CHECKING:
    from armsim.script.parser import _Parser

    _Base = _Parser
else:
    _Base = object

LOAD_OPTIONS = ("INCREMENTAL", "NOCODE", "NORESET", "CLEAR", "NOBREAK", "NOCORE")
ENTER_TYPES = {"CHAR": ("i", 1, True), "UCHAR": ("i", 1, False), "INT": ("i", 4, True),
               "SHORT": ("i", 2, True), "LONG": ("i", 4, True), "FLOAT": ("f", 4),
               "DOUBLE": ("f", 8), "WORD": ("i", 2, False), "DWORD": ("i", 4, False)}
MAX_INCLUDE_DEPTH = 8


class CommandParser(_Base):
    """The command half of the parser."""

    def raw_command(self, head: str, rest: str, lineno: int, col: int, rest_col: int,
                    code: str, out: list[Statement]) -> None:
        loc = Loc(lineno, col)
        text = code.strip()
        rest = rest.strip().rstrip(";").strip()
        if head == "LOAD":
            self.load(rest, lineno, rest_col, out, loc)
        elif head == "INCLUDE":
            out.append(self.include(rest, lineno, rest_col, loc))
        elif head == "MAP":
            out.append(self.map_command(rest, lineno, rest_col, loc, text))
        elif head in ("LOG", "SLOG", "ITMLOG"):
            if head == "ITMLOG":
                rest = re.sub(r"^\d+\s*(?=>|OFF)", "", rest, flags=re.IGNORECASE)  # a channel
            m = re.match(r'(>>|>)\s*(".*"|\S+)$|(OFF)$', rest, re.IGNORECASE)
            if m is None and rest:
                raise self.error_at(lineno, rest_col, f"{head} expects '> file', '>> file' or "
                                    f"OFF, found '{rest}'")
            mode = "show" if not rest else "off" if m.group(3) else m.group(1)
            target = m.group(2).strip('"') if m and m.group(2) else ""
            out.append(Command(head, (mode, target), loc, text))
        elif head == "KILL":
            m = re.match(r"(FUNC|BUTTON)\s+(\S+)$", rest, re.IGNORECASE)
            if m is None:
                raise self.error_at(lineno, rest_col, f"KILL expects FUNC name, FUNC *, "
                                    f"BUTTON n or BUTTON *, found '{rest}'")
            out.append(Command("KILL", (m.group(1).upper(), m.group(2)), loc, text))
        elif head == "DEFINE":  # DEFINE BUTTON "label", "command"
            m = re.match(r'BUTTON\s*("(?:[^"\\]|\\.)*")\s*,\s*("(?:[^"\\]|\\.)*")$', rest,
                         re.IGNORECASE)
            if m is None:
                raise self.error_at(lineno, rest_col, 'DEFINE BUTTON expects "label", '
                                    '"command"')
            out.append(Command("BUTTON", (m.group(1)[1:-1], m.group(2)[1:-1]), loc, text))
        elif head == "SIGNAL":  # SIGNAL STATE / SIGNAL KILL name
            m = re.match(r"(STATE|KILL)\s*(\w*)$", rest, re.IGNORECASE)
            if m is None or (m.group(1).upper() == "KILL" and not m.group(2)):
                raise self.error_at(lineno, rest_col, "expected 'SIGNAL STATE', 'SIGNAL KILL "
                                    "name', or a definition 'SIGNAL void name (...) { ... }'")
            out.append(Command("SIGNAL " + m.group(1).upper(), (m.group(2).upper(),), loc,
                               text))
        elif head == "RADIX":
            v = re.sub(r"^=\s*", "", rest)
            if v.upper() not in ("", "10", "0XA", "0AH", "10T"):
                raise self.error_at(lineno, rest_col, f"RADIX {v}: armsim reads numbers in "
                                    "radix 10 only (write hex constants as 0x..)")
            out.append(Command("NOTE", (), loc, text))
        else:  # SET and the debugger's window commands
            out.append(Command("NOTE", (), loc, text))

    def load(self, rest: str, lineno: int, col0: int, out: list[Statement], loc: Loc) -> None:
        """LOAD %L [options] / LOAD path [options] (a quoted path may hold spaces)."""
        m = re.match(r'\s*("(?:[^"\\]|\\.)*"|\S+)', rest)
        if not m:
            raise self.error_at(lineno, col0, "LOAD needs a file: %L or a path")
        raw = m.group(1)
        key = raw.strip('"').upper()
        keyed = re.fullmatch(r"(\$[LP])*%L", key) is not None
        path = None if keyed else raw.strip('"')
        if path is not None and path[:2].upper() in ("$P", "$L"):
            # µVision's key for the project (or linker output) folder: the script's folder
            path = path[2:].lstrip("\\/")
        options = []
        for opt in re.finditer(r"\S+", rest[m.end():]):
            word = opt.group().upper()
            if word not in LOAD_OPTIONS:
                raise self.error_at(lineno, col0 + m.end() + opt.start(),
                                    f"unknown LOAD option '{opt.group()}' (armsim accepts "
                                    f"{', '.join(LOAD_OPTIONS)})")
            options.append(word)
        out.append(Load(path, tuple(options), loc, raw))

    def include(self, rest: str, lineno: int, col0: int, loc: Loc) -> Include:
        name = rest.strip().strip('"')
        if not name:
            raise self.error_at(lineno, col0, "INCLUDE needs a file name")
        if self.depth >= MAX_INCLUDE_DEPTH:
            raise self.error_at(lineno, col0, f"INCLUDEs nest deeper than {MAX_INCLUDE_DEPTH}")
        base = os.path.dirname(os.path.abspath(self.path))
        try:
            p = resolve_inside(name, base, "INCLUDE")
        except ScriptError as e:
            raise self.error_at(lineno, col0, e.reason) from None
        if p in self.seen:
            raise self.error_at(lineno, col0, f"INCLUDE {name}: includes itself (a cycle)")
        return Include(self.parse_included(p), loc)

    def map_command(self, rest: str, lineno: int, col0: int, loc: Loc, text: str) -> Command:
        """MAP start, end [READ] [WRITE] [EXEC] [VNM] [ATR]; MAP start, end CLEAR (the range
        leaves the map); MAP alone lists the map."""
        if not rest:
            return Command("MAP", (), loc, text)
        words = re.split(r"\s+", rest)
        perms = ""
        clear = False
        while words and words[-1].upper() in ("READ", "WRITE", "EXEC", "VNM", "ATR", "CLEAR"):
            w = words.pop().upper()
            clear = clear or w == "CLEAR"
            perms += {"READ": "r", "WRITE": "w", "EXEC": "x"}.get(w, "")
        span = " ".join(words)
        tokens = tokenize(span, self.path, lineno, col0)
        saved = self.tokens, self.pos
        self.tokens, self.pos = tokens, 0
        start = self.expression()
        self.expect(",", "',' between MAP's start and end addresses")
        end = self.expression()
        if self.peek().kind != "end":
            raise self.error("MAP expects start, end and READ, WRITE or EXEC")
        self.tokens, self.pos = saved
        lo, hi = self.fold(start), self.fold(end)
        if not isinstance(lo, int) or not isinstance(hi, int) or not 0 <= lo <= hi < 1 << 32:
            raise self.error_at(lineno, col0, f"MAP {span}: start and end must be constant "
                                "32-bit addresses, start <= end")
        if clear:
            if perms:
                raise self.error_at(lineno, col0, "MAP ... CLEAR takes no READ, WRITE or EXEC")
            return Command("MAP", (lo, hi, "clear"), loc, text)
        if not perms:
            raise self.error_at(lineno, col0, "MAP needs at least one of READ, WRITE, EXEC "
                                "(or CLEAR)")
        return Command("MAP", (lo, hi, "".join(sorted(perms, key="rwx".index))), loc, text)


    def command(self, name: str, out: list[Statement], loc: Loc) -> None:
        """G, BS, BK/BD/BE/BL, T/P, E/EVAL, EXIT, RESET."""
        self.take()
        at_end = self.peek().kind == "end" or self.peek().text in (";", "}")
        if name == "G":
            start = None if self.peek().text == "," or at_end else self.expression()
            stop = None
            if self.peek().text == ",":
                self.take()
                stop = self.expression()
            out.append(Go(start, stop, loc))
        elif name == "BS":
            access = "exec"
            if self.peek().text.upper() in ("READ", "WRITE", "READWRITE") and \
                    self.peek(1).kind != "end" and self.peek(1).text not in (",", ";"):
                access = self.take().text.lower()
            start_tok = self.peek()
            where = self.expression()
            count = command = None
            if self.peek().text == ",":
                self.take()
                count = self.expression()
                if self.peek().text == ",":
                    self.take()
                    s = self.take()
                    if s.kind != "string":
                        raise self.error("expected the breakpoint's command as a \"string\"", s)
                    command = self.command_string(s)
            out.append(BreakSet(where, loc, count, command, access, self.text_since(start_tok)
                                if count is None else self.text_since(start_tok, ",")))
        elif name in ("BK", "BD", "BE", "BL"):
            items: list[int] | None = []
            while not (self.peek().kind == "end" or self.peek().text in (";", "}")):
                t = self.take()
                if t.text == "*":
                    items = None
                elif t.kind == "int" and items is not None:
                    items.append(int(t.value))  # type: ignore[arg-type]
                elif t.text != ",":
                    raise self.error(f"{name} expects breakpoint numbers or '*'", t)
            out.append(BreakCmd(name, items if items is None or items or name == "BL" else None,
                                loc))
        elif name in ("T", "P"):
            out.append(Step(name, None if at_end else self.expression(), loc))
        elif name == "E":
            self.enter(out, loc)
        elif name == "EVAL":
            first = self.peek()
            out.append(Command("EVAL", (self.expression(),), loc, self.text_since(first)))
        elif name == "RESET" and self.peek().kind == "name":  # RESET MAP and the like
            what = self.take().text.upper()
            out.append(Command("NOTE", (), loc, f"RESET {what}"))
        else:  # EXIT, RESET
            out.append(Command(name, (), loc))

    def text_since(self, first: Token, stop: str | None = None) -> str:
        """The source text from token ``first`` up to the current token (or to ``stop``)."""
        i = self.tokens.index(first)
        parts = []
        for t in self.tokens[i:self.pos]:
            if t.text == stop:
                break
            parts.append(t.text)
        return " ".join(parts)

    def enter(self, out: list[Statement], loc: Loc) -> None:
        """``E type address = v1, v2, ...`` (Enter): consecutive writes; ``E expr`` evaluates."""
        t = self.peek()
        ct = ENTER_TYPES.get(t.text.upper())
        if ct is None:
            out.append(Command("EVAL", (self.expression(),), loc, self.text_since(t)))
            return
        self.take()
        address = self.conditional()
        self.expect("=", "'=' after E's address")
        values = [self.expression()]
        while self.peek().text == ",":
            self.take()
            values.append(self.expression())
        out.append(Command("ENTER", (ct, address, values), loc))

    def command_string(self, s: Token) -> list[Statement]:
        """The statements of a command string ("g, main", "_break_ = 1"), parsed now."""
        body: list[Statement] = []
        col = s.col + 1
        for part in str(s.value).split("\n"):
            if part.strip():
                self.line(part, s.line, col, body)
        self.flush(body)
        return body

    def exec_call(self, out: list[Statement], loc: Loc) -> None:
        self.expect("(", "'(' after exec")
        s = self.take()
        if s.kind != "string":
            raise self.error("exec needs a \"command string\" (armsim reads it when the script "
                             "is parsed)", s)
        self.expect(")", "')' closing exec(\"...\")")
        out.append(Command("EXEC", (self.command_string(s),), loc, str(s.value)))
