"""Whether a document is valid against one of our schemas, decided as jsonschema would, without importing it.

Importing jsonschema and running it costs a cold start more than everything
else together, and almost every document is valid. So schema_check asks this
check first; only when it says "not valid", or is unsure, does jsonschema run
and give the diagnostics, which are therefore always jsonschema's.

The check is a table from keyword to one small function, in the shape of
jsonschema's own keyword functions, each returning whether the instance passes
that keyword. Only the keywords our schemas use are in it, with jsonschema's
semantics (Draft 2020-12, the loader's type checker: numbers are int or
Decimal, never bool; no format checker, so `format` is an annotation).
Anything else (another keyword, a `$schema` or `$id` below the root, a
reference it cannot follow, a deep document) raises Unsure.
tests/test_quick_schema.py checks each keyword against jsonschema, on the
shipped files and on generated and mutated documents.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Callable, NamedTuple

__all__ = ["QuickCheck", "Unsure", "is_number", "is_integer"]

MAX_DEPTH = 16  # deeper documents go to jsonschema (its recursion limits decide)
MAX_CALLS = 400  # nested schema applications, against reference cycles
IGNORED = frozenset({"title", "description", "$comment", "$defs", "default", "examples", "format",
                     "then", "else", "deprecated", "readOnly", "writeOnly"})


class Unsure(Exception):
    """The quick check cannot vouch for its answer: jsonschema decides."""


class Scope(NamedTuple):
    base: str    # the URI that references are resolved against
    depth: int   # how deep into the instance
    calls: int   # how many schemas applied in this chain


def is_number(checker, x) -> bool:
    return isinstance(x, (int, Decimal)) and not isinstance(x, bool)


def is_integer(checker, x) -> bool:
    return (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, Decimal) and x == x.to_integral_value())


_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda x: isinstance(x, str), "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list), "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None, "number": lambda x: is_number(None, x), "integer": lambda x: is_integer(None, x),
}


# -- one function per keyword: (check, the keyword's value, instance, the schema holding it, scope) -> passes

def type_(check, types, instance, schema, scope) -> bool:
    for t in [types] if isinstance(types, str) else types:
        if t not in _TYPES:
            raise Unsure
        if _TYPES[t](instance):
            return True
    return False


def ref(check, ref, instance, schema, scope) -> bool:
    target, uri = check.resolve(ref, scope.base)
    return check.valid(target, instance, Scope(uri, scope.depth, scope.calls))


def properties(check, properties, instance, schema, scope) -> bool:
    if not isinstance(instance, dict):
        return True
    return all(check.valid(sub, instance[name], scope, deeper=True)
               for name, sub in properties.items() if name in instance)


def additionalProperties(check, additional, instance, schema, scope) -> bool:
    if not isinstance(instance, dict):
        return True
    if "patternProperties" in schema:
        raise Unsure
    known = schema.get("properties", {})
    extras = [name for name in instance if name not in known]
    if isinstance(additional, dict):
        return all(check.valid(additional, instance[name], scope, deeper=True) for name in extras)
    return bool(additional) or not extras


def propertyNames(check, names, instance, schema, scope) -> bool:
    return not isinstance(instance, dict) or all(check.valid(names, name, scope, deeper=True) for name in instance)


def required(check, required, instance, schema, scope) -> bool:
    return not isinstance(instance, dict) or all(name in instance for name in required)


def pattern(check, pattern, instance, schema, scope) -> bool:
    return not isinstance(instance, str) or re.search(pattern, instance) is not None


def minLength(check, n, instance, schema, scope) -> bool:
    return not isinstance(instance, str) or len(instance) >= n


def minItems(check, n, instance, schema, scope) -> bool:
    return not isinstance(instance, list) or len(instance) >= n


def minProperties(check, n, instance, schema, scope) -> bool:
    return not isinstance(instance, dict) or len(instance) >= n


def uniqueItems(check, unique, instance, schema, scope) -> bool:
    if not unique or not isinstance(instance, list):
        return True
    if all(isinstance(x, str) for x in instance) or \
            all(is_number(None, x) and (not isinstance(x, Decimal) or x.is_finite()) for x in instance):
        return len(set(instance)) == len(instance)
    raise Unsure


def enum(check, enums, instance, schema, scope) -> bool:
    if not all(isinstance(e, str) for e in enums):
        raise Unsure
    return isinstance(instance, str) and instance in enums


def const(check, const, instance, schema, scope) -> bool:
    if not isinstance(const, str):
        raise Unsure
    return isinstance(instance, str) and instance == const


def items(check, items, instance, schema, scope) -> bool:
    if not isinstance(instance, list):
        return True
    if "prefixItems" in schema or not isinstance(items, dict):
        raise Unsure
    return all(check.valid(items, item, scope, deeper=True) for item in instance)


def allOf(check, subschemas, instance, schema, scope) -> bool:
    return all(check.valid(sub, instance, scope) for sub in subschemas)


def anyOf(check, subschemas, instance, schema, scope) -> bool:
    return any(check.valid(sub, instance, scope) for sub in subschemas)


def oneOf(check, subschemas, instance, schema, scope) -> bool:
    return sum(1 for sub in subschemas if check.valid(sub, instance, scope)) == 1


def not_(check, not_schema, instance, schema, scope) -> bool:
    return not check.valid(not_schema, instance, scope)


def if_(check, if_schema, instance, schema, scope) -> bool:
    if check.valid(if_schema, instance, scope):
        return "then" not in schema or check.valid(schema["then"], instance, scope)
    return "else" not in schema or check.valid(schema["else"], instance, scope)


def dependentRequired(check, dependent, instance, schema, scope) -> bool:
    return not isinstance(instance, dict) or all(
        all(n in instance for n in needed) for name, needed in dependent.items() if name in instance)


def dependentSchemas(check, dependent, instance, schema, scope) -> bool:
    return not isinstance(instance, dict) or all(
        check.valid(sub, instance, scope) for name, sub in dependent.items() if name in instance)


KEYWORDS: dict[str, Callable[..., bool]] = {
    "type": type_, "$ref": ref, "properties": properties, "additionalProperties": additionalProperties,
    "propertyNames": propertyNames, "required": required, "pattern": pattern, "minLength": minLength,
    "minItems": minItems, "minProperties": minProperties, "uniqueItems": uniqueItems, "enum": enum,
    "const": const, "items": items, "allOf": allOf, "anyOf": anyOf, "oneOf": oneOf, "not": not_, "if": if_,
    "dependentRequired": dependentRequired, "dependentSchemas": dependentSchemas,
}


class QuickCheck:
    """The keyword table applied to our schemas (each with an `$id`), references followed between them."""

    def __init__(self, docs: dict[str, Any]):
        self.by_uri = {}
        for doc in docs.values():
            if not isinstance(doc, dict) or not isinstance(doc.get("$id"), str):
                raise Unsure
            self.by_uri[doc["$id"]] = doc

    def is_valid(self, root: dict, instance: Any) -> bool:
        """Whether instance is valid against root; raises Unsure when the answer might not be jsonschema's."""
        body = {k: v for k, v in root.items() if k not in ("$schema", "$id")}  # allowed at the root only
        return self.valid(body, instance, Scope(root["$id"], 0, 0))

    def valid(self, schema: Any, instance: Any, scope: Scope, deeper: bool = False) -> bool:
        base, depth, calls = scope
        depth += deeper
        if schema is True or schema is False:
            return schema
        if not isinstance(schema, dict) or depth > MAX_DEPTH or calls > MAX_CALLS:
            raise Unsure
        scope = Scope(base, depth, calls + 1)
        for keyword, value in schema.items():
            if keyword in IGNORED:
                continue
            function = KEYWORDS.get(keyword)
            if function is None:
                raise Unsure
            if not function(self, value, instance, schema, scope):
                return False
        return True

    def resolve(self, ref: Any, base: str) -> tuple[Any, str]:
        if not isinstance(ref, str):
            raise Unsure
        target, _, fragment = ref.partition("#")
        if target:
            if any(c in target for c in "/:%?\\") or target in (".", ".."):
                raise Unsure
            uri = base.rsplit("/", 1)[0] + "/" + target
        else:
            uri = base
        node = self.by_uri.get(uri)
        if node is None or not fragment.startswith("/"):
            raise Unsure  # the whole document, an anchor, or elsewhere
        for part in fragment[1:].split("/"):
            if "~" in part or "%" in part or not isinstance(node, dict) or part not in node:
                raise Unsure
            node = node[part]
            if isinstance(node, dict) and ("$id" in node or "$schema" in node):
                raise Unsure
        return node, uri
