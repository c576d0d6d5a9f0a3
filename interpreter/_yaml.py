"""YAML loading with source positions.

libyaml composes the node tree through PyYAML's safe loader (PyYAML's own
pure-Python loader for a document libyaml refuses, so that its messages are
the ones shown); this module turns it into
plain values (str, int, Decimal, bool, None, date, list, dict with str keys),
reports problems as diagnostics, and keeps a :class:`Locator` that maps paths
and character offsets inside string scalars back to lines and columns.
"""
from __future__ import annotations

import datetime
import re
from bisect import bisect_right
from decimal import Decimal
from typing import Callable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.scanner import Scanner

from .diagnostics import Diagnostic, Span

__all__ = ["Locator", "load_yaml"]

Path = tuple[str | int, ...]

_STD = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP, _MAP, _SEQ = (
    _STD + t for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
)
# `<<` and `=` resolve to these tags; without constructors for them they are text.
_STR_LIKE = frozenset({_STR, _STD + "merge", _STD + "value"})
_SCALAR_TAGS = _STR_LIKE | {_INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP}
_BOOLS = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}
_JSON_EXPONENT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?[eE][+-]?[0-9]+")
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIMESTAMP_RE = re.compile(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?"
)
_BREAKS = "\r\n\x85\u2028\u2029"
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


def _line_break(text: str, i: int) -> tuple[str, int] | None:
    """The normalised break starting at i and the index after it, as PyYAML reads it."""
    ch = text[i : i + 1]
    if ch == "" or ch not in _BREAKS:
        return None
    if text.startswith("\r\n", i):
        return "\n", i + 2
    return ("\n" if ch in "\r\n\x85" else ch), i + 1


_Chars = list[tuple[str, int]]  # produced character, source index it comes from


def _rebuild_flow(text: str, i: int, end: int, style: str | None) -> _Chars:
    """Replay PyYAML's plain / quoted scalar scanning, recording each char's source index."""
    out: _Chars = []
    quote = style if style in ("'", '"') else None
    i += 1 if quote else 0

    def breaks_from(j: int) -> tuple[_Chars, int]:
        found = []
        while True:
            while j < end and text[j] in " \t":
                j += 1
            br = _line_break(text, j)
            if br is None:
                return found, j
            found.append((br[0], j))
            j = br[1]

    while i < end:
        ch = text[i]
        if ch == quote and not (quote == "'" and text.startswith("''", i)):
            break
        if ch not in " \t" + _BREAKS:
            if quote == "'" and ch == "'":
                out.append(("'", i))
                i += 2
            elif quote == '"' and ch == "\\":
                esc = text[i + 1]
                if esc in Scanner.ESCAPE_REPLACEMENTS:
                    out.append((Scanner.ESCAPE_REPLACEMENTS[esc], i))
                    i += 2
                elif esc in Scanner.ESCAPE_CODES:
                    n = Scanner.ESCAPE_CODES[esc]
                    out.append((chr(int(text[i + 2 : i + 2 + n], 16)), i))
                    i += 2 + n
                else:
                    found, i = breaks_from(_line_break(text, i + 1)[1])
                    out.extend(found)
            else:
                out.append((ch, i))
                i += 1
            continue
        j = i
        while j < end and text[j] in " \t":
            j += 1
        br = _line_break(text, j)
        if br is None:
            out.extend((text[k], k) for k in range(i, j))
            i = j
            continue
        found, i = breaks_from(br[1])
        if br[0] != "\n":
            out.append((br[0], j))
        elif not found:
            out.append((" ", j))
        out.extend(found)
    return out


