"""Files on disk -> policy model: discovery, reading, YAML with positions, schema check, expression parsing."""
from __future__ import annotations

import datetime as _dt
import difflib
import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from ._yaml import Locator, load_yaml
from .diagnostics import Diagnostic, Span
from .labels import check_labels
from .limits import LIMITS
from .trees import outside_tree, split_outside
from .model import ExceptionDecl, Expr, Template, InputDecl, OutcomeDecl, ParamDecl, Policy, RuleDecl, SharedInputs
from .parser import ParseFailure, parse_expression
from .values import number_problem
from .units import PLAIN_UNITS, unit_problem
from .typesys import BOOL, DATE, ERROR, NUMBER, SCALARS, STRING, ListT, Nullable, RecordT, Type

__all__ = ["parse_iso_date", "discover", "read_source", "decode_text", "load_files", "schema_check", "INPUTS_FILE", "MAX_FILE_BYTES",
           "to_decimal"]

INPUTS_FILE = "inputs.yaml"
INPUTS_FILES = ("inputs.yaml", "inputs.yml")
MAX_FILE_BYTES = LIMITS.file_bytes
_YAML_SUFFIXES = (".yaml", ".yml")


def _is_policy_candidate(p: Path) -> bool:
    return p.suffix in _YAML_SUFFIXES and not p.name.endswith((".test.yaml", ".test.yml")) and not p.name.startswith(".")


def _walk(top: Path) -> Iterable[str]:
    """Policy files under a directory; hidden directories (.git, .venv) are skipped, unreadable ones too."""
    for dirpath, dirnames, filenames in os.walk(top, onerror=lambda e: None):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in ("__pycache__", "node_modules")]
        for name in filenames:
            f = Path(dirpath) / name
            if _is_policy_candidate(f):
                yield str(f)


def discover(paths: Iterable[str], follow_outside: bool = False) -> tuple[list[str], list[Diagnostic], set[str]]:
    """Expand files and directories (recursively) into the policy files to load, in a stable order.

    A policy file named on its own brings the `inputs.yaml` beside it. A file found in a directory
    that is a symbolic link to somewhere outside that directory is refused (`outside-tree`) unless
    `follow_outside`.
    """
    files: list[str] = []
    implied: list[str] = []
    diags: list[Diagnostic] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found, outside = sorted(_walk(p)), []
            if not follow_outside:
                found, outside = split_outside(found, [raw])
                diags += [outside_tree(f, raw) for f in outside]
            if not found and not outside:
                diags.append(Diagnostic("no-policies", f"no policy files (*.yaml) found in `{raw}`", Span.point(raw, 1, 1)))
            files.extend(found)
        elif p.exists():
            files.append(str(p))
            for name in INPUTS_FILES:
                beside = p.parent / name
                if p.name not in INPUTS_FILES and beside.is_file():
                    implied.append(str(beside))
        else:
            diags.append(Diagnostic("file-not-found", f"`{raw}` does not exist", Span.point(raw, 1, 1)))
    seen: set[str] = set()
    unique = [f for f in files if not (f in seen or seen.add(f))]
    listed = {os.path.realpath(f) for f in unique}
    extra = [f for f in dict.fromkeys(implied) if os.path.realpath(f) not in listed]
    return unique + extra, diags, set(extra)


def read_source(path: str) -> tuple[str | None, list[Diagnostic]]:
    """Read a UTF-8 text file, or say plainly why not."""
    where = Span.point(path, 1, 1)
    try:
        if os.path.isdir(path):
            return None, [Diagnostic("not-a-file", f"`{path}` is a directory, not a file", where)]
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            return None, [Diagnostic("file-too-large", f"file is {size} bytes; the limit is {MAX_FILE_BYTES}", where)]
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        return None, [Diagnostic("unreadable", f"cannot read `{path}`: {e.strerror or 'error'}".lower(), where)]
    return decode_text(data, path)


def decode_text(data: bytes, path: str) -> tuple[str | None, list[Diagnostic]]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        return None, [Diagnostic("not-utf8", "file is not valid UTF-8 text", Span.point(path, line, col))]
    if "\x00" in text:
        return None, [Diagnostic("not-text", "file contains NUL characters; it is not a text file", Span.point(path, 1, 1))]
    return text, []


