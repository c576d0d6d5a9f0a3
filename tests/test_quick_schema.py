"""The quick schema check (interpreter/_quick_schema.py) never calls a document valid that jsonschema rejects.

schema_check first asks _quickly_valid whether a document certainly has no schema errors; only when it is
not certain (unsure, or the document is invalid) does jsonschema run and give the diagnostics. So:

(a) on every shipped policy, inputs and test file (policies/, tests/cases), the quick answer is exactly
    jsonschema's: a valid file is quickly valid (else jsonschema is imported on every cold start again),
    an invalid one is not;
(b) on documents mutated from them (a fixed seeded corpus, and hypothesis), whenever the quick check says
    valid, jsonschema finds no error; it may be unsure, but never wrong;
(c) schema_check gives the same diagnostics with and without the quick check;
(d) each keyword the quick check understands, at its edges, and small generated schemas using them: each
    answer it is sure of is jsonschema's (with the loader's type checker: numbers are int or Decimal, never
    bool); what it does not understand makes it unsure.
"""
from __future__ import annotations

import copy
import datetime
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interpreter import _quick_schema as Q
from interpreter import schemacheck as S
from interpreter.discovery import INPUTS_FILES
from interpreter._yaml import load_yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "schema"


def schema_for(path: Path) -> str:
    if path.name.endswith((".test.yaml", ".test.yml")):
        return "test.schema.json"
    if path.name in INPUTS_FILES:
        return "inputs.schema.json"
    return "policy.schema.json"


def _shipped():
    out = []
    # policies/ and tests/cases (not bad-facts: facts files are not checked against these schemas)
    for path in sorted(p for d in ("policies", "tests/cases/good", "tests/cases/bad") for p in (ROOT / d).rglob("*")
                       if p.suffix in (".yaml", ".yml")):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        doc, loc, diags = load_yaml(text, str(path))
        if isinstance(doc, dict) and not any(d.is_error for d in diags):
            out.append((schema_for(path), str(path.relative_to(ROOT)), doc, loc))
    return out


SHIPPED = _shipped()


def answers(schema: str, doc) -> tuple[bool, list]:
    """The quick check's answer (True: certainly valid) and jsonschema's errors, for a loaded document."""
    instance = S._dates_as_text(doc)
    return S._quickly_valid(schema, instance), list(S._validator(schema).iter_errors(instance))


def describe(errors) -> str:
    return "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:3])


# ------------------------------------------------------------------ the schemas' own words, for mutations

def _vocabulary():
    names, words = set(), set()
    for name in S._SCHEMA_FILES:
        stack = [json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))]
        while stack:
            x = stack.pop()
            if isinstance(x, dict):
                for k, v in x.items():
                    if k in ("properties", "required"):
                        names.update(v)
                    elif k == "dependentRequired":
                        names.update(v)
                        for needed in v.values():
                            names.update(needed)
                    elif k == "enum":
                        words.update(str(e) for e in v)
                    elif k == "const":
                        words.add(str(v))
                    stack.append(v)
            elif isinstance(x, list):
                stack.extend(x)
    return sorted(names), sorted(words)


NAMES, WORDS = _vocabulary()
ATOMS = [
    "", "x", "a.b", "Ab_1", "1a", "a-b", "x y", "2020-01-01", "2020-1-1", "2020", "20200", 1, 0, -3, 2020,
    Decimal("1.5"), Decimal("2"), Decimal("2.0"), Decimal("-0"), True, False, None, datetime.date(2020, 1, 1),
    [], {}, ["a"], ["a", "a"], [1, 1], [1, Decimal("1.0")], [True, 1], [None], {"type": "list"},
    {"type": "record", "fields": {}}, {"type": "list", "items": "number"}, {"a": "number"}, {"a": {"b": "date"}},
    {"type": "string", "values": ["a", "b"]}, {"type": "number", "nullable": True}, {"value": 1},
    {"by_year": {"2020": 1}}, {"steps": [{"from": "2020-01-01", "value": 1}]},
    {"label": "L", "when": "a"}, {"label": "L", "expr": "a"}, {"label": "L", "value": "a", "exceptions": []},
    {"when": "x", "value": 1}, {"name": "c", "facts": {}, "expect": {}},
] + NAMES + WORDS