def _rebuild_block(text: str, i: int, parent_indent: int, folded: bool) -> _Chars:
    """Replay PyYAML's block scalar scanning (`|` / `>`), recording each char's source index."""
    out: _Chars = []
    n = len(text)
    i += 1
    chomping: bool | None = None
    increment: int | None = None
    for _ in range(2):
        ch = text[i : i + 1]
        if ch and ch in "+-" and chomping is None:
            chomping, i = ch == "+", i + 1
        elif ch and ch in "123456789" and increment is None:
            increment, i = int(ch), i + 1
    while i < n and text[i] == " ":
        i += 1
    if text.startswith("#", i):
        i = next((k for k in range(i, n) if text[k] in _BREAKS), n)
    br = _line_break(text, i)
    i, col = (br[1] if br else i), 0
    min_indent = max(parent_indent + 1, 1)

    def breaks_from(i: int, col: int, indent: int) -> tuple[int, int, _Chars]:
        found = []
        while True:
            while col < indent and i < n and text[i] == " ":
                i, col = i + 1, col + 1
            br = _line_break(text, i)
            if br is None:
                return i, col, found
            found.append((br[0], i))
            i, col = br[1], 0

    if increment is None:
        breaks, max_indent = [], 0
        while i < n and text[i] in " " + _BREAKS:
            if text[i] == " ":
                i, col = i + 1, col + 1
                max_indent = max(max_indent, col)
            else:
                br = _line_break(text, i)
                breaks.append((br[0], i))
                i, col = br[1], 0
        indent = max(min_indent, max_indent)
    else:
        indent = min_indent + increment - 1
        i, col, breaks = breaks_from(i, col, indent)
    line_break: tuple[str, int] | None = None
    while col == indent and i < n:
        out.extend(breaks)
        leading_non_space = text[i] not in " \t"
        while i < n and text[i] not in _BREAKS:
            out.append((text[i], i))
            i += 1
        br = _line_break(text, i)
        line_break = (br[0], i) if br else None
        i, col, breaks = breaks_from(br[1] if br else i, 0, indent)
        if not (col == indent and i < n):
            break
        if folded and line_break and line_break[0] == "\n" and leading_non_space and text[i] not in " \t":
            if not breaks:
                out.append((" ", line_break[1]))
        elif line_break:
            out.append(line_break)
    if chomping is not False and line_break:
        out.append(line_break)
    if chomping is True:
        out.extend(breaks)
    return out


def _is_text(node: Node, explicit_tag: bool) -> bool:
    """Whether the node converts to a str (a JSON-style `1e5` plain scalar becomes a Decimal)."""
    if not isinstance(node, ScalarNode):
        return False
    if node.tag == _TIMESTAMP:
        return _TIMESTAMP_RE.fullmatch(node.value) is not None
    if node.tag not in _STR_LIKE:
        return False
    plain = not node.style and not explicit_tag  # libyaml writes the plain style as "", PyYAML as None
    return not (plain and _JSON_EXPONENT.fullmatch(node.value))


def _scan_properties(text: str) -> dict[int, tuple[int, int, bool]]:
    """For each scalar token, by its end index: its start index, the block indentation around it, and
    whether it carries an explicit tag; read from the token stream (libyaml's scanner, else PyYAML's)."""
    table: dict[int, tuple[int, int, bool]] = {}
    # libyaml's marks do not count a byte order mark
    for loader in (yaml.SafeLoader,) if "\ufeff" in text else (yaml.CSafeLoader, yaml.SafeLoader):
        table.clear()
        indents = [-1]
        tagged = False
        try:
            for token in yaml.scan(text, Loader=loader):
                if isinstance(token, (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken)):
                    indents.append(token.start_mark.column)
                elif isinstance(token, yaml.BlockEndToken):
                    indents.pop()
                if isinstance(token, yaml.ScalarToken):
                    table[token.end_mark.index] = (token.start_mark.index, indents[-1], tagged)
                if isinstance(token, yaml.TagToken):
                    tagged = token.value != (None, "!")  # a bare `!` leaves the tag to the resolver
                elif not isinstance(token, yaml.AnchorToken):
                    tagged = False
            return table
        except (yaml.YAMLError, ValueError, IndexError):
            continue  # a document that composed has a stream that scans, at least up to its end
    return table


