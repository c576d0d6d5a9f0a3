"""Schema checking: our JSON Schemas, jsonschema run on a document, its errors turned into diagnostics.

A document that _quick_schema finds valid needs nothing more; otherwise
jsonschema gives the errors, `best_match` picks the one to show among the
alternatives of a `oneOf` or `anyOf`, and each becomes a diagnostic with a code,
a plain message and the position of the key or value at fault.
"""
from __future__ import annotations

import datetime as _dt
import difflib
import functools
import json
import os
from decimal import Decimal
from typing import Any

from ._quick_schema import QuickCheck, Unsure, is_integer, is_number
from ._yaml import Locator
from .diagnostics import Diagnostic

__all__ = ["schema_check"]

_SCHEMA_FILES = ("policy.schema.json", "inputs.schema.json", "test.schema.json")


@functools.lru_cache(maxsize=1)
def _schema_docs() -> dict[str, Any]:
    return {name: json.loads(_schema_text(name)) for name in _SCHEMA_FILES}


@functools.lru_cache(maxsize=1)
def _registry():
    """The referencing registry of our schemas (imports jsonschema's machinery)."""
    from referencing import Registry, Resource
    return Registry().with_resources(
        (doc.get("$id", name), Resource.from_contents(doc)) for name, doc in _schema_docs().items())


def _schema_text(name: str) -> str:
    """A schema from the installed package, or from the source tree's schema/ when run from a checkout."""
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(here, "schemas", name),                   # an installed package
                      os.path.join(os.path.dirname(os.path.realpath(__file__)), os.pardir, "schema", name)):
        try:
            with open(candidate, encoding="utf-8") as fh:
                return fh.read()
        except OSError:
            continue
    from importlib import resources  # any other installation (a zip, a custom loader)
    return resources.files("interpreter.schemas").joinpath(name).read_text("utf-8")


@functools.lru_cache(maxsize=1)
def _validator_class():
    """Draft 2020-12 with our numbers (int or Decimal, never bool); jsonschema is imported only when needed."""
    import jsonschema.validators
    from jsonschema import Draft202012Validator
    checker = Draft202012Validator.TYPE_CHECKER.redefine_many({"number": is_number, "integer": is_integer})
    return jsonschema.validators.extend(Draft202012Validator, type_checker=checker)


def _dates_as_text(v: Any) -> Any:
    """The document as the schema sees it: a YAML date is the text YYYY-MM-DD."""
    if isinstance(v, dict):
        return {k: _dates_as_text(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_dates_as_text(x) for x in v]
    if isinstance(v, _dt.date):
        return v.isoformat()
    return v


@functools.lru_cache(maxsize=len(_SCHEMA_FILES))
def _validator(name: str):
    return _validator_class()(_schema_docs()[name], registry=_registry())


@functools.lru_cache(maxsize=1)
def _quick_check() -> QuickCheck:
    return QuickCheck(_schema_docs())


def _quickly_valid(schema: str, instance: Any) -> bool:
    """True only when the document certainly has no schema errors (see _quick_schema); False means: ask jsonschema."""
    try:
        return _quick_check().is_valid(_schema_docs()[schema], instance)
    except (Unsure, RecursionError):
        return False


_JSON_TYPES = {"object": "a mapping", "array": "a list", "string": "a string", "number": "a number",
               "integer": "a whole number", "boolean": "true or false", "null": "null"}


def _shown_pattern(pattern: str) -> str:
    """A schema pattern as people read it: `(?!\\n)$` (an end with no line break before it) shown as `$`."""
    return pattern.replace("(?!\\n)$", "$")


def _kind_of(v: Any) -> str:
    if isinstance(v, bool):
        return "true or false"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, (int, Decimal)):
        return "a number"
    if v is None:
        return "null"
    if isinstance(v, _dt.date):
        return "a date"
    return "a string"


def _short(v: Any) -> str:
    s = v if isinstance(v, str) else json.dumps(v, default=str)
    return s if len(s) <= 40 else s[:37] + "..."


