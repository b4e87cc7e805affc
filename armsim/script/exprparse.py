"""Expressions of the debug-function language: C precedence, casts, pointers, calls,
program variables and \\module\\function places. A mixin of the parser (parser.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from armsim.script.lexer import Token
from armsim.script.program import Expr

if TYPE_CHECKING:
    from armsim.script.parser import _Parser

    _Base = _Parser
else:
    _Base = object

READS = {"_RBYTE": 1, "_RWORD": 2, "_RDWORD": 4, "_RFLOAT": 4, "_RDOUBLE": 8}
ASSIGN = ("=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=")
TYPE_WORDS = {"unsigned", "signed", "char", "short", "int", "long", "float", "double", "void",
              "uchar", "uint", "ulong", "bit"}  # the last four: µVision's own short names
#: how deeply expressions and blocks may nest (the parser recurses on each level)
MAX_NESTING = 200


class ExpressionParser(_Base):
    """The expression half of the parser."""

    _BINARY = [("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="),
               ("<<", ">>"), ("+", "-"), ("*", "/", "%")]

    def expression(self) -> Expr:
        """A full expression (assignments included; the comma operator is not)."""
        return self.assignment()

    def assignment(self) -> Expr:
        left = self.conditional()
        t = self.peek()
        if t.kind == "op" and t.text in ASSIGN:
            if left[0] not in ("name", "prog", "deref", "index", "member"):
                raise self.error(f"cannot assign to this expression (expected a variable, "
                                 f"register or *pointer before '{t.text}')", t)
            self.take()
            return ("assign", t.text, left, self.assignment(), t.line, t.col)
        return left

    def conditional(self) -> Expr:
        c = self.binary(0)
        t = self.peek()
        if t.text == "?":
            self.take()
            a = self.assignment()
            self.expect(":", "':' of the ?: operator")
            b = self.conditional()
            return ("cond", c, a, b, t.line, t.col)
        return c

    def binary(self, level: int) -> Expr:
        if level == len(self._BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek().kind == "op" and self.peek().text in self._BINARY[level]:
            op = self.take()
            right = self.binary(level + 1)
            left = ("bin", op.text, left, right, op.line, op.col)
        return left

    def unary(self) -> Expr:
        t = self.peek()
        self.nest += 1
        try:
            if self.nest > MAX_NESTING:
                raise self.error(f"expression nests deeper than {MAX_NESTING} levels")
            return self._unary(t)
        finally:
            self.nest -= 1

    def _unary(self, t: Token) -> Expr:
        if t.text in ("-", "+", "~", "!"):
            self.take()
            return ("un", t.text, self.unary(), t.line, t.col)
        if t.text in ("++", "--"):
            self.take()
            target = self.unary()
            return ("incdec", t.text, target, True, t.line, t.col)
        if t.text == "*":
            self.take()
            return ("deref", self.unary(), t.line, t.col)
        if t.text == "&":
            self.take()
            return ("addr", self.unary(), t.line, t.col)
        if t.text == "(" and self.peek(1).kind == "name" and \
                self.peek(1).text.lower() in TYPE_WORDS:
            self.take()
            ct = self.ctype("the cast")
            self.expect(")", "')' closing the cast")
            return ("cast", ct, self.unary(), t.line, t.col)
        return self.postfix()

    def postfix(self) -> Expr:
        e = self.primary()
        while self.peek().kind == "op" and self.peek().text in ("[", ".", "->"):
            t = self.take()
            if t.text == "[":  # an element of a program array (or through a pointer)
                i = self.expression()
                self.expect("]", "']' closing the index")
                e = ("index", e, i, t.line, t.col)
                continue
            n = self.take()  # a member of a program struct: a.b, p->b
            if n.kind != "name":
                raise self.error(f"expected a member name after '{t.text}'", n)
            e = ("member", e, n.text, t.text == "->", t.line, t.col)
        while self.peek().text in ("++", "--"):
            t = self.take()
            e = ("incdec", t.text, e, False, t.line, t.col)
        return e

    def primary(self) -> Expr:
        t = self.peek()
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
        if t.kind == "string":
            self.take()
            return ("str", t.value, t.line, t.col)
        if t.kind == "path":
            self.take()
            return ("loc", t.text, t.line, t.col)
        if t.text == "`":
            self.take()
            n = self.take()
            if n.kind != "name":
                raise self.error("expected a program variable's name after '`'", n)
            return ("prog", n.text, t.line, t.col)
        if t.kind == "name" and t.text.upper() in READS and self.peek(1).text == "(":
            self.take()
            self.expect("(", f"'(' after {t.text}")
            addr = self.expression()
            self.expect(")", f"')' closing {t.text}(address)")
            return ("read", t.text.upper(), addr, t.line, t.col)
        if t.kind == "name" and self.peek(1).text == "(":
            self.take()
            self.take()
            args: list[Expr] = []
            while self.peek().text != ")":
                args.append(self.assignment())
                if self.peek().text != ",":
                    break
                self.take()
            self.expect(")", f"')' closing {t.text}(...)")
            return ("call", t.text.upper(), t.text, tuple(args), t.line, t.col)
        if t.kind == "name":
            self.take()
            return ("name", t.text, t.line, t.col)
        if t.kind == "end":
            raise self.error("expected a value, found end of line")
        raise self.error(f"expected a value (a number, a name, '(' or a _R... read), found "
                         f"'{t.text}'")