class Locator:
    """Maps paths (tuples of str keys and int indices) to source spans of a loaded YAML file."""

    def __init__(self, file: str, text: str, root: Node | None = None) -> None:
        self.file = file
        self._text = text
        self._root = root
        self._properties: dict[int, tuple[int, int, bool]] | None = None  # see _scan_properties
        self._line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
        self._has_bom = "\ufeff" in text
        self._indexes: dict[int, dict[str, tuple[Node, Node]]] = {}
        self._mappings: dict[int, tuple[list[int], int, bool]] = {}

    def position(self, index: int) -> tuple[int, int]:
        """1-based (line, column) of a character index in the source text."""
        line = bisect_right(self._line_starts, index)
        start = self._line_starts[line - 1]
        column = index - start + 1
        if self._has_bom:
            column -= self._text.count("\ufeff", start, index)
        return line, column

    def index_span(self, start: int, end: int) -> Span:
        """Span between two source indices (at least one character wide)."""
        line, column = self.position(start)
        if end <= start:
            return Span.point(self.file, line, column)
        return Span(self.file, line, column, *self.position(end))

    def _has_properties(self, node: Node) -> bool:
        """Whether the node starts with an anchor or a tag (nothing else starts with `&` or `!`)."""
        return self._text[node.start_mark.index:node.start_mark.index + 1] in ("&", "!")

    def _survey(self) -> bool:
        """Whether libyaml's marks and tags are PyYAML's for this tree: not when an empty plain scalar
        sits in a flow collection (libyaml marks it at the next token, PyYAML just after the `:` or `?`),
        nor when an empty scalar has a tag or an anchor (libyaml makes `a: !` a string, PyYAML null).
        Also notes whether any node has an anchor or a tag."""
        properties = False
        stack, seen = [(self._root, False)] if self._root is not None else [], set()
        while stack:
            node, in_flow = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            has_properties = self._has_properties(node)
            properties = properties or has_properties
            if isinstance(node, ScalarNode):
                if not node.value and not node.style and (in_flow or has_properties):
                    return False
                continue
            children = node.value if isinstance(node, SequenceNode) else [c for pair in node.value for c in pair]
            stack.extend((child, bool(node.flow_style)) for child in children)
        if not properties:
            self._properties = {}
        return True

    def _any_properties(self) -> dict[int, tuple[int, int, bool]] | None:
        """The token table when some node of the document has an anchor or a tag, else None."""
        if self._properties is None:
            self._properties = _scan_properties(self._text)
        return self._properties or None

    def explicit_tag(self, node: Node) -> bool:
        """Whether the scalar node was written with a tag of its own (`!!str 1e5`)."""
        table = self._any_properties() if self._has_properties(node) else None
        return table is not None and table.get(node.end_mark.index, (0, 0, False))[2]  # `!` alone: no token

    def _node_span(self, node: Node) -> Span:
        return self.index_span(node.start_mark.index, node.end_mark.index)

    def _child(self, node: Node, element: str | int) -> tuple[Node | None, Node] | None:
        if isinstance(node, MappingNode) and isinstance(element, str):
            index = self._indexes.get(id(node))
            if index is None:
                index = {}
                for key, value in node.value:
                    if isinstance(key, ScalarNode):
                        index.setdefault(key.value, (key, value))
                self._indexes[id(node)] = index
            return index.get(element)
        if isinstance(node, SequenceNode) and isinstance(element, int) and not isinstance(element, bool):
            if 0 <= element < len(node.value):
                return None, node.value[element]
        return None

    def _walk(self, path: Path) -> tuple[int, Node | None, Node | None]:
        """How many elements of path were found, and the key and value node reached."""
        depth, key, node, _ = self._walk_indented(path)
        return depth, key, node

    def _walk_indented(self, path: Path) -> tuple[int, Node | None, Node | None, int]:
        """_walk, and the column of the innermost block collection around the node reached (-1 at the
        top): the indentation the scanner was at when it read the node."""
        key, node, depth, indent = None, self._root, 0, -1
        if node is None:
            return 0, None, None, indent
        for element in path:
            found = self._child(node, element)
            if found is None:
                break
            if not node.flow_style:
                indent = node.start_mark.column
            (key, node), depth = found, depth + 1
        return depth, key, node, indent

    def span(self, path: Path) -> Span | None:
        """Span of the value at path, or None if the path does not exist."""
        depth, _, node = self._walk(path)
        return self._node_span(node) if node is not None and depth == len(path) else None

    def key_span(self, path: Path) -> Span | None:
        """Span of the mapping key naming the last element of path (else the value span)."""
        depth, key, node = self._walk(path)
        if node is None or depth < len(path):
            return None
        return self._node_span(key if key is not None else node)

    def nearest_span(self, path: Path) -> Span:
        """Span of the longest existing prefix of path (the root, or 1:1 when there is nothing)."""
        _, _, node = self._walk(path)
        return self._node_span(node) if node is not None else Span(self.file, 1, 1, 1, 2)

    def _scalar_token(self, node: Node, indent: int) -> tuple[int, int, bool] | None:
        """Start index, enclosing block indentation and explicit tag of the scalar token of node.

        Without anchors and tags in the document, the token starts where the node does and the
        indentation is that of the enclosing block collection; otherwise the token stream says.
        """
        table = self._any_properties()
        if table is None:
            return node.start_mark.index, indent, False
        return table.get(node.end_mark.index)

    def _mapping(self, node: Node, indent: int) -> tuple[list[int], int, bool]:
        """Source index of each value char, the index for offsets past the end, exactness."""
        cached = self._mappings.get(id(node))
        if cached is not None:
            return cached
        result: tuple[list[int], int, bool] = ([], node.start_mark.index, False)
        token = self._scalar_token(node, indent) if isinstance(node, ScalarNode) else None
        if token and node.value and _is_text(node, token[2]):
            start, indent, _ = token
            try:
                if node.style in ("|", ">"):
                    chars = _rebuild_block(self._text, start, indent, node.style == ">")
                else:
                    chars = _rebuild_flow(self._text, start, node.end_mark.index, node.style)
            except (IndexError, ValueError, TypeError):
                chars = []
            src = [index for _, index in chars]
            if "".join(c for c, _ in chars) == node.value:
                last = len(node.value.rstrip(_BREAKS))
                result = (src, src[last - 1] + 1 if last else src[0], True)
        self._mappings[id(node)] = result
        return result

    def offset_mapper(self, path: Path) -> Callable[[int], tuple[int, int]]:
        """Function from a character offset in the string value at path to its (line, column)."""
        depth, _, node, indent = self._walk_indented(path)
        if node is None or depth < len(path):
            span = self.nearest_span(path)
            return lambda offset: (span.line, span.column)
        src, end, _ = self._mapping(node, indent)
        position = self.position

        def mapper(offset: int) -> tuple[int, int]:
            return position(src[max(offset, 0)] if offset < len(src) else end)

        return mapper

    def offset_mapping_exact(self, path: Path) -> bool:
        """Whether offset_mapper(path) is exact for every character (only for string values)."""
        depth, _, node, indent = self._walk_indented(path)
        return node is not None and depth == len(path) and self._mapping(node, indent)[2]