def paths(v, p=()):
    yield p
    if isinstance(v, dict):
        for k, x in v.items():
            yield from paths(x, p + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from paths(x, p + (i,))


def get(v, p):
    for e in p:
        v = v[e]
    return v


def mutate(doc, choose, count: int):
    """count mutations of a copy of doc: choose(options) picks one (random, or drawn by hypothesis)."""
    doc = copy.deepcopy(doc)
    for _ in range(count):
        ps = list(paths(doc))[1:]
        if not ps:
            break
        p = choose(ps)
        parent, key = get(doc, p[:-1]), p[-1]
        kind = choose(["replace", "replace", "delete", "add", "append", "copy", "string", "wrap", "empty"])
        atom = copy.deepcopy(choose(ATOMS))
        if kind == "replace":
            parent[key] = atom
        elif kind == "delete":
            del parent[key]
        elif kind == "add" and isinstance(parent, dict):
            parent[choose(NAMES + ["x", "_y", "A"])] = atom
        elif kind == "append" and isinstance(parent, list):
            parent.append(atom)
        elif kind == "copy":
            parent[key] = copy.deepcopy(get(doc, choose(ps)))
        elif kind == "string" and isinstance(parent[key], str):
            s = parent[key]
            parent[key] = choose([s.upper(), s + " ", "-" + s, s[:-1], "", s + ".x", "9" + s, s.replace("-", "/")])
        elif kind == "empty":  # an empty value of the same kind: "", [], {}
            parent[key] = type(parent[key])() if isinstance(parent[key], (str, list, dict)) else atom
        elif kind == "wrap":
            parent[key] = choose([[parent[key]], {"x": parent[key]}, {"value": parent[key]}])
        else:
            parent[key] = atom
    return doc


def seeded_mutants(n: int, seed: int):
    rnd = random.Random(seed)
    for _ in range(n):
        schema, where, doc, loc = rnd.choice(SHIPPED)
        yield schema, where, mutate(doc, rnd.choice, rnd.randint(1, 3)), loc


# ------------------------------------------------------------------ (a) shipped documents

def test_the_corpus_is_there():
    kinds = {s for s, *_ in SHIPPED}
    assert kinds == {"policy.schema.json", "inputs.schema.json", "test.schema.json"}
    assert len(SHIPPED) > 120


@pytest.mark.parametrize("schema, where, doc, loc", SHIPPED, ids=[w for _, w, _, _ in SHIPPED])
def test_shipped_documents_quick_answer_is_jsonschemas(schema, where, doc, loc):
    quick, errors = answers(schema, doc)
    if errors:
        assert not quick, f"quickly valid, but jsonschema finds: {describe(errors)}"
    else:
        assert quick, "valid, but the quick check is unsure: jsonschema would be imported for this file"


def test_shipped_documents_are_mostly_valid():
    valid = sum(1 for schema, _, doc, _ in SHIPPED if answers(schema, doc)[0])
    assert valid > 80, valid


# ------------------------------------------------------------------ (b) mutated documents

def test_mutated_documents_seeded():
    counts = {"quick valid": 0, "invalid": 0, "valid, unsure": 0}
    for schema, where, doc, _ in seeded_mutants(1500, seed=1):
        quick, errors = answers(schema, doc)
        assert not (quick and errors), f"{where} mutated: quickly valid, but jsonschema finds {describe(errors)}\n{doc}"
        counts["quick valid" if quick else "invalid" if errors else "valid, unsure"] += 1
    # both answers are well represented, so the comparison means something
    assert counts["quick valid"] > 120 and counts["invalid"] > 600, counts


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_documents_hypothesis(data):
    schema, _where, doc, _ = data.draw(st.sampled_from(SHIPPED), label="shipped")
    mutant = mutate(doc, lambda options: data.draw(st.sampled_from(options)), data.draw(st.integers(1, 4)))
    quick, errors = answers(schema, mutant)
    assert not (quick and errors), f"quickly valid, but jsonschema finds {describe(errors)}"


# ------------------------------------------------------------------ (c) schema_check end to end

def test_schema_check_is_the_same_without_the_quick_check(monkeypatch):
    cases = [(s, w, d, loc) for s, w, d, loc in SHIPPED] + list(seeded_mutants(400, seed=2))
    quick_results = [S.schema_check(doc, loc, where, schema) for schema, where, doc, loc in cases]
    monkeypatch.setattr(S, "_quickly_valid", lambda schema, instance: False)
    assert [S.schema_check(doc, loc, where, schema) for schema, where, doc, loc in cases] == quick_results
    assert sum(1 for r in quick_results if r == []) > 120


# ------------------------------------------------------------------ (d) generated schemas, known keywords

@pytest.mark.parametrize("instance, valid", [
    (Decimal("2.0"), True), (Decimal("2.5"), False), (2, True), (True, False), ("2", False), (None, False),
])
def test_integer_is_the_loaders(instance, valid):
    check = Q.QuickCheck({"s": {"$id": "https://t.example/s.json", "type": "integer"}})
    assert check.is_valid(check.by_uri["https://t.example/s.json"], instance) is valid
    assert S._validator_class()({"type": "integer"}).is_valid(instance) is valid


KEYWORDS = [  # (schema, instance, valid): each keyword at its edges
    ({"type": "number"}, 1, True), ({"type": "number"}, Decimal("1.5"), True), ({"type": "number"}, True, False),
    ({"type": "number"}, "1", False), ({"type": ["string", "null"]}, None, True), ({"type": ["string", "null"]}, 0, False),
    ({"type": "boolean"}, 0, False), ({"type": "boolean"}, False, True), ({"type": "object"}, [], False),
    ({"type": "array"}, {}, False), ({"type": "null"}, None, True), ({"type": "string"}, "", True),
    ({"minLength": 1}, "", False), ({"minLength": 1}, "a", True), ({"minLength": 2}, "é", False), ({"minLength": 1}, 5, True),
    ({"minItems": 1}, [], False), ({"minItems": 1}, [None], True), ({"minItems": 2}, [1], False), ({"minItems": 1}, "", True),
    ({"minProperties": 1}, {}, False), ({"minProperties": 1}, {"a": 1}, True), ({"minProperties": 1}, [], True),
    ({"pattern": "b"}, "abc", True), ({"pattern": "^b"}, "abc", False), ({"pattern": "^[0-9]{4}$"}, "2020", True),
    ({"pattern": "^[0-9]{4}$"}, "2020\n", True), ({"pattern": "^[0-9]{4}$"}, 2020, True),
    ({"required": ["a"]}, {}, False), ({"required": ["a"]}, {"a": None}, True), ({"required": ["a"]}, "a", True),
    ({"properties": {"a": {"type": "string"}}}, {"a": 1}, False), ({"properties": {"a": False}}, {"b": 1}, True),
    ({"properties": {"a": True}, "additionalProperties": False}, {"a": 1}, True),
    ({"properties": {"a": True}, "additionalProperties": False}, {"a": 1, "b": 2}, False),
    ({"additionalProperties": {"type": "string"}}, {"a": "x", "b": 1}, False),
    ({"additionalProperties": {"type": "string"}}, {"a": "x"}, True),
    ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"ab": 1}, True), ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"A": 1}, False),
    ({"enum": ["a", "b"]}, "b", True), ({"enum": ["a", "b"]}, "c", False), ({"enum": ["1"]}, 1, False),
    ({"const": "a"}, "a", True), ({"const": "a"}, "b", False), ({"const": "a"}, ["a"], False),
    ({"items": {"type": "string"}}, ["a", 1], False), ({"items": {"type": "string"}}, [], True),
    ({"uniqueItems": False}, [1, 1], True),
    ({"allOf": [{"minLength": 1}, {"pattern": "a"}]}, "b", False), ({"allOf": [{"minLength": 1}, {"pattern": "a"}]}, "a", True),
    ({"anyOf": [{"type": "string"}, {"type": "null"}]}, 1, False), ({"anyOf": [{"type": "string"}, {"type": "null"}]}, None, True),
    ({"oneOf": [{"type": "string"}, {"minLength": 1}]}, "a", False), ({"oneOf": [{"type": "string"}, {"minLength": 1}]}, "", True),
    ({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, {}, False),
    ({"not": {"type": "string"}}, "a", False), ({"not": {"type": "string"}}, 1, True),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}}, {"a": 1}, False),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}}, {"c": 1}, True),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}, {}, False),
    ({"if": {"required": ["a"]}, "else": {"required": ["c"]}}, {"a": 1}, True),
    ({"then": {"required": ["b"]}}, {}, True), ({"else": {"required": ["b"]}}, {}, True),
    ({"dependentRequired": {"a": ["b"]}}, {"a": 1}, False), ({"dependentRequired": {"a": ["b"]}}, {"b": 1}, True),
    ({"dependentSchemas": {"a": {"required": ["b"]}}}, {"a": 1}, False),
    ({"dependentSchemas": {"a": {"required": ["b"]}}}, {"a": 1, "b": 2}, True),
    ({"$defs": {"n": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/n"}}}, {"x": 1}, False),
    ({"$defs": {"n": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/n"}}}, {"x": "a"}, True),
    ({"$defs": {"n": {"type": "string"}}, "$ref": "#/$defs/n", "minLength": 2}, "a", False),
    ({"format": "date", "title": "t", "description": "d", "default": 1}, "not a date", True),
    (True, 1, True), (False, 1, False), ({"properties": {"a": False}}, {"a": 1}, False),
]


@pytest.mark.parametrize("schema, instance, valid", KEYWORDS, ids=[f"{i}" for i in range(len(KEYWORDS))])
def test_each_keyword_as_jsonschema(schema, instance, valid):
    root = {"$id": "https://t.example/s.json", **schema} if isinstance(schema, dict) else {
        "$id": "https://t.example/s.json", "allOf": [schema]}
    assert S._validator_class()(root).is_valid(instance) is valid  # the table is right
    assert Q.QuickCheck({"s": root}).is_valid(root, instance) is valid


@pytest.mark.parametrize("items, valid", [
    (["a", "b"], True), (["a", "a"], False), ([1, Decimal("1.0")], False), ([0, Decimal("-0")], False),
    ([1, 2, Decimal("2.5")], True), ([], True),
])
def test_unique_items(items, valid):
    check = Q.QuickCheck({"s": {"$id": "https://t.example/s.json", "uniqueItems": True}})
    assert check.is_valid(check.by_uri["https://t.example/s.json"], items) is valid
    assert S._validator_class()({"uniqueItems": True}).is_valid(items) is valid


@pytest.mark.parametrize("schema, instance", [
    ({"uniqueItems": True}, [True, 1]),  # bool and number: jsonschema's own equality rules
    ({"uniqueItems": True}, [[1], [1]]),
    ({"maxLength": 2}, "abc"),  # a keyword our schemas do not use
    ({"patternProperties": {"^a": True}, "additionalProperties": False}, {"a": 1}),
    ({"items": False}, [1]),
    ({"enum": [1, "a"]}, 1),
    ({"const": 1}, 1),
    ({"properties": {"a": {"$id": "https://t.example/other.json"}}}, {"a": 1}),
    ({"$ref": "#nowhere"}, 1),
])
def test_unsure_about_what_it_does_not_know(schema, instance):
    check = Q.QuickCheck({"s": {"$id": "https://t.example/s.json", **schema}})
    with pytest.raises(Q.Unsure):
        check.is_valid(check.by_uri["https://t.example/s.json"], instance)


def test_deep_documents_are_left_to_jsonschema():
    """Nested deeper than _quick_schema.MAX_DEPTH, a document is left to jsonschema, valid or not."""
    def nested(levels: int, leaf: str) -> dict:
        spec = leaf
        for _ in range(levels):
            spec = {"type": "record", "fields": {"f": spec}}
        return {"id": "a.b", "title": "t", "inputs": {"x": spec}}

    assert answers("policy.schema.json", nested(3, "number")) == (True, [])
    quick, errors = answers("policy.schema.json", nested(20, "number"))
    assert not quick and not errors
    quick, errors = answers("policy.schema.json", nested(20, "numbr"))
    assert not quick and errors


NAMES_3 = ["a", "b", "c"]
STRINGS = ["", "a", "b", "ab", "A1", "2020-01-01", "x-y", "a.b"]
PATTERNS = ["^[a-z_][a-z0-9_]*$", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "b", "^$", "^[A-Za-z_][A-Za-z0-9_]*\\.[A-Za-z_]"]
TYPES = ["string", "number", "integer", "boolean", "null", "object", "array"]

instances = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2, 3), st.sampled_from(STRINGS),
              st.sampled_from([Decimal("1.5"), Decimal("2.0"), Decimal("-0"), Decimal("1E+1")])),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.sampled_from(NAMES_3), kids, max_size=3),
    max_leaves=8,
)
_simple = {
    "type": st.one_of(st.sampled_from(TYPES), st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True)),
    "minLength": st.integers(0, 2), "pattern": st.sampled_from(PATTERNS),
    "enum": st.lists(st.sampled_from(STRINGS), min_size=1, max_size=3), "const": st.sampled_from(STRINGS),
    "minItems": st.integers(0, 2), "minProperties": st.integers(0, 2), "uniqueItems": st.booleans(),
    "required": st.lists(st.sampled_from(NAMES_3), max_size=2, unique=True),
    "dependentRequired": st.dictionaries(st.sampled_from(NAMES_3), st.lists(st.sampled_from(NAMES_3), max_size=2,
                                                                            unique=True), max_size=2),
    "title": st.just("t"), "format": st.just("date"), "description": st.just("d"),
}


def _nested(sub):
    return st.fixed_dictionaries({}, optional={
        **_simple,
        "properties": st.dictionaries(st.sampled_from(NAMES_3), sub, max_size=2),
        "additionalProperties": sub, "propertyNames": sub,
        "items": st.fixed_dictionaries({}, optional=_simple) | sub.filter(lambda s: isinstance(s, dict)),
        "allOf": st.lists(sub, min_size=1, max_size=2), "anyOf": st.lists(sub, min_size=1, max_size=2),
        "oneOf": st.lists(sub, min_size=1, max_size=2), "not": sub,
        "if": sub, "then": sub, "else": sub,
        "dependentSchemas": st.dictionaries(st.sampled_from(NAMES_3), sub, max_size=2),
    })


schemas = st.recursive(st.booleans() | st.fixed_dictionaries({}, optional=_simple), _nested, max_leaves=6)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(schema=schemas, instance=instances)
def test_generated_schemas(schema, instance):
    root = {"$id": "https://t.example/s.json", "allOf": [schema]}
    try:
        quick = Q.QuickCheck({"s": root}).is_valid(root, instance)
    except Q.Unsure:
        return
    assert quick == S._validator_class()(root).is_valid(instance)