# ---------------------------------------------------------------- schema

_schema_cache: dict[str, Any] = {}
_SCHEMA_FILES = ("policy.schema.json", "inputs.schema.json", "test.schema.json")


def _schema_docs() -> dict[str, Any]:
    docs = _schema_cache.get("docs")
    if docs is None:
        docs = {name: json.loads(_schema_text(name)) for name in _SCHEMA_FILES}
        _schema_cache["docs"] = docs
    return docs


def _schemas():
    """The referencing registry of our schemas and the schemas themselves (imports jsonschema's machinery)."""
    if "registry" not in _schema_cache:
        from referencing import Registry, Resource
        docs = _schema_docs()
        _schema_cache["registry"] = Registry().with_resources(
            (doc.get("$id", name), Resource.from_contents(doc)) for name, doc in docs.items()
        )
    return _schema_cache["registry"], _schema_docs()


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


def _is_number(checker, x) -> bool:
    return isinstance(x, (int, Decimal)) and not isinstance(x, bool)


def _is_integer(checker, x) -> bool:
    return (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, Decimal) and x == x.to_integral_value())


def _validator_class():
    """Draft 2020-12 with our numbers (int or Decimal, never bool); jsonschema is imported only when needed."""
    cls = _schema_cache.get("class")
    if cls is None:
        import jsonschema.validators
        from jsonschema import Draft202012Validator
        checker = Draft202012Validator.TYPE_CHECKER.redefine_many({"number": _is_number, "integer": _is_integer})
        cls = _schema_cache["class"] = jsonschema.validators.extend(Draft202012Validator, type_checker=checker)
    return cls