class _TooLarge(Exception):
    pass


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_STD):] if tag.startswith(_STD) else tag


_MAX_NUMBER_TEXT = 200  # a number written longer than this is refused before it is converted


def _to_number(text: str, kind: type[int] | type[Decimal]) -> int | Decimal:
    """YAML 1.1 int (binary, octal, hex, base 60) or float text, without going through float."""
    value = text.replace("_", "")
    sign = -1 if value[:1] == "-" else 1
    digits = value[1:] if value[:1] in ("+", "-") else value
    if digits[:1] in ("+", "-"):
        raise ValueError(text)
    if kind is Decimal and ":" not in digits:
        return Decimal(value)
    if kind is int and digits[:2] in ("0b", "0x"):
        return sign * int(digits[2:], 2 if digits[1] == "b" else 16)
    if kind is int and len(digits) > 1 and digits.startswith("0") and ":" not in digits:
        return sign * int(digits, 8)
    total = kind(0)
    for part in digits.split(":"):
        total = total * 60 + kind(part)
    return sign * total


class _Converter:
    """Turns a composed node tree into plain values, iteratively, collecting diagnostics."""

    def __init__(self, locator: Locator, max_nodes: int) -> None:
        self.locator = locator
        self.max_nodes = max_nodes
        self.count = 0
        self.diagnostics: list[Diagnostic] = []

    def report(self, code: str, message: str, node: Node) -> None:
        self.diagnostics.append(Diagnostic(code, message, self.locator._node_span(node)))

    def visit(self) -> None:
        self.count += 1
        if self.count > self.max_nodes:
            raise _TooLarge

    def convert(self, root: Node) -> object:
        holder: list[object] = [None]
        stack: list[tuple[Node | None, object, object]] = [(root, holder, 0)]
        active: set[int] = set()
        while stack:
            node, target, slot = stack.pop()
            if node is None:
                active.discard(target)
                continue
            self.visit()
            if isinstance(node, ScalarNode):
                target[slot] = self.scalar(node)
                continue
            if id(node) in active:
                self.report("yaml-too-deep", "an alias refers to a node that contains it", node)
                continue
            if node.tag != (_SEQ if isinstance(node, SequenceNode) else _MAP):
                self.report("yaml-unsupported-tag", f"unsupported tag `{_short_tag(node.tag)}`", node)
                continue
            active.add(id(node))
            stack.append((None, id(node), None))
            if isinstance(node, SequenceNode):
                items: list[object] = [None] * len(node.value)
                target[slot] = items
                stack.extend((child, items, i) for i, child in reversed(list(enumerate(node.value))))
                continue
            mapping: dict[str, object] = {}
            target[slot] = mapping
            pending = []
            for key_node, value_node in node.value:
                self.visit()
                if not isinstance(key_node, ScalarNode):
                    self.report("yaml-key", "a mapping key must be a string, not a collection", key_node)
                elif key_node.tag not in _SCALAR_TAGS:
                    self.report("yaml-unsupported-tag", f"unsupported tag `{_short_tag(key_node.tag)}`", key_node)
                elif key_node.value in mapping:
                    self.report("duplicate-key", f"duplicate key `{key_node.value}`", key_node)
                else:
                    mapping[key_node.value] = None
                    pending.append((value_node, mapping, key_node.value))
            stack.extend(reversed(pending))
        return holder[0]

    def scalar(self, node: ScalarNode) -> object:
        tag, text = node.tag, node.value
        try:
            if tag in _STR_LIKE:
                return text if _is_text(node, self.locator.explicit_tag(node)) else Decimal(text)
            if tag == _NULL:
                return None
            if tag == _BOOL:
                if text.lower() in _BOOLS:
                    return _BOOLS[text.lower()]
                self.report("yaml-invalid-value", f"`{text}` is not a boolean", node)
                return None
            if tag in (_INT, _FLOAT) and len(text) > _MAX_NUMBER_TEXT:
                self.report("invalid-number", f"number `{text[:20]}...` is {len(text)} characters long; "
                            f"the limit is {_MAX_NUMBER_TEXT}", node)
                return None
            if tag == _INT:
                return _to_number(text, int)
            if tag == _FLOAT:
                value = _to_number(text, Decimal)
                if value.is_finite():
                    return value
                self.report("invalid-number", f"number `{text}` is not a finite decimal", node)
                return None
        except (ValueError, ArithmeticError):
            kind = "an integer" if tag == _INT else "a finite decimal"
            self.report("invalid-number", f"number `{text}` is not {kind}", node)
            return None
        if tag == _TIMESTAMP:
            match = _DATE_RE.fullmatch(text)
            if match:
                try:
                    return datetime.date(*map(int, match.groups()))
                except ValueError:
                    pass
            elif _is_text(node, self.locator.explicit_tag(node)):
                return text
            self.report("invalid-date", f"invalid date `{text}`", node)
            return None
        self.report("yaml-unsupported-tag", f"unsupported tag `{_short_tag(tag)}`", node)
        return None


