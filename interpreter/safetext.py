"""Untrusted text made safe to print: no character in it can act on a terminal or break JSON or XML.

Facts, answers, labels and file names may hold control characters (an escape sequence that clears
the screen, sets the window title or paints a fake "✓ applies"), line breaks that fake a new line of
output, bidirectional overrides, or lone surrogates (valid in JSON text, but not encodable as UTF-8).
`printable` writes each such character as a visible escape (`\\x1b`, `\\n`, `\\u202e`, `\\udc80`);
every other character, including all of Unicode's letters and symbols, is kept.
"""
from __future__ import annotations

import re

__all__ = ["printable", "json_safe", "xml_safe"]

# C0 controls and DEL, C1 controls, line and paragraph separators, bidirectional controls, lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match) -> str:
    ch = m[0]
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every character that could act on a terminal written as a visible escape."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


# In JSON text, control characters below U+0020 are escaped by the encoder already; these are the others
# that act on a terminal showing the JSON, and lone surrogates, which UTF-8 cannot encode.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def json_safe(json_text: str) -> str:
    """JSON text with C1 controls, bidirectional controls and lone surrogates written as `\\uXXXX` escapes
    (the JSON value is the same: a JSON reader gives back the same string)."""
    if json_text.isascii() or _JSON_UNSAFE.search(json_text) is None:
        return json_text
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", json_text)


# XML 1.0 allows tab, line feed and carriage return among the controls, and no surrogate.
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` for an XML attribute or element: characters XML cannot hold (or that act on a terminal
    showing the report) written as visible escapes."""
    if _XML_UNSAFE.search(text) is None:
        return text
    return _XML_UNSAFE.sub(_escape, text)