def _dates_as_text(v: Any) -> Any:
    """The document as the schema sees it: a YAML date is the text YYYY-MM-DD."""
    if isinstance(v, dict):
        return {k: _dates_as_text(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_dates_as_text(x) for x in v]
    if isinstance(v, _dt.date):
        return v.isoformat()
    return v


def _validator(name: str):
    key = "validator:" + name
    if key not in _schema_cache:
        registry, docs = _schemas()
        _schema_cache[key] = _validator_class()(docs[name], registry=registry)
    return _schema_cache[key]


class _Unsure(Exception):
    """The quick check cannot vouch for its answer: jsonschema decides."""


class _QuickCheck:
    """Whether a document is valid against one of our schemas, decided exactly as jsonschema would, without it.

    Only the keywords our schemas use are understood, with jsonschema's
    semantics (Draft 2020-12, our type checker, no format checker: `format`
    is an annotation). Anything else (another keyword, a `$schema` or `$id`
    below the root, a reference it cannot follow, a deep document) raises
    _Unsure. When the document is not valid, or the check is unsure,
    jsonschema itself runs and gives the errors, so the diagnostics are
    always jsonschema's; this only spares importing and running it for
    documents without errors.
    """

    MAX_DEPTH = 16  # deeper documents go to jsonschema (its recursion limits decide, as they always did)
    MAX_CALLS = 400  # nested schema applications, against reference cycles
    _IGNORED = frozenset({"title", "description", "$comment", "$defs", "default", "examples", "format",
                          "then", "else", "deprecated", "readOnly", "writeOnly"})

    def __init__(self, docs: dict[str, Any]):
        self.by_uri = {}
        for name, doc in docs.items():
            if not isinstance(doc, dict) or not isinstance(doc.get("$id"), str):
                raise _Unsure
            self.by_uri[doc["$id"]] = doc

    def is_valid(self, root: dict, instance: Any) -> bool:
        return self.valid(root, instance, root["$id"], 0, 0, True)

    def resolve(self, ref: Any, base: str) -> tuple[Any, str]:
        if not isinstance(ref, str):
            raise _Unsure
        target, _, fragment = ref.partition("#")
        if target:
            if any(c in target for c in "/:%?\\") or target in (".", ".."):
                raise _Unsure
            uri = base.rsplit("/", 1)[0] + "/" + target
        else:
            uri = base
        node = self.by_uri.get(uri)
        if node is None or not fragment.startswith("/"):
            raise _Unsure  # the whole document, an anchor, or elsewhere
        for part in fragment[1:].split("/"):
            if "~" in part or "%" in part or not isinstance(node, dict) or part not in node:
                raise _Unsure
            node = node[part]
            if isinstance(node, dict) and ("$id" in node or "$schema" in node):
                raise _Unsure
        return node, uri

    @staticmethod
    def is_type(x: Any, t: Any) -> bool:
        if t == "string":
            return isinstance(x, str)
        if t == "object":
            return isinstance(x, dict)
        if t == "array":
            return isinstance(x, list)
        if t == "boolean":
            return isinstance(x, bool)
        if t == "null":
            return x is None
        if t == "number":
            return _is_number(None, x)
        if t == "integer":
            return _is_integer(None, x)
        raise _Unsure

    @staticmethod
    def unique(items: list) -> bool:
        if all(isinstance(x, str) for x in items):
            return len(set(items)) == len(items)
        if all(_is_number(None, x) and (not isinstance(x, Decimal) or x.is_finite()) for x in items):
            return len(set(items)) == len(items)
        raise _Unsure

    def valid(self, schema: Any, x: Any, base: str, depth: int, calls: int, root: bool = False) -> bool:
        if schema is True:
            return True
        if schema is False:
            return False
        if not isinstance(schema, dict) or depth > self.MAX_DEPTH or calls > self.MAX_CALLS:
            raise _Unsure
        calls += 1
        valid = self.valid
        for k, v in schema.items():
            if k in self._IGNORED:
                continue
            if k == "type":
                if not any(self.is_type(x, t) for t in ([v] if isinstance(v, str) else v)):
                    return False
            elif k == "$ref":
                target, uri = self.resolve(v, base)
                if not valid(target, x, uri, depth, calls):
                    return False
            elif k == "properties":
                if isinstance(x, dict):
                    for name, sub in v.items():
                        if name in x and not valid(sub, x[name], base, depth + 1, calls):
                            return False
            elif k == "additionalProperties":
                if isinstance(x, dict):
                    if "patternProperties" in schema:
                        raise _Unsure
                    known = schema.get("properties", {})
                    extras = [name for name in x if name not in known]
                    if isinstance(v, dict):
                        for name in extras:
                            if not valid(v, x[name], base, depth + 1, calls):
                                return False
                    elif not v and extras:
                        return False
            elif k == "propertyNames":
                if isinstance(x, dict):
                    for name in x:
                        if not valid(v, name, base, depth + 1, calls):
                            return False
            elif k == "required":
                if isinstance(x, dict) and any(name not in x for name in v):
                    return False
            elif k == "pattern":
                if isinstance(x, str) and not re.search(v, x):
                    return False
            elif k == "minLength":
                if isinstance(x, str) and len(x) < v:
                    return False
            elif k == "minItems":
                if isinstance(x, list) and len(x) < v:
                    return False
            elif k == "minProperties":
                if isinstance(x, dict) and len(x) < v:
                    return False
            elif k == "uniqueItems":
                if v and isinstance(x, list) and not self.unique(x):
                    return False
            elif k == "enum":
                if not all(isinstance(e, str) for e in v):
                    raise _Unsure
                if not (isinstance(x, str) and x in v):
                    return False
            elif k == "const":
                if not isinstance(v, str):
                    raise _Unsure
                if not (isinstance(x, str) and x == v):
                    return False
            elif k == "items":
                if isinstance(x, list):
                    if "prefixItems" in schema or not isinstance(v, dict):
                        raise _Unsure
                    for item in x:
                        if not valid(v, item, base, depth + 1, calls):
                            return False
            elif k == "allOf":
                for sub in v:
                    if not valid(sub, x, base, depth, calls):
                        return False
            elif k == "anyOf":
                if not any(valid(sub, x, base, depth, calls) for sub in v):
                    return False
            elif k == "oneOf":
                if sum(1 for sub in v if valid(sub, x, base, depth, calls)) != 1:
                    return False
            elif k == "not":
                if valid(v, x, base, depth, calls):
                    return False
            elif k == "if":
                if valid(v, x, base, depth, calls):
                    if "then" in schema and not valid(schema["then"], x, base, depth, calls):
                        return False
                elif "else" in schema and not valid(schema["else"], x, base, depth, calls):
                    return False
            elif k == "dependentRequired":
                if isinstance(x, dict):
                    for name, needed in v.items():
                        if name in x and any(n not in x for n in needed):
                            return False
            elif k == "dependentSchemas":
                if isinstance(x, dict):
                    for name, sub in v.items():
                        if name in x and not valid(sub, x, base, depth, calls):
                            return False
            elif k in ("$schema", "$id") and root:
                continue
            else:
                raise _Unsure
        return True


def _quickly_valid(schema: str, instance: Any) -> bool:
    """True only when the document certainly has no schema errors (see _QuickCheck); False means: ask jsonschema."""
    try:
        check = _schema_cache.get("quick")
        if check is None:
            check = _schema_cache["quick"] = _QuickCheck(_schema_docs())
        return check.is_valid(_schema_docs()[schema], instance)
    except Exception:  # _Unsure, RecursionError, or anything unforeseen: jsonschema decides
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
    if err.context:
        deepest = max(err.context, key=lambda e: (len(e.absolute_path), e.validator not in ("type", "oneOf", "anyOf", "not")))
        if len(deepest.absolute_path) > len(path) or v == "oneOf":
            inner = _schema_error_to_diag(deepest, loc, file)
            if v == "oneOf" and not err.context:
                return inner
            if len(deepest.absolute_path) > len(path):
                return inner
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


# ---------------------------------------------------------------- model building

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_iso_date(text: str) -> _dt.date | None:
    """A date written exactly YYYY-MM-DD that exists, else None."""
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        return None


def to_decimal(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, list):
        return [to_decimal(x) for x in v]
    return v


def type_of_value(v: Any) -> Type | None:
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, (int, Decimal)):
        return NUMBER
    if isinstance(v, _dt.date):
        return DATE
    if isinstance(v, str):
        return STRING
    if isinstance(v, list):
        items = {type_of_value(x) for x in v}
        if len(items) == 1:
            return ListT(items.pop())
        return None
    return None