def _syntax_diagnostic(error: yaml.YAMLError, locator: Locator) -> Diagnostic:
    span = Span(locator.file, 1, 1, 1, 2)
    help = None
    if isinstance(error, yaml.MarkedYAMLError):
        message = error.problem or error.context or "invalid yaml"
        if error.problem == "second occurrence" and error.context:
            message = error.context.split(";")[0]
        mark = error.problem_mark or error.context_mark
        opened = error.context or ""
        help = None
        if error.context_mark is not None and opened.startswith(("while scanning a quoted", "while parsing a flow")):
            # an unclosed quote or bracket: point at where it was opened
            ctx = error.context_mark
            ch = locator._text[ctx.index:ctx.index + 1]
            what = "quoted string" if "quoted" in opened else (f"`{ch}`" if ch and ch in "[{" else "bracket")
            if "end of stream" in (error.problem or "") or "stream end" in (error.problem or ""):
                mark = ctx
                message = f"this {what} is never closed" if ch else "the file ends inside an unclosed `[` or `{`"
            else:
                help = f"the {what} opened at line {ctx.line + 1}, column {ctx.column + 1} is not closed before this"
        if mark is not None:
            span = locator.index_span(mark.index, mark.index + 1)
    elif isinstance(error, yaml.reader.ReaderError):
        char = error.character
        code = f"#x{char:04x}" if isinstance(char, int) else repr(char)
        message = f"unacceptable character {code}: {error.reason}"
        span = locator.index_span(error.position, error.position + 1)
    else:
        message = str(error) or "invalid yaml"
    message = " ".join(message.split())
    return Diagnostic("yaml-syntax", message[:1].lower() + message[1:], span, help=help if isinstance(error, yaml.MarkedYAMLError) else None)


