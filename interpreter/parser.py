"""Expression text -> AST, through the Lark LALR grammar in grammar.lark."""
from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal
from typing import Callable

from . import syntax as A
from .diagnostics import Diagnostic, Span
from .limits import LIMITS
from .values import Duration, number_problem

__all__ = ["parse_expression", "ParseFailure", "MAX_EXPRESSION_LENGTH", "MAX_EXPRESSION_DEPTH"]

MAX_EXPRESSION_LENGTH = LIMITS.expression_chars
MAX_EXPRESSION_DEPTH = LIMITS.expression_depth

_parser = None  # the Lark parser, built (or loaded from Lark's cache) when first needed
_LARK_OPTIONS = dict(parser="lalr", propagate_positions=True, maybe_placeholders=True)

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


def _cache_folder() -> str | None:
    """The user's own cache directory for the parser (created 0700), or None to cache nothing."""
    import os
    if os.environ.get("POLICY_NO_PARSER_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "policy-interpreter")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.stat(folder)
        if st.st_uid != os.getuid() or st.st_mode & 0o022 or not os.access(folder, os.W_OK):
            return None  # never read a parser cache someone else could have written (or could write)
    except (OSError, AttributeError):
        return None
    return folder


def _cache_file() -> str | bool:
    """Where Lark keeps its analysed grammar between runs: the user's own cache directory (created 0700).

    Lark checks the grammar and its own version against the cache, so a stale
    file is rebuilt. Set POLICY_NO_PARSER_CACHE=1 to build the parser every time.
    """
    import os
    folder = _cache_folder()
    return False if folder is None else os.path.join(folder, "grammar.lark.cache")


def _get_parser():
    global _parser
    if _parser is None:
        from lark import Lark
        try:
            _parser = Lark.open_from_package("interpreter", "grammar.lark", cache=_cache_file(), **_LARK_OPTIONS)
        except (OSError, EOFError, ValueError):  # an unreadable or damaged cache: build without it
            _parser = Lark.open_from_package("interpreter", "grammar.lark", cache=False, **_LARK_OPTIONS)
    return _parser


# ---------------------------------------------------------------- Lark's tables, run without importing Lark
#
# Importing Lark and loading its parser costs more than all our own parsing.
# So the LALR table, the contextual lexer's terminals per parser state and the
# tree shaping of each rule are taken from the Lark parser once, kept as JSON
# in the cache folder (keyed by the grammar text, Lark's version and Python's),
# and run here with Lark's own algorithm: the same tokens, the same reductions,
# the same trees and positions. Only successful parses are taken from here:
# when the input has any error (or the tables are missing or damaged), Lark
# itself parses it, so every error is Lark's, exactly as before.

_TABLES_FORMAT = 1
_TABLES_FILE = "grammar.tables.json"
_tables = None  # None: not looked for yet; False: unavailable (Lark does all the parsing)
_retaken = False


class _NoTables(Exception):
    pass


class _Meta:
    """Positions of a tree, as Lark's PropagatePositions sets them on its Meta."""
    empty = True


class _Tree:
    """What the builder reads of a Lark Tree: data, children, meta."""
    __slots__ = ("data", "children", "meta")

    def __init__(self, data: str, children: list):
        self.data = data
        self.children = children
        self.meta = _Meta()


class _Token(str):
    """What the builder reads of a Lark Token: the text, type, start_pos and end_pos."""
    __slots__ = ("type", "start_pos", "end_pos")

    def __new__(cls, type_: str, value: str, start: int, end: int):
        self = super().__new__(cls, value)
        self.type = type_
        self.start_pos = start
        self.end_pos = end
        return self


def _is_tree(x) -> bool:
    return x is not None and not isinstance(x, str)  # a Lark Tree or a _Tree (tokens are str)


def _tables_key() -> dict:
    """What the tables depend on: our grammar and options, Lark's version, Python's version."""
    import importlib.util
    import os
    import sys
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "grammar.lark"), encoding="utf-8") as fh:
        grammar = fh.read()
    spec = importlib.util.find_spec("lark")
    if spec is None or not spec.origin:
        raise _NoTables
    with open(spec.origin, encoding="utf-8") as fh:
        version = re.search(r"""^__version__\s*(?::\s*str\s*)?=\s*["']([^"']+)["']""", fh.read(), re.M)
    if version is None:
        raise _NoTables
    return {"format": _TABLES_FORMAT, "grammar": grammar, "options": [list(kv) for kv in sorted(_LARK_OPTIONS.items())],
            "lark": version.group(1), "python": list(sys.version_info[:2])}