def _schema_error_to_diag(err, loc: Locator, file: str) -> Diagnostic:
    path = tuple(err.absolute_path)
    v = err.validator
    if v == "pattern" and "propertyNames" in err.relative_schema_path:
        v = "propertyNames"
    if err.context:  # a `oneOf` or `anyOf` that no alternative satisfies: the error deeper in, if any
        from jsonschema.exceptions import best_match
        best = best_match([err])
        if len(best.absolute_path) > len(path):
            return _schema_error_to_diag(best, loc, file)
    where = loc.nearest_span(path)
    key = path[-1] if path else None
    whole = (loc.key_span(path) or where) if path else where  # a problem of a whole mapping: point at its key
    if v == "additionalProperties":
        allowed = list((err.schema.get("properties") or {}).keys())
        extras = [k for k in err.instance if k not in allowed] if isinstance(err.instance, dict) else []
        pattern_props = err.schema.get("patternProperties")
        if extras and not pattern_props:
            extra = extras[0]
            hint = difflib.get_close_matches(extra, allowed, n=1)
            return Diagnostic("unknown-key", f"unknown key `{extra}`", loc.key_span(path + (extra,)) or where,
                              help=(f"did you mean `{hint[0]}`?" if hint else
                                    ("allowed keys: " + ", ".join(allowed) if allowed else None)))
    if v == "unevaluatedProperties" and isinstance(err.instance, dict):
        allowed = list((err.schema.get("properties") or {}).keys())
        extras = [k for k in err.instance if k not in allowed] or list(err.instance)
        extra = extras[0]
        hint = difflib.get_close_matches(extra, allowed, n=1)
        return Diagnostic("unknown-key", f"unknown key `{extra}`", loc.key_span(path + (extra,)) or where,
                          help=f"did you mean `{hint[0]}`?" if hint else None)
    if v == "required":
        missing = [r for r in err.validator_value if isinstance(err.instance, dict) and r not in err.instance]
        name = missing[0] if missing else err.validator_value[0]
        return Diagnostic("missing-key", f"missing required key `{name}`", whole)
    if v == "type":
        expected = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        words = " or ".join(_JSON_TYPES.get(t, t) for t in expected)
        return Diagnostic("schema-type", f"`{key}` must be {words}, not {_kind_of(err.instance)}" if key is not None and not isinstance(key, int)
                          else f"expected {words}, not {_kind_of(err.instance)}", where)
    if v == "enum":
        return Diagnostic("schema-value", f"`{_short(err.instance)}` is not one of: "
                          + ", ".join(str(x) for x in err.validator_value), where)
    if v == "pattern":
        return Diagnostic("schema-value", f"`{_short(err.instance)}` is not of the expected form",
                          where, help=_PATTERN_HELP.get(_shown_pattern(err.validator_value),
                                                        f"it must match the pattern {_shown_pattern(err.validator_value)}"))
    if v == "propertyNames":
        bad = err.instance
        return Diagnostic("schema-name", f"`{_short(bad)}` is not a valid name here",
                          loc.key_span(path + (bad,)) if isinstance(bad, str) else where,
                          help="names start with a letter or `_` and use only letters, digits and `_`")
    if v == "minLength":
        return Diagnostic("schema-value", f"`{key}` must not be empty" if key is not None else "must not be empty", where)
    if v in ("minItems", "minProperties"):
        return Diagnostic("schema-value", f"`{key}` must not be empty" if key is not None else "must not be empty", where)
    if v == "dependentRequired":
        present = next((k for k in err.validator_value if isinstance(err.instance, dict) and k in err.instance), "")
        needs = " and ".join(f"`{x}`" for x in err.validator_value.get(present, []))
        return Diagnostic("schema-shape", f"`{present}` needs {needs} beside it", whole, help=err.schema.get("description"))
    if v == "oneOf" and isinstance(err.instance, dict):
        alternatives = [sorted(b.get("required", [])) for b in err.validator_value if isinstance(b, dict)]
        keys = [k for alt in alternatives for k in alt]
        if keys and all(len(a) == 1 for a in alternatives):
            present = [k for k in keys if k in err.instance]
            words = ", ".join(f"`{k}`" for k in keys[:-1]) + f" or `{keys[-1]}`"
            msg = (f"`{key}` must have exactly one of {words}, not " + " and ".join(f"`{k}`" for k in present)
                   if present else f"`{key}` must have one of {words}")
            return Diagnostic("schema-shape", msg, whole, help=err.schema.get("description"))
    if v in ("oneOf", "not", "anyOf", "dependentSchemas"):
        desc = err.schema.get("description") or err.schema.get("title")
        return Diagnostic("schema-shape", f"`{key}` has an invalid shape" if key is not None else "invalid shape",
                          whole, help=desc)
    return Diagnostic("schema", (f"`{key}`: " if key is not None else "") + err.message.replace("'", "`"), where)