_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent, yaml.AliasEvent)
# Every node but the first follows one of these characters, and at most two nodes start after each one
# (a block mapping and its first key): a bound on the node count that costs a few passes of str.count.
_BEFORE_A_NODE = ",[{:-?\n"


def _node_bound(text: str) -> int:
    """At least the number of nodes the text can hold (see _BEFORE_A_NODE)."""
    return 2 * (1 + sum(text.count(c) for c in _BEFORE_A_NODE))


# PyYAML's own loader takes some 20 us a node: past this bound, a document libyaml refuses is not composed
# again by it to have its message (libyaml's is shown, found from its events before anything is built), so
# that an error late in a long document is refused in about a second.
_PURE_NODES = 100_000


def _prescan(text: str, max_nodes: int, bound: int) -> tuple[int, int] | yaml.MarkedYAMLError | None:
    """For a document that could hold more than `_PURE_NODES` nodes, libyaml's parser events read before
    anything is built (memory stays flat, a second for millions of nodes): where the first document
    passes `max_nodes` nodes (start and end index of the node that does), or the error that makes
    libyaml refuse it; else None. An alias counts once here (the converter counts it each time used).
    `bound` is `_node_bound(text)`."""
    if bound <= min(max_nodes, _PURE_NODES):
        return None
    loader = yaml.CSafeLoader(text)
    count = 0
    try:
        while True:
            event = loader.get_event()
            if event is None or isinstance(event, yaml.DocumentEndEvent):
                return None
            if isinstance(event, _NODE_EVENTS):
                count += 1
                if count > max_nodes:
                    return event.start_mark.index, event.end_mark.index
    except yaml.MarkedYAMLError as error:
        return error
    except (yaml.YAMLError, ValueError, RecursionError):
        return None
    finally:
        loader.dispose()


def _libyaml_diagnostic(error: yaml.MarkedYAMLError, locator: Locator) -> Diagnostic:
    """libyaml's refusal as a diagnostic; its depth limit (1,000 levels) is `yaml-too-deep`, as PyYAML's is."""
    if "maximum nesting depth" in (error.problem or ""):
        index = error.problem_mark.index if error.problem_mark is not None else 0
        return Diagnostic("yaml-too-deep", "the document is nested too deeply", locator.index_span(index, index + 1))
    return _syntax_diagnostic(error, locator)


def _compose(loader: yaml.SafeLoader | yaml.CSafeLoader, locator: Locator) -> tuple[Node | None, list[Diagnostic]]:
    """The first document's node tree, with a diagnostic if a second document follows."""
    diagnostics: list[Diagnostic] = []
    root: Node | None = None
    try:
        if loader.check_node():
            root = loader.get_node()
            if loader.check_node():
                event = loader.peek_event()
                diagnostics.append(Diagnostic(
                    "yaml-multiple-documents", "found a second yaml document; only one is allowed",
                    locator.index_span(event.start_mark.index, event.end_mark.index)))
    finally:
        loader.dispose()
    return root, diagnostics