def _tables_from_lark(lark) -> dict:
    """The parse table, lexers and tree shaping of a Lark LALR parser, as plain data (or _NoTables)."""
    from lark.lexer import BasicLexer, ContextualLexer, PatternStr, UnlessCallback
    from lark.parse_tree_builder import (ChildFilterLALR, ChildFilterLALR_NoPlaceholders, ExpandSingleChild,
                                         PropagatePositions)
    from lark.parsers.lalr_analysis import Shift
    o = lark.options
    if (o.parser, o.lexer, o.propagate_positions, o.maybe_placeholders, o.postlex, o.transformer, o.tree_class,
            o.regex, o.g_regex_flags, o.use_bytes, o.lexer_callbacks, list(o.start)) != (
            "lalr", "contextual", True, True, None, None, None, False, 0, False, {}, ["start"]):
        raise _NoTables
    rules: dict = {}
    rule_rows = []
    for rule, chain in lark._parse_tree_builder.rule_builders:
        kinds = [getattr(w, "func", w) for w in chain]
        expand1 = kinds[:1] == [ExpandSingleChild]
        rest = kinds[1:] if expand1 else kinds
        include, append_none = None, 0
        if rest[:1] == [ChildFilterLALR]:
            include = [[i, bool(e), n] for i, e, n in chain[-2].args[0]]
            append_none = chain[-2].args[1]
            rest = rest[1:]
        elif rest[:1] == [ChildFilterLALR_NoPlaceholders]:
            include = [[i, bool(e), 0] for i, e in chain[-2].args[0]]
            rest = rest[1:]
        if rest != [PropagatePositions] or rule in rules:
            raise _NoTables
        rules[rule] = len(rule_rows)
        name = rule.alias or rule.options.template_source or rule.origin.name
        rule_rows.append([name, rule.origin.name, len(rule.expansion), expand1, include, append_none])
    table = lark.parser.parser._parse_table
    if sorted(table.states) != list(range(len(table.states))):
        raise _NoTables
    states = []
    for state in range(len(table.states)):
        row = {}
        for symbol, (action, arg) in table.states[state].items():
            row[symbol] = arg if action is Shift else -1 - rules[arg]
            if action is Shift and not isinstance(arg, int):
                raise _NoTables
        states.append(row)
    contextual = lark.parser.lexer
    if type(contextual) is not ContextualLexer or sorted(contextual.lexers) != list(range(len(states))):
        raise _NoTables
    lexers, seen, state_lexer = [], {}, []
    for state in range(len(states)):
        lexer = contextual.lexers[state]
        if id(lexer) not in seen:
            if type(lexer) is not BasicLexer:
                raise _NoTables
            terms = []
            for t in lexer.scanner.terminals:  # in the order the lexer tries them, string terminals left to `unless`
                if isinstance(t.pattern, PatternStr) and not t.pattern.flags:
                    terms.append([t.name, True, t.pattern.value])
                else:
                    regexp = t.pattern.to_regexp()
                    if "(?P" in regexp or re.search(r"\\[1-9]", regexp):
                        raise _NoTables  # a group name or back-reference would act otherwise alone than in Lark's union
                    terms.append([t.name, False, regexp])
            unless = {}
            for name, callback in lexer.callback.items():
                if type(callback) is not UnlessCallback:
                    raise _NoTables
                words: dict = {}
                for t in callback.scanner.terminals:
                    if not isinstance(t.pattern, PatternStr) or t.pattern.flags:
                        raise _NoTables
                    words.setdefault(t.pattern.value, t.name)
                unless[name] = words
            seen[id(lexer)] = len(lexers)
            lexers.append([terms, unless, sorted(lexer.ignore_types)])
        state_lexer.append(seen[id(lexer)])
    return {"start": table.start_states["start"], "end": table.end_states["start"], "states": states,
            "rules": rule_rows, "lexers": lexers, "state_lexer": state_lexer}


