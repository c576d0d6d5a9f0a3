"""Expression text -> AST, through the Lark LALR grammar in grammar.lark.

The parser itself is _grammar_parser.py, generated from grammar.lark by Lark's
standalone generator; after changing the grammar or upgrading Lark, run from
the repository's root:

    python -m lark.tools.standalone --propagate_positions --maybe_placeholders \
        interpreter/grammar.lark -o interpreter/_grammar_parser.py

(tests/test_grammar_parser.py fails while the module is stale). This module
turns the parse tree into the AST of syntax.py and Lark's errors into
diagnostics.
"""
from __future__ import annotations

import datetime as _dt
import functools
import re
from decimal import Decimal
from typing import Callable

from . import syntax as A
from ._grammar_parser import (Lark, Lark_StandAlone, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput,
                              UnexpectedToken)
from .diagnostics import Diagnostic, Span
from .limits import LIMITS
from .values import Duration, number_problem

__all__ = ["parse_expression", "ParseFailure", "MAX_EXPRESSION_LENGTH", "MAX_EXPRESSION_DEPTH"]

MAX_EXPRESSION_LENGTH = LIMITS.expression_chars
MAX_EXPRESSION_DEPTH = LIMITS.expression_depth

BINDERS = {"all", "any", "count", "sum", "min", "max", "filter", "map"}
_UNITS = {
    "year": "years", "years": "years", "month": "months", "months": "months",
    "week": "weeks", "weeks": "weeks", "day": "days", "days": "days",
}
_TOKEN_WORDS = {
    "RPAR": "`)`", "LPAR": "`(`", "RSQB": "`]`", "LSQB": "`[`", "COMMA": "`,`",
    "COLON": "`:`", "DOT": "`.`", "NAME": "a name", "NUMBER": "a number",
    "STRING": "a string", "DATE": "a date", "PERCENT": "a percentage",
    "COMP_OP": "a comparison", "ADD_OP": "`+` or `-`", "MUL_OP": "`*` or `/`",
    "MINUS": "`-`", "$END": "the end of the expression",
}

Mapper = Callable[[int], "tuple[int, int]"]


class ParseFailure(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    """The LALR parser of grammar.lark, as generated into _grammar_parser.py (see that module)."""
    return Lark_StandAlone()


@functools.lru_cache(maxsize=4096)
def _tree(text: str):
    """The parse tree of an expression text. A policy repository repeats expressions (one file per measure,
    city or year), so a text parsed before in the run is not parsed again; the tree is only read, and its
    offsets are the text's own. A text with an error raises Lark's exception each time (never kept)."""
    return _parser().parse(text)


def _is_tree(x) -> bool:
    return x is not None and not isinstance(x, str)  # a Tree (tokens are str)


def _identity_mapper(text: str) -> Mapper:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)

    def mapper(offset: int) -> tuple[int, int]:
        import bisect
        line = bisect.bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line] + 1

    return mapper