def _compose_pure(text: str, locator: Locator) -> tuple[Node | None, list[Diagnostic], bool]:
    """_compose with PyYAML's pure-Python loader, turning its errors into diagnostics (and True: refused)."""
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)
        return (*_compose(loader, locator), False)
    except yaml.YAMLError as error:
        return None, [_syntax_diagnostic(error, locator)], True
    except RecursionError:
        return None, [Diagnostic("yaml-too-deep", "the document is nested too deeply", locator.index_span(0, 1))], True
    except (ValueError, OverflowError, IndexError, TypeError):
        # PyYAML leaks these for a few inputs, e.g. "\U00110000" (chr out of range).
        index = loader.get_mark().index if loader is not None else 0
        return None, [Diagnostic("yaml-syntax", "invalid character or escape sequence",
                                 locator.index_span(index, index + 1))], True


def _too_large(max_nodes: int) -> str:
    return f"the document has more than {max_nodes} nodes (aliases count each time used)"


def load_yaml(text: str, file: str, *, max_nodes: int | None = None) -> tuple[object, Locator, list[Diagnostic]]:
    """Parse one YAML document safely into plain values, a Locator and diagnostics.

    libyaml composes a well-formed document; one it refuses, or one with a byte
    order mark (which libyaml's marks do not count), goes to PyYAML's own
    pure-Python loader, whose messages the diagnostics repeat. A document that
    could hold more than `_PURE_NODES` nodes is read by libyaml alone (PyYAML's
    own loader would take some 20 us a node): first as parser events, building
    nothing, where the node limit is checked and a refusal gets libyaml's
    message; then composed, even where PyYAML would differ (docs/security.md).

    Never raises for bad input: on a fatal problem (syntax, too large, too
    deep) the value is None and the diagnostics say why. An empty document
    gives None without diagnostics.
    """
    if max_nodes is None:
        from .limits import LIMITS
        max_nodes = LIMITS.yaml_nodes
    # libyaml's marks do not count a leading byte order mark; columns do not either, so the text after it
    # has the same lines and columns
    body = text[1:] if text.startswith("\ufeff") else text
    bound = _node_bound(body)
    found = _prescan(body, max_nodes, bound)
    if isinstance(found, tuple):
        locator = Locator(file, body)
        return None, locator, [Diagnostic("yaml-too-large", _too_large(max_nodes), locator.index_span(*found))]
    large = bound > _PURE_NODES  # read by libyaml alone: PyYAML's own loader would take long to compose it
    if found is not None and large:
        locator = Locator(file, body)
        return None, locator, [_libyaml_diagnostic(found, locator)]
    locator = None
    if "\ufeff" not in body or large:
        try:
            root, diagnostics = _compose(yaml.CSafeLoader(body), Locator(file, body))
        except yaml.MarkedYAMLError as error:  # in a second document (the first one was read above)
            if large:
                locator = Locator(file, body)
                return None, locator, [_libyaml_diagnostic(error, locator)]
        except (yaml.YAMLError, ValueError, RecursionError):
            pass
        else:
            locator = Locator(file, body, root)
            if not large and (diagnostics or not locator._survey()):  # a second document, or marks that differ
                locator = None
    if locator is None:
        locator = Locator(file, text)
        root, diagnostics, refused = _compose_pure(text, locator)
        if refused:
            return None, locator, diagnostics
        locator = Locator(file, text, root)
        locator._survey()
    if root is None:
        return None, locator, diagnostics
    converter = _Converter(locator, max_nodes)
    try:
        value = converter.convert(root)
    except _TooLarge:
        return None, locator, [*diagnostics, *converter.diagnostics, Diagnostic(
            "yaml-too-large", _too_large(max_nodes), locator._node_span(root))]
    return value, locator, [*diagnostics, *converter.diagnostics]