def _read_tables(path: str, key: dict) -> dict | None:
    import json
    import zlib
    try:
        with open(path, encoding="utf-8") as fh:
            crc, _, body = fh.read().partition("\n")
        if int(crc, 16) != zlib.crc32(body.encode("utf-8")):
            return None  # damaged
        data = json.loads(body)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) and data.get("key") == key else None


def _write_tables(path: str, data: dict) -> None:
    import json
    import os
    import zlib
    body = json.dumps(data, separators=(",", ":"))
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"{zlib.crc32(body.encode('utf-8')):08x}\n{body}")
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


class _Tables:
    """The tables ready to run: lexers are prepared (regexes compiled) when first used."""

    def __init__(self, data: dict):
        self.start = data["start"]
        self.end = data["end"]
        self.states = data["states"]
        self.rules = [(name, origin, size, bool(expand1), None if include is None else [tuple(x) for x in include],
                       append_none) for name, origin, size, expand1, include, append_none in data["rules"]]
        self.raw_lexers = data["lexers"]
        self.lexers: list = [None] * len(self.raw_lexers)
        self.state_lexer = data["state_lexer"]
        n = len(self.states)
        if not (0 <= self.start < n and 0 <= self.end < n and len(self.state_lexer) == n):
            raise _NoTables

    def lexer(self, state: int):
        i = self.state_lexer[state]
        lexer = self.lexers[i]
        if lexer is None:
            terms, unless, ignore = self.raw_lexers[i]
            lexer = self.lexers[i] = (tuple((name, is_str, value if is_str else re.compile(value))
                                            for name, is_str, value in terms), unless, frozenset(ignore))
        return lexer


def _load_tables():
    """The tables from the cache, else taken from Lark (and cached); False when they cannot be had."""
    import os
    folder = _cache_folder()
    if folder is None:
        return False
    try:
        key = _tables_key()
        path = os.path.join(folder, _TABLES_FILE)
        data = _read_tables(path, key)
        if data is not None:
            try:
                return _Tables(data)
            except (_NoTables, KeyError, TypeError, ValueError, IndexError):
                pass  # not what we wrote: take them from Lark again
        data = _tables_from_lark(_get_parser())
        data["key"] = key
        tables = _Tables(data)
        _write_tables(path, data)
        return tables
    except (_NoTables, OSError, ImportError, AttributeError, KeyError, TypeError, ValueError, IndexError):
        return False


def _tables_disagree() -> None:
    """Take the tables from Lark again (once a run) when they failed on text that Lark parses."""
    global _tables, _retaken
    if isinstance(_tables, _Tables) and not _retaken:
        _retaken = True
        import os
        folder = _cache_folder()
        try:
            data = _tables_from_lark(_get_parser())
            data["key"] = _tables_key()
            _tables = _Tables(data)
            if folder is not None:
                _write_tables(os.path.join(folder, _TABLES_FILE), data)
        except (_NoTables, OSError, ImportError, AttributeError, KeyError, TypeError, ValueError, IndexError):
            _tables = False