class _Builder:
    def __init__(self, text: str, file: str, mapper: Mapper):
        self.text = text
        self.file = file
        self.mapper = mapper

    def span(self, start: int, end: int) -> Span:
        line, col = self.mapper(start)
        eline, ecol = self.mapper(max(start, end - 1))
        return Span(self.file, line, col, eline, ecol + 1)

    def error(self, code: str, message: str, start: int, end: int | None = None, help: str | None = None):
        raise ParseFailure(Diagnostic(code, message, self.span(start, end if end is not None else start + 1), help=help))

    def tspan(self, tok) -> Span:
        return self.span(tok.start_pos, tok.end_pos)

    def build(self, t):
        if isinstance(t, str):  # a token
            return self.token(t)
        method = getattr(self, "t_" + t.data.rstrip("_"))
        return method(t, self.span(t.meta.start_pos, t.meta.end_pos))

    def token(self, tok) -> A.Node:
        raise AssertionError(f"bare token {tok.type}")  # every atom has a rule alias

    # atoms
    def _checked(self, d: Decimal, t) -> Decimal:
        problem = number_problem(d)
        if problem:
            self.error("invalid-number", f"number `{_clip(str(t.children[0]))}` {problem}", t.meta.start_pos, t.meta.end_pos)
        return d

    def t_number(self, t, span):
        return A.Literal(self._checked(Decimal(str(t.children[0])), t), str(t.children[0]), span)

    def t_percent(self, t, span):
        text = str(t.children[0])
        return A.Literal(self._checked(Decimal(text[:-1]).scaleb(-2), t), text, span)

    def t_date(self, t, span):
        text = str(t.children[0])
        try:
            value = _dt.date.fromisoformat(text)
        except ValueError:
            self.error("invalid-date", f"invalid date `{text}`", t.meta.start_pos, t.meta.end_pos)
        return A.Literal(value, text, span)

    def t_duration(self, t, span):
        num, unit = t.children
        unit_name = _UNITS.get(str(unit))
        if unit_name is None:
            self.error("parse-error", f"unexpected name `{unit}` after a number",
                       unit.start_pos, unit.end_pos, help="a number may be followed by a unit: years, months, weeks or days")
        if "." in str(num):
            self.error("invalid-duration", f"duration `{num} {unit}` must be a whole number of {unit_name}",
                       t.meta.start_pos, t.meta.end_pos)
        if len(str(num)) > 6:
            self.error("invalid-duration", f"duration `{_clip(str(num))} {unit}` is too long", t.meta.start_pos, t.meta.end_pos)
        n = int(str(num))
        kw = {"years": Duration(years=n), "months": Duration(months=n),
              "weeks": Duration(days=7 * n), "days": Duration(days=n)}[unit_name]
        return A.Literal(kw, f"{num} {unit}", span)

    def t_string(self, t, span):
        raw = str(t.children[0])[1:-1]
        out = []
        i = 0
        escapes = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
        while i < len(raw):
            ch = raw[i]
            if ch == "\\":
                nxt = raw[i + 1]
                if nxt not in escapes:
                    pos = t.children[0].start_pos + 1 + i
                    self.error("parse-error", f"unknown escape `\\{nxt}` in string", pos, pos + 2,
                               help='known escapes are \\" \\\\ \\n \\t')
                out.append(escapes[nxt])
                i += 2
            else:
                out.append(ch)
                i += 1
        return A.Literal("".join(out), str(t.children[0]), span)

    def t_true(self, t, span):
        return A.Literal(True, "true", span)

    def t_false(self, t, span):
        return A.Literal(False, "false", span)

    def t_null(self, t, span):
        return A.Literal(None, "null", span)

    def t_name(self, t, span):
        return A.Name(str(t.children[0]), span)

    def t_list(self, t, span):
        return A.ListExpr(tuple(self.build(c) for c in t.children if c is not None), span)

    # operators
    def t_if_expr(self, t, span):
        c, a, b = (self.build(x) for x in t.children)
        return A.If(c, a, b, span)

    def t_or(self, t, span):
        return A.BoolOp("or", self.build(t.children[0]), self.build(t.children[1]), span)

    def t_and(self, t, span):
        return A.BoolOp("and", self.build(t.children[0]), self.build(t.children[1]), span)

    def t_not(self, t, span):
        return A.Not(self.build(t.children[0]), span)

    def t_compare(self, t, span):
        left, op, right = t.children
        return A.Compare(str(op), self.build(left), self.build(right), span)

    def t_in(self, t, span):
        return A.In(self.build(t.children[0]), self.build(t.children[1]), False, span)

    def t_not_in(self, t, span):
        return A.In(self.build(t.children[0]), self.build(t.children[1]), True, span)

    def t_binary(self, t, span):
        left, op, right = t.children
        return A.Binary(str(op), self.build(left), self.build(right), span)

    def t_neg(self, t, span):
        operand = self.build(t.children[0])
        if isinstance(operand, A.Literal) and isinstance(operand.value, Decimal):
            return A.Literal(operand.value.copy_negate(), "-" + operand.text, span)  # exact, no context
        return A.Unary("-", operand, span)

    def t_field(self, t, span):
        target, name = t.children
        return A.Field(self.build(target), str(name), span, self.tspan(name))

    def t_index(self, t, span):
        target, key = t.children
        return A.Index(self.build(target), self.build(key), span)

    def t_binder_arg(self, t, span):
        self.error("parse-error", "`:` is only allowed in a binder such as `all(x in xs: condition)`",
                   t.meta.start_pos, t.meta.end_pos)

    def t_call(self, t, span):
        name_tok = t.children[0]
        func = str(name_tok)
        args = [c for c in t.children[1:] if c is not None]
        binder_args = [a for a in args if _is_tree(a) and a.data == "binder_arg"]
        if binder_args:
            if func not in BINDERS:
                self.error("unknown-binder", f"`{func}` does not take a binder `x in xs: ...`",
                           name_tok.start_pos, name_tok.end_pos,
                           help="binders are " + ", ".join(sorted(BINDERS)))
            if len(args) != 1:
                self.error("arity", f"`{func}(x in xs: ...)` takes exactly one binder",
                           t.meta.start_pos, t.meta.end_pos)
            head, body = binder_args[0].children
            if not (_is_tree(head) and head.data == "in_" and _is_tree(head.children[0])
                    and head.children[0].data == "name"):
                start = head.meta.start_pos if _is_tree(head) else head.start_pos
                end = head.meta.end_pos if _is_tree(head) else head.end_pos
                self.error("parse-error", f"a binder starts with `name in list`, as in `{func}(x in xs: ...)`",
                           start, end)
            var_tok = head.children[0].children[0]
            return A.Binder(func, str(var_tok), self.build(head.children[1]), self.build(body), span,
                            self.tspan(var_tok))
        return A.Call(func, tuple(self.build(a) for a in args), span, self.tspan(name_tok))