def typespec_to_type(spec: Any) -> Type:
    if isinstance(spec, str):
        return SCALARS[spec]
    if "type" in spec:
        kind = spec["type"]
        if kind == "list":
            t: Type = ListT(typespec_to_type(spec["items"]))
        elif kind == "record":
            t = RecordT(tuple((n, typespec_to_type(s)) for n, s in spec["fields"].items()))
        else:
            t = SCALARS[kind]
        return Nullable(t) if spec.get("nullable") else t
    return RecordT(tuple((n, typespec_to_type(s)) for n, s in spec.items()))


def _text(v: Any) -> str | None:
    return None if v is None else str(v)


class _Builder:
    def __init__(self, file: str, loc: Locator):
        self.file = file
        self.loc = loc
        self.diags: list[Diagnostic] = []

    def span(self, *path) -> Span:
        return self.loc.nearest_span(tuple(path))

    def expr(self, value: Any, *path) -> Expr:
        path = tuple(path)
        span = self.span(*path)
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif value is None:
            text = "null"
        elif isinstance(value, _dt.date):
            text = value.isoformat()
        elif isinstance(value, Decimal):
            text = format(value, "f")  # a bare number: never exponent notation
        else:
            text = str(value)
        mapper = self.loc.offset_mapper(path) if isinstance(value, str) else (lambda off: (span.line, span.column))
        try:
            node = parse_expression(text, self.file, mapper)
        except ParseFailure as e:
            self.diags.append(e.diagnostic)
            node = None
        return Expr(text, span, node)

    def date(self, value: Any, *path) -> _dt.date | None:
        """A date written plainly or in quotes (YYYY-MM-DD); None, with a diagnostic, for anything else."""
        if value is None or isinstance(value, _dt.date):
            return value
        parsed = parse_iso_date(str(value))
        if parsed is None:
            self.diags.append(Diagnostic("invalid-date", f"`{path[-1]}` must be a date that exists, written YYYY-MM-DD, "
                                         f"not `{value}`", self.span(*path)))
        return parsed

    def template(self, text: str, *path) -> Template:
        """Split `text {expr} text` into segments and placeholders parsed at their exact positions."""
        path = tuple(path)
        span = self.span(*path)
        mapper = self.loc.offset_mapper(path)
        parts: list = []
        i = 0
        while i < len(text):
            start = text.find("{", i)
            if start < 0:
                parts.append(text[i:])
                break
            end = text.find("}", start)
            if end < 0:
                line, col = mapper(start)
                self.diags.append(Diagnostic("template", "`{` is never closed by `}`", Span.point(self.file, line, col)))
                break
            if start > i:
                parts.append(text[i:start])
            inner = text[start + 1:end]
            try:
                node = parse_expression(inner, self.file, lambda off, base=start + 1: mapper(base + off))
                line, col = mapper(start + 1)
                parts.append(Expr(inner, Span(self.file, line, col, line, col + len(inner)), node))
            except ParseFailure as e:
                self.diags.append(e.diagnostic)
            i = end + 1
        return Template(text, span, parts)

    def inputs(self, decls: dict, owner: str | None, base: tuple) -> dict[str, InputDecl]:
        out = {}
        for name, spec in (decls or {}).items():
            d = spec if isinstance(spec, dict) else {}
            out[name] = InputDecl(
                name=name, type=typespec_to_type(spec), spec=spec,
                span=self.loc.key_span(base + (name,)) or self.span(*base, name),
                label=_text(d.get("label")) if "type" in d else None,
                question=_text(d.get("question")) if "type" in d else None, owner=owner,
            )
        return out

    def param(self, name: str, d: dict) -> ParamDecl:
        path = ("parameters", name)
        span = self.loc.key_span(path) or self.span(*path)
        declared = SCALARS.get(d.get("type")) if d.get("type") else None
        p = ParamDecl(name=name, kind="value", type=ERROR, span=span, label=_text(d.get("label")),
                      unit=None if d.get("unit") in PLAIN_UNITS else _text(d.get("unit")), measure=_text(d.get("unit")),
                      source=_text(d.get("source")), note=_text(d.get("note")),
                      allowed=to_decimal(d["allowed"]) if "allowed" in d else None)
        if "value" in d:
            p.kind, p.value = "value", to_decimal(d["value"])
            values = [d["value"]]
        elif "by_year" in d:
            p.kind = "by_year"
            p.by_year = {int(k): to_decimal(v) for k, v in d["by_year"].items()}
            values = [v for v in d["by_year"].values() if v is not None]
        else:
            p.kind = "steps"
            starts = [self.date(s["from"], *path, "steps", i, "from") for i, s in enumerate(d["steps"])]
            p.steps = sorted(((start, to_decimal(s["value"])) for start, s in zip(starts, d["steps"]) if start),
                             key=lambda x: x[0])
            values = [s["value"] for s in d["steps"]]
        for v in values if d.get("type") != "string" else []:
            if isinstance(v, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?%", v.strip()):
                self.diags.append(Diagnostic("parameter-value", f"parameter `{name}` is the text `{v}`, not a number",
                                             span, help=f"parameter values are data, not expressions: write {v} as "
                                             f"{Decimal(v.strip()[:-1]).scaleb(-2)}"))
        p.range = tuple(to_decimal(b) for b in d["range"]) if "range" in d else None
        placed = ([(("value",), d["value"])] if "value" in d else
                  [(("by_year", k), v) for k, v in d["by_year"].items()] if "by_year" in d else
                  [(("steps", i, "value"), s["value"]) for i, s in enumerate(d["steps"])])
        for where, v in placed:
            problem = next(filter(None, (unit_problem(name, p.measure, p.range, to_decimal(x))
                                         for x in (v if isinstance(v, list) else [v]))), None)
            if problem:
                self.diags.append(Diagnostic("parameter-unit", problem[0], self.loc.nearest_span(path + where),
                                             help=problem[1]))
        if p.allowed is not None:
            for v in values:
                if to_decimal(v) not in p.allowed:
                    self.diags.append(Diagnostic("parameter-value", f"parameter `{name}` is `{v}`, not one of: "
                                                 + ", ".join(str(a) for a in p.allowed), span))
        for v in values:
            for x in (v if isinstance(v, list) else [v]):
                if isinstance(x, (int, Decimal)) and not isinstance(x, bool):
                    problem = number_problem(Decimal(x))
                    if problem:
                        self.diags.append(Diagnostic("invalid-number", f"a value of parameter `{name}` {problem}", span))
                        p.type = NUMBER
                        return p
        inferred = {type_of_value(v) for v in values}
        if None in inferred or len(inferred) > 1:
            self.diags.append(Diagnostic("parameter-type", f"the values of parameter `{name}` do not share one type",
                                         span, help="use values of one type: numbers, strings, dates or true/false"))
            p.type = ERROR
        elif declared is not None:
            t = inferred.pop() if inferred else declared
            if t != declared and not (declared == NUMBER and t == NUMBER):
                self.diags.append(Diagnostic("parameter-type", f"parameter `{name}` is declared {d['type']} but holds {t}", span))
            p.type = declared
            if d.get("type") == "integer":
                for v in values:
                    if isinstance(v, Decimal) and v != v.to_integral_value():
                        self.diags.append(Diagnostic("parameter-type", f"parameter `{name}` is declared integer but holds {v}", span))
                        break
        elif inferred:
            p.type = inferred.pop()
        else:
            self.diags.append(Diagnostic("parameter-type", f"parameter `{name}` has no values to show its type",
                                         span, help="declare it, e.g. `type: number`"))
        return p

    def exception(self, d: dict, policy_id: str, path: tuple) -> ExceptionDecl:
        return ExceptionDecl(when=self.expr(d["when"], *path, "when"), value=self.expr(d["value"], *path, "value"),
                             label=_text(d.get("label")), cite=_text(d.get("cite")), policy_id=policy_id,
                             span=self.span(*path))

    def policy(self, doc: dict) -> Policy:
        pid = doc["id"]
        in_force = doc.get("in_force") or {}
        pol = Policy(id=pid, title=str(doc["title"]), file=self.file, span=self.span("id"),
                     source=dict(doc.get("source") or {}),
                     in_force_from=self.date(in_force.get("from"), "in_force", "from"),
                     in_force_until=self.date(in_force.get("until"), "in_force", "until"))
        for alias, target in (doc.get("uses") or {}).items():
            pol.uses[alias] = (target, self.span("uses", alias), self.loc.key_span(("uses", alias)) or self.span("uses", alias))
        pol.inputs = self.inputs(doc.get("inputs"), pid, ("inputs",))
        for name, d in (doc.get("parameters") or {}).items():
            pol.params[name] = self.param(name, d)
        for name, d in (doc.get("rules") or {}).items():
            path = ("rules", name)
            r = RuleDecl(name=name, label=str(d["label"]), cite=_text(d.get("cite")),
                         span=self.loc.key_span(path) or self.span(*path), note=_text(d.get("note")))
            r.nullable = bool(d.get("nullable", False))
            if "each" in d:
                r.each = self.template(str(d["each"]), *path, "each")
            if "expr" in d:
                r.expr = self.expr(d["expr"], *path, "expr")
            else:
                r.base = self.expr(d["value"], *path, "value")
                r.exceptions = [self.exception(e, pid, path + ("exceptions", i))
                                for i, e in enumerate(d.get("exceptions") or [])]
            pol.rules[name] = r
        for name, d in (doc.get("outcomes") or {}).items():
            path = ("outcomes", name)
            pol.outcomes[name] = OutcomeDecl(
                name=name, label=str(d["label"]), cite=_text(d.get("cite")),
                span=self.loc.key_span(path) or self.span(*path), note=_text(d.get("note")),
                when=self.expr(d["when"], *path, "when"),
                values={k: self.expr(v, *path, "values", k) for k, v in (d.get("values") or {}).items()},
            )
        for target, excs in (doc.get("amendments") or {}).items():
            path = ("amendments", target)
            pol.amendments[target] = (self.loc.key_span(path) or self.span(*path),
                                      [self.exception(e, pid, path + (i,)) for i, e in enumerate(excs)])
        return pol


MAX_NESTING = 64


def nesting_problem(doc: Any, loc: Locator | None, file: str) -> Diagnostic | None:
    """A document nested deeper than MAX_NESTING (lists and mappings), found without recursion."""
    stack = [(doc, ())]
    while stack:
        v, path = stack.pop()
        if len(path) > MAX_NESTING:
            where = loc.nearest_span(path) if loc is not None else Span.point(file, 1, 1)
            return Diagnostic("yaml-too-deep", f"the document is nested more than {MAX_NESTING} levels deep", where)
        if isinstance(v, dict):
            stack.extend((x, path + (k,)) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((x, path + (i,)) for i, x in enumerate(v))
    return None


def _with_yaml_help(d: Diagnostic, text: str) -> Diagnostic:
    """Advice for YAML's own messages, chosen by looking at the line that the message points to."""
    if d.code != "yaml-syntax" or d.help is not None or d.span is None:
        return d
    lines = text.splitlines()
    line = lines[d.span.line - 1] if 0 < d.span.line <= len(lines) else ""
    before = line[: d.span.column - 1]

    def helped(help: str) -> Diagnostic:
        return Diagnostic(d.code, d.message, d.span, d.severity, help)

    if "\t" in line[: len(line) - len(line.lstrip())] or "'\\t'" in d.message:
        return helped("indent with spaces: YAML does not allow tabs for indentation")
    if "mapping values are not allowed" in d.message:
        if re.fullmatch(r"\s*[A-Za-z_][A-Za-z0-9_]*", before):  # `key:` alone: a key indented too far
            return helped(f"`{before.strip()}:` is indented more than the key above it; "
                          "keys of one mapping line up in the same column")
        return helped("a value containing `: ` (such as `all(x in xs: ...)`) must be quoted "
                      "or written as a block scalar: `key: >-` with the text on the next lines")
    if "but found '<scalar>'" in d.message or "but found '<block mapping start>'" in d.message:
        if re.match(r"""\s*(- )?([^:#'"]*:\s+)?['"]""", before):  # `when: "retired" == status`
            return helped("a value that starts with a quote ends at the closing quote; to begin an expression "
                          "with a string, quote the whole value: `when: '\"retired\" == status'`")
        return helped("this line is indented differently from the lines above it: "
                      "keys of one mapping line up in the same column, and a key's contents are indented under it")
    return d


def load_file(path: str, text: str | None = None) -> tuple[Policy | SharedInputs | None, list[Diagnostic]]:
    """Load one policy file (or a set's inputs.yaml) into the model, with its diagnostics."""
    if text is None:
        text, diags = read_source(path)
        if text is None:
            return None, diags
    doc, loc, diags = load_yaml(text, path)
    diags = [_with_yaml_help(d, text) for d in diags]
    if any(d.is_error for d in diags):
        return None, diags
    too_deep = nesting_problem(doc, loc, path)
    if too_deep:
        return None, [too_deep]
    if doc is None:
        return None, [Diagnostic("empty-file", "file is empty; a policy needs at least `id` and `title`", Span.point(path, 1, 1))]
    is_inputs = Path(path).name in INPUTS_FILES
    diags += schema_check(doc, loc, path, "inputs.schema.json" if is_inputs else "policy.schema.json")
    if any(d.is_error for d in diags):
        return None, diags
    b = _Builder(path, loc)
    if is_inputs:
        result: Policy | SharedInputs = SharedInputs(path, b.inputs(doc.get("inputs"), None, ("inputs",)))
    else:
        result = b.policy(doc)
        diags += check_labels(result, doc, loc, path)
    return result, diags + b.diags


def load_files(files: list[str], implied: set[str] = frozenset()) -> tuple[list[Policy], list[SharedInputs], list[Diagnostic]]:
    policies, shared, diags = [], [], []
    for f in files:
        item, ds = load_file(f)
        diags += ds
        if isinstance(item, Policy):
            policies.append(item)
        elif isinstance(item, SharedInputs):
            item.implied = f in implied
            shared.append(item)
    return policies, shared, diags