def _parse_with_tables(text: str):
    """The tree Lark would build for text, or None when Lark should parse it (an error, or no tables)."""
    global _tables
    if _tables is None:
        _tables = _load_tables()
    if not _tables:
        return None
    try:
        return _run_tables(_tables, text)
    except Exception:  # anything unforeseen: Lark decides
        return None


def _shape(rule: tuple, children: list):
    """Lark's tree building for one reduction: child filter, ?rule expansion, positions (PropagatePositions)."""
    name, _origin, _size, expand1, include, append_none = rule
    if expand1 and include is None and len(children) == 1:  # `?a: b`, the most common: b itself, its container kept
        node = children[0]
        if isinstance(node, _Tree) and not node.meta.empty:
            meta = node.meta
            if "container_start_pos" not in meta.__dict__:
                meta.container_start_pos = meta.start_pos
            if "container_end_pos" not in meta.__dict__:
                meta.container_end_pos = meta.end_pos
        return node
    if include is None:
        kept = children
    else:
        kept = []
        for i, inline, nones in include:
            if nones:
                kept += [None] * nones
            if inline:
                kept += children[i].children
            else:
                kept.append(children[i])
        if append_none:
            kept += [None] * append_none
    node = kept[0] if expand1 and len(kept) == 1 else _Tree(name, kept)
    if isinstance(node, _Tree):
        meta = node.meta
        for c in children:
            if isinstance(c, _Tree):
                if c.meta.empty:
                    continue
                start = getattr(c.meta, "container_start_pos", c.meta.start_pos)
            elif isinstance(c, _Token):
                start = c.start_pos
            else:
                continue
            if "start_pos" not in meta.__dict__:
                meta.start_pos = start
                meta.empty = False
            meta.container_start_pos = start
            break
        for c in reversed(children):
            if isinstance(c, _Tree):
                if c.meta.empty:
                    continue
                end = getattr(c.meta, "container_end_pos", c.meta.end_pos)
            elif isinstance(c, _Token):
                end = c.end_pos
            else:
                continue
            if "end_pos" not in meta.__dict__:
                meta.end_pos = end
                meta.empty = False
            meta.container_end_pos = end
            break
    return node


def _run_tables(tables: _Tables, text: str):
    states, rules, end_state = tables.states, tables.rules, tables.end
    stack = [tables.start]
    values: list = []

    def reduce(rule: tuple) -> None:
        size = rule[2]
        if size:
            children = values[-size:]
            del stack[-size:]
            del values[-size:]
        else:
            children = []
        node = _shape(rule, children)
        goto = states[stack[-1]][rule[1]]
        if goto < 0:
            raise _NoTables
        stack.append(goto)
        values.append(node)

    pos, n = 0, len(text)
    while pos < n:
        terms, unless, ignore = tables.lexer(stack[-1])
        for name, is_str, pattern in terms:  # the first terminal that matches, as in Lark's union of them
            if is_str:
                if text.startswith(pattern, pos):
                    value = pattern
                    break
            else:
                m = pattern.match(text, pos)
                if m:
                    value = m.group(0)
                    break
        else:
            return None  # unexpected characters
        start, pos = pos, pos + len(value)
        if name in ignore:
            continue
        if name in unless:
            name = unless[name].get(value, name)
        token = _Token(name, value, start, pos)
        while True:
            action = states[stack[-1]].get(name)
            if action is None:
                return None  # unexpected token
            if action >= 0:
                if action == end_state:
                    return None
                stack.append(action)
                values.append(token)
                break
            reduce(rules[-1 - action])
    while True:
        action = states[stack[-1]].get("$END")
        if action is None or action >= 0:
            return None  # unexpected end
        reduce(rules[-1 - action])
        if stack[-1] == end_state:
            return values[-1]


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
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
    try:
        tree = _get_parser().parse(text)
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
    tree = _parse_with_tables(text)
    if tree is None:
        tree = _parse_with_lark(builder, text)
        _tables_disagree()  # Lark parsed what the tables could not: they are damaged
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