def schema_check(doc: Any, loc: Locator, file: str, schema: str) -> list[Diagnostic]:
    if not isinstance(doc, dict):
        what = {"policy.schema.json": "policy", "inputs.schema.json": "inputs", "test.schema.json": "test"}[schema]
        return [Diagnostic("schema-type", f"a {what} file must be a mapping, not {_kind_of(doc)}",
                           loc.nearest_span(()))]
    diags = []
    seen = set()
    try:
        instance = _dates_as_text(doc)
        if _quickly_valid(schema, instance):
            return []
        errors = list(_validator(schema).iter_errors(instance))
    except RecursionError:
        return [Diagnostic("yaml-too-deep", "the document is nested too deeply to check", loc.nearest_span(()))]
    dedented = _dedented_keys(doc, loc, schema)
    if dedented:  # one mistake of indentation explains the schema errors around it
        return dedented
    # An unknown key explains the shape errors of its mapping (a misspelt `exrp:` is one mistake, not two).
    unknown_at = {tuple(e.absolute_path) for e in errors if e.validator == "additionalProperties"}
    for err in errors:
        if err.validator in ("oneOf", "required", "dependentRequired", "anyOf") and tuple(err.absolute_path) in unknown_at:
            continue
        for d in _unknown_keys(err, loc) if err.validator == "additionalProperties" else [_schema_error_to_diag(err, loc, file)]:
            k = (d.code, d.message, d.span)
            if k not in seen:
                seen.add(k)
                diags.append(d)
    return diags


_ENTRY_DEFS = {"rules": "rule", "outcomes": "outcome", "parameters": "parameter", "inputs": "typespec_full"}


# What the patterns of the schemas ask for, in words.
_PATTERN_HELP = {  # keyed by the pattern as shown (`_shown_pattern`)
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "write YYYY-MM-DD, e.g. 2024-06-01",
    "^[0-9]{4}$": "write a four-digit year, e.g. 2024",
    "^[a-z][a-z0-9_-]*(\\.[a-z][a-z0-9_-]*)*$": "write lower-case words joined by dots, e.g. `urumqi.permanent-residence`",
    "^[A-Za-z_][A-Za-z0-9_]*$": "names start with a letter or `_` and use only letters, digits and `_`",
    "^[A-Za-z_][A-Za-z0-9_]*\\.[A-Za-z_][A-Za-z0-9_]*$": "write `alias.rule`, where `alias` is declared under `uses:`",
}


def _dedented_keys(doc: dict, loc: Locator, schema: str) -> list[Diagnostic]:
    """Keys such as `expr:` written one level too far left: they read as a new entry of the section."""
    defs = _schema_docs()["policy.schema.json"].get("$defs") or {}
    found = []
    for section, def_name in _ENTRY_DEFS.items():
        entries = doc.get(section)
        keys = set((defs.get(def_name) or {}).get("properties") or ())
        if not isinstance(entries, dict) or not keys:
            continue
        previous = None
        for name, value in entries.items():
            if name in keys and not isinstance(value, dict) and isinstance(entries.get(previous), dict):
                span = loc.key_span((section, name)) or loc.nearest_span((section, name))
                found.append(Diagnostic("indentation", f"`{name}:` is not indented under `{previous}`, so it reads "
                                        f"as a new entry of `{section}`", span,
                                        help=f"indent `{name}:` to line up with the other keys of `{previous}`"))
            elif isinstance(value, dict):
                previous = name
    return found


def _unknown_keys(err, loc: Locator) -> list[Diagnostic]:
    """Every unknown key of a mapping, each at its key, with a did-you-mean."""
    path = tuple(err.absolute_path)
    allowed = list((err.schema.get("properties") or {}).keys())
    extras = [k for k in err.instance if k not in allowed] if isinstance(err.instance, dict) else []
    if not extras or err.schema.get("patternProperties"):
        return [_schema_error_to_diag(err, loc, loc.file)]
    out = []
    for extra in extras:
        hint = difflib.get_close_matches(extra, allowed, n=1)
        out.append(Diagnostic("unknown-key", f"unknown key `{extra}`", loc.key_span(path + (extra,)) or loc.nearest_span(path),
                              help=(f"did you mean `{hint[0]}`?" if hint else
                                    ("allowed keys: " + ", ".join(allowed) if allowed else None))))
    return out