def _clip(s: str, n: int = 30) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


def _unclosed_bracket(text: str) -> int | None:
    """The offset of the first `(` or `[` that is never closed, outside strings."""
    stack: list[int] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif ch == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif ch in "([":
            stack.append(i)
        elif ch in ")]" and stack:
            stack.pop()
        i += 1
    return stack[0] if stack else None


def _end_error(builder: "_Builder", text: str, expected):
    opened = _unclosed_bracket(text)
    if opened is not None:
        builder.error("parse-error", f"`{text[opened]}` is never closed", opened,
                      help=f"add `{')' if text[opened] == '(' else ']'}` where the group ends")
    builder.error("parse-error", "unexpected end of expression", max(len(text.rstrip()) - 1, 0),
                  help=_describe_expected(expected) or None)


# Operators from other languages, and what to write instead. Each help names the operator that means
# the same: `=>` reads as "at least" (`>=`), never as `==`.
_FOREIGN_OPERATORS = (
    ("=>", "`=>` is not an operator: for \"at least\" write `>=`"),
    ("=<", "`=<` is not an operator: for \"at most\" write `<=`"),
    ("&&", "write `and` to combine conditions"),
    ("||", "write `or` for either condition"),
    ("&", "write `and` to combine conditions"),
    ("|", "write `or` for either condition"),
    ("≥", "write `>=` for \"at least\""),
    ("≤", "write `<=` for \"at most\""),
    ("≠", "write `!=` for \"not equal\""),
    ("!", "write `not` to negate a condition, or `!=` for \"not equal\""),
    ("=", "use `==` to compare"),
)
_UPPER_KEYWORDS = {"AND": "and", "OR": "or", "NOT": "not", "IN": "in", "IF": "if", "THEN": "then",
                   "ELSE": "else", "TRUE": "true", "FALSE": "false", "NULL": "null"}


def _character_help(text: str, pos: int) -> str | None:
    """Advice for an unexpected character at `pos`: an operator of another language, or a quote."""
    for op, help in _FOREIGN_OPERATORS:
        if text.startswith(op, pos):
            return help
    if text.startswith("'", pos):
        return 'strings use double quotes: "text"'
    return None


def _token_help(text: str, tok) -> str | None:
    """Advice for the mistakes people make most, judged from the token and what comes before it."""
    if tok.type == "NAME" and str(tok) in _UPPER_KEYWORDS:
        return f"keywords are lower case: write `{_UPPER_KEYWORDS[str(tok)]}`"
    before = text[: tok.start_pos].rstrip()
    previous = re.search(r"[A-Za-z_][A-Za-z0-9_]*$", before)
    if previous and previous.group() in _UPPER_KEYWORDS:  # `3 OR x`: `OR` was read as the unit of 3
        return f"keywords are lower case: write `{_UPPER_KEYWORDS[previous.group()]}`"
    if re.search(r"(^|[^A-Za-z0-9_])if$", before) or re.search(r"(^|[^A-Za-z0-9_])if\s+\S+$", before):
        return "an `if` inside a larger expression needs parentheses: `1 + (if c then a else b)`"
    if tok.type == "NAME" and re.search(r"[A-Za-z_][A-Za-z0-9_]*$", before):
        return ('two names in a row: text in an expression needs double quotes inside the YAML value, '
                'as in `when: \'office == "city hall"\'`')
    return None


def _describe_expected(expected) -> str:
    words = sorted({_TOKEN_WORDS.get(e, f"`{e.lower()}`" if e.isalpha() and e.isupper() and len(e) < 8 and e not in _TOKEN_WORDS else _TOKEN_WORDS.get(e, e)) for e in expected})
    words = [w for w in words if not w.startswith("`__")]
    if not words:
        return ""
    if len(words) > 6:
        return ""
    return "expected " + ", ".join(words)


def _deeper_than(tree, limit: int) -> int | None:
    """The offset of a subtree nested deeper than `limit`, or None; iterative, so it cannot overflow."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return node.meta.start_pos if not node.meta.empty else 0
        for i, child in enumerate(node.children):
            if _is_tree(child):
                # `a or b or c ...` is one level however long: a chain of one operator is flat to the reader
                chained = i == 0 and child.data == node.data and node.data in ("or_", "and_", "binary")
                stack.append((child, depth if chained else depth + 1))
    return None


def _parse_with_lark(builder: "_Builder", text: str):
    """Lark's parse of text; its errors become positioned diagnostics (ParseFailure)."""
    try:
        tree = _tree(text)
    except UnexpectedCharacters as e:
        ch = text[e.pos_in_stream] if e.pos_in_stream < len(text) else ""
        shown = ch if ch.isprintable() else f"U+{ord(ch):04X}"
        builder.error("parse-error", f"unexpected character `{shown}`", e.pos_in_stream,
                      help=_character_help(text, e.pos_in_stream))
    except UnexpectedEOF as e:
        _end_error(builder, text, e.expected)
    except UnexpectedToken as e:
        tok = e.token
        if tok.type == "$END":
            _end_error(builder, text, e.expected)
        builder.error("parse-error", f"unexpected `{tok}`", tok.start_pos, tok.end_pos,
                      help=_token_help(text, tok) or _describe_expected(e.expected) or None)
    except UnexpectedInput as e:  # pragma: no cover - other lark input errors
        builder.error("parse-error", "cannot parse expression", getattr(e, "pos_in_stream", 0) or 0)
    except RecursionError:
        builder.error("expression-too-deep", "expression is nested too deeply", 0)
    return tree


def parse_expression(text: str, file: str = "<expr>", mapper: Mapper | None = None) -> A.Node:
    """Parse one expression. Raises ParseFailure with a positioned diagnostic."""
    if mapper is None:
        mapper = _identity_mapper(text)
    builder = _Builder(text, file, mapper)
    if len(text) > MAX_EXPRESSION_LENGTH:
        builder.error("expression-too-long",
                      f"expression is {len(text)} characters long; the limit is {MAX_EXPRESSION_LENGTH}", 0)
    if not text.strip():
        builder.error("parse-error", "empty expression", 0)
    tree = _parse_with_lark(builder, text)
    too_deep = _deeper_than(tree, MAX_EXPRESSION_DEPTH)
    if too_deep is not None:
        builder.error("expression-too-deep",
                      f"expression is nested more than {MAX_EXPRESSION_DEPTH} levels deep (parentheses, calls, "
                      f"`if` and `not` each add a level)", too_deep,
                      help="split it into named rules")
    try:
        return builder.build(tree)
    except RecursionError:
        builder.error("expression-too-deep", "expression is nested too deeply", 0)
