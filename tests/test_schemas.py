"""The JSON Schemas in schema/: policy files, shared inputs files, eval results.

Documents are checked the way the interpreter checks them: after YAML
loading, with every mapping key a string, numbers as int or Decimal, and
dates as ``datetime.date`` or "YYYY-MM-DD" strings.
"""
from __future__ import annotations

import datetime
import json
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"
SCHEMA_FILES = ["policy.schema.json", "inputs.schema.json", "result.schema.json"]


def _load(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


SCHEMAS = {name: _load(name) for name in SCHEMA_FILES}

REGISTRY = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema)) for schema in SCHEMAS.values()
)

# "number" accepts Decimal (never bool); "string" accepts datetime.date, since a
# date is written as a YAML scalar.
TYPE_CHECKER = Draft202012Validator.TYPE_CHECKER.redefine_many(
    {
        "number": lambda c, x: isinstance(x, (int, Decimal)) and not isinstance(x, bool),
        "string": lambda c, x: isinstance(x, (str, datetime.date)),
    }
)


def _only_for_str(keyword):
    """jsonschema applies the string keywords to whatever the type checker calls
    a "string", so with dates counted as strings `pattern` and `minLength` would
    raise TypeError on a date. Apply them to real strings only: a date object
    then passes the date pattern, as it should."""
    check = Draft202012Validator.VALIDATORS[keyword]

    def keyword_for_str(validator, value, instance, schema):
        if isinstance(instance, str):
            yield from check(validator, value, instance, schema)

    return keyword_for_str


Validator = validators.extend(
    Draft202012Validator,
    validators={k: _only_for_str(k) for k in ("pattern", "minLength", "maxLength")},
    type_checker=TYPE_CHECKER,
)


def validator(name: str) -> Draft202012Validator:
    return Validator(SCHEMAS[name], registry=REGISTRY)


def normalise(node):
    """What the interpreter's loader does: string keys, Decimal for floats."""
    if isinstance(node, dict):
        return {str(k): normalise(v) for k, v in node.items()}
    if isinstance(node, list):
        return [normalise(v) for v in node]
    if isinstance(node, float):
        return Decimal(str(node))
    return node


def from_yaml(text: str):
    return normalise(yaml.safe_load(textwrap.dedent(text)))


def all_errors(errors):
    """Every error, including those nested in the context of oneOf/anyOf/if."""
    for error in errors:
        yield error
        yield from all_errors(error.context or ())


# ---------------------------------------------------------------------------
# The schemas themselves


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_is_valid(name):
    Draft202012Validator.check_schema(SCHEMAS[name])


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_def_has_a_title(name):
    defs = SCHEMAS[name].get("$defs", {})
    assert all("title" in d for d in defs.values()), [k for k, d in defs.items() if "title" not in d]


def _walk(node, path=()):
    """Yield (path, schema) for every subschema, skipping the pure constraints
    under if / dependentSchemas / oneOf, which only test documents."""
    if not isinstance(node, dict):
        return
    yield path, node
    for key, value in node.items():
        if key in ("if", "dependentSchemas", "oneOf", "not", "allOf"):
            continue
        if key in ("properties", "$defs"):
            for k, sub in value.items():
                yield from _walk(sub, path + (key, k))
        elif isinstance(value, dict):
            yield from _walk(value, path + (key,))


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_property_is_described_and_objects_are_closed(name):
    for path, schema in _walk(SCHEMAS[name]):
        for prop, sub in schema.get("properties", {}).items():
            assert "description" in sub, f"{'/'.join(path)}/properties/{prop} has no description"
        if schema.get("type") == "object" or "properties" in schema:
            closed = "additionalProperties" in schema or "unevaluatedProperties" in schema
            assert closed, f"{'/'.join(path)} is an open object"


# ---------------------------------------------------------------------------
# Policy files: good


GOOD_POLICIES = {
    "minimal": {"id": "minimal", "title": "Minimal"},
    "outcomes_only": {
        "id": "benefits.heating",
        "title": "Heating allowance",
        "outcomes": {"eligible": {"label": "Eligible", "when": True}},
    },
    "full": """
        id: pension.old_age
        title: Old-age pension
        note: A test policy.
        source:
          document: Pensions Act
          clause: 12
          text: "A person who has reached pension age ..."
          url: https://example.org/pensions-act
          note: consolidated version
        in_force:
          from: 2020-01-01
          until: 2030-12-31
          note: sunset clause
        uses:
          tax: tax.income
          cal: calendar-data.holidays
        inputs:
          birth_date: date
          resident: boolean
          employer:
            type: string
            label: Employer
            question: Who is your employer?
            note: as on the contract
            nullable: true
          status:
            type: string
            values: [single, married, widowed]
          salary:
            type: number
            unit: EUR
          history:
            type: list
            items: {year: integer, salary: number}
          address:
            type: record
            fields:
              street: string
              postcode: {type: string, label: Postcode}
          children:
            type: list
            label: Children
            items:
              type: record
              fields:
                birth_date: date
                disabled: {type: boolean, nullable: true}
        parameters:
          pension_age:
            label: Pension age
            unit: years
            type: integer
            value: 67
          rate:
            value: 0.015
            note: exact decimal
          codes:
            value: [A1, B2, 3]
          average_salary:
            unit: EUR
            by_year:
              2022: 41000.50
              2023: 43000
              2024: null
          minimum:
            steps:
              - from: 2020-01-01
                value: 900
                source: Decree 2019/12
              - from: "2023-07-01"
                value: 950.25
                note: indexed
          start:
            type: date
            value: 2020-01-01
        rules:
          age:
            label: Age
            cite: art. 3
            expr: years_between(birth_date, today)
          reached_age:
            label: Has reached pension age
            expr: age >= pension_age
          amount:
            label: Amount
            cite: 4
            note: base amount with exceptions
            value: max(minimum, rate * sum(h.salary for h in history))
            exceptions:
              - when: not resident
                value: 0
                label: Non-residents
                cite: art. 4(2)
                note: see treaty exceptions
              - when: tax.is_exempt
                value: minimum
          flat:
            label: Flat
            value: 60
          flag:
            label: Flag
            expr: true
        outcomes:
          pension:
            label: Old-age pension
            when: reached_age and resident
            cite: art. 2
            note: main outcome
            values:
              amount: amount
              fixed: 12
        amendments:
          tax.taxable_income:
            - when: reached_age
              value: tax.taxable_income - amount
              label: Pension relief
    """,
    "dates_as_strings": {
        "id": "x",
        "title": "X",
        "in_force": {"from": "2021-01-01"},
        "parameters": {"p": {"steps": [{"from": "2021-01-01", "value": 1}]}},
    },
    "dates_as_date_objects": {
        "id": "x",
        "title": "X",
        "in_force": {"from": datetime.date(2021, 1, 1), "until": datetime.date(2022, 1, 1)},
        "parameters": {
            "p": {"steps": [{"from": datetime.date(2021, 1, 1), "value": datetime.date(2021, 6, 1)}]},
            "q": {"value": datetime.date(2021, 1, 1), "type": "date"},
        },
    },
    "in_force_unknown_start": {"id": "x", "title": "X", "in_force": {"from": None, "until": None}},
    "decimal_values": {
        "id": "x",
        "title": "X",
        "parameters": {"r": {"value": Decimal("0.5")}, "y": {"by_year": {"2020": Decimal("1.25")}}},
        "rules": {"r2": {"label": "R2", "expr": Decimal("2.5")}},
    },
    "shorthand_record_with_reserved_looking_fields": {
        "id": "x",
        "title": "X",
        "inputs": {"person": {"label": "string", "note": "string", "items": "integer"}},
    },
    "nested_list_of_lists": {
        "id": "x",
        "title": "X",
        "inputs": {"matrix": {"type": "list", "items": {"type": "list", "items": "number"}}},
    },
    "amendments_only": {
        "id": "amend.a",
        "title": "A",
        "uses": {"base": "base"},
        "amendments": {"base.r": [{"when": "true", "value": 1}]},
    },
    "empty_sections": {"id": "x", "title": "X", "inputs": {}, "parameters": {}, "rules": {}, "outcomes": {}},
    "nullable_list": {
        "id": "x",
        "title": "X",
        "inputs": {"debts": {"type": "list", "nullable": True, "items": "number", "question": "Debts?"}},
    },
}


@pytest.mark.parametrize("doc", GOOD_POLICIES.values(), ids=GOOD_POLICIES.keys())
def test_good_policy(doc):
    if isinstance(doc, str):
        doc = from_yaml(doc)
    errors = list(validator("policy.schema.json").iter_errors(doc))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_yaml_loading_gives_dates_and_decimals():
    doc = from_yaml(GOOD_POLICIES["full"])
    assert doc["in_force"]["from"] == datetime.date(2020, 1, 1)
    assert doc["parameters"]["rate"]["value"] == Decimal("0.015")
    assert "2022" in doc["parameters"]["average_salary"]["by_year"]


# ---------------------------------------------------------------------------
# Policy files: bad. Each: document, keyword of the error, path of the error
# (into the document), as given by jsonschema.exceptions.best_match.


def P(**extra):
    return {"id": "x", "title": "X", **extra}


BAD_POLICIES = {
    "unknown_top_level_key": (P(rulez={}), "additionalProperties", []),
    "missing_title": ({"id": "x"}, "required", []),
    "id_with_uppercase": (P(id="Pension"), "pattern", ["id"]),
    "id_with_empty_segment": (P(id="a..b"), "pattern", ["id"]),
    "rule_name_with_hyphen": (
        P(rules={"bad-name": {"label": "L", "expr": "1"}}),
        "pattern",
        ["rules"],
    ),
    "input_name_with_hyphen": (P(inputs={"birth-date": "date"}), "pattern", ["inputs"]),
    "rule_with_expr_and_value": (
        P(rules={"r": {"label": "L", "expr": "1", "value": "2"}}),
        "oneOf",
        ["rules", "r"],
    ),
    "rule_with_neither_expr_nor_value": (P(rules={"r": {"label": "L"}}), "oneOf", ["rules", "r"]),
    "rule_without_label": (P(rules={"r": {"expr": "1"}}), "required", ["rules", "r"]),
    "exceptions_with_expr": (
        P(rules={"r": {"label": "L", "expr": "1", "exceptions": [{"when": "a", "value": 2}]}}),
        "dependentRequired",
        ["rules", "r"],
    ),
    "empty_exceptions": (
        P(rules={"r": {"label": "L", "value": "1", "exceptions": []}}),
        "minItems",
        ["rules", "r", "exceptions"],
    ),
    "exception_missing_when": (
        P(rules={"r": {"label": "L", "value": 1, "exceptions": [{"value": 2}]}}),
        "required",
        ["rules", "r", "exceptions", 0],
    ),
    "exception_unknown_key": (
        P(rules={"r": {"label": "L", "value": 1, "exceptions": [{"when": "a", "value": 2, "then": 3}]}}),
        "additionalProperties",
        ["rules", "r", "exceptions", 0],
    ),
    "expression_is_a_list": (
        P(rules={"r": {"label": "L", "expr": ["a", "b"]}}),
        "type",
        ["rules", "r", "expr"],
    ),
    "expression_is_empty": (P(rules={"r": {"label": "L", "expr": ""}}), "minLength", ["rules", "r", "expr"]),
    "list_without_items": (P(inputs={"xs": {"type": "list"}}), "required", ["inputs", "xs"]),
    "record_without_fields": (P(inputs={"r": {"type": "record", "label": "R"}}), "required", ["inputs", "r"]),
    "items_on_a_number": (
        P(inputs={"n": {"type": "number", "items": "integer"}}),
        "const",
        ["inputs", "n", "type"],
    ),
    "values_on_a_number": (
        P(inputs={"n": {"type": "number", "values": ["a"]}}),
        "const",
        ["inputs", "n", "type"],
    ),
    "duplicate_values": (
        P(inputs={"s": {"type": "string", "values": ["a", "a"]}}),
        "uniqueItems",
        ["inputs", "s", "values"],
    ),
    "unknown_type_name": (P(inputs={"n": "float"}), "enum", ["inputs", "n"]),
    "unknown_type_in_full_form": (P(inputs={"n": {"type": "float"}}), "enum", ["inputs", "n", "type"]),
    "typespec_unknown_key": (
        P(inputs={"n": {"type": "number", "question": "?", "units": "EUR"}}),
        "additionalProperties",
        ["inputs", "n"],
    ),
    "bad_type_inside_shorthand_record": (
        P(inputs={"hist": {"type": "list", "items": {"year": "integer", "salary": "money"}}}),
        "enum",
        ["inputs", "hist", "items", "salary"],
    ),
    "empty_shorthand_record": (P(inputs={"r": {}}), "minProperties", ["inputs", "r"]),
    "parameter_with_value_and_by_year": (
        P(parameters={"p": {"value": 1, "by_year": {"2020": 1}}}),
        "oneOf",
        ["parameters", "p"],
    ),
    "parameter_without_value": (P(parameters={"p": {"label": "P"}}), "oneOf", ["parameters", "p"]),
    "by_year_bad_key": (
        P(parameters={"p": {"by_year": {"20x4": 1}}}),
        "pattern",
        ["parameters", "p", "by_year"],
    ),
    "step_without_from": (
        P(parameters={"p": {"steps": [{"value": 1}]}}),
        "required",
        ["parameters", "p", "steps", 0],
    ),
    "step_with_bad_date": (
        P(parameters={"p": {"steps": [{"from": "1/1/2020", "value": 1}]}}),
        "pattern",
        ["parameters", "p", "steps", 0, "from"],
    ),
    "parameter_value_is_a_mapping": (
        P(parameters={"p": {"value": {"a": 1}}}),
        "type",
        ["parameters", "p", "value"],
    ),
    "parameter_type_list": (
        P(parameters={"p": {"value": [1], "type": "list"}}),
        "enum",
        ["parameters", "p", "type"],
    ),
    "in_force_bad_date": (P(in_force={"from": "2020-1-1"}), "pattern", ["in_force", "from"]),
    "source_without_document": (P(source={"clause": 3}), "required", ["source"]),
    "uses_bad_policy_id": (P(uses={"tax": "Tax.Income"}), "pattern", ["uses", "tax"]),
    "amendment_key_without_alias": (
        P(amendments={"rule": [{"when": "a", "value": 1}]}),
        "pattern",
        ["amendments"],
    ),
    "amendment_empty_list": (P(amendments={"tax.r": []}), "minItems", ["amendments", "tax.r"]),
    "outcome_without_when": (P(outcomes={"o": {"label": "O"}}), "required", ["outcomes", "o"]),
    "outcome_value_name_with_hyphen": (
        P(outcomes={"o": {"label": "O", "when": True, "values": {"a-b": 1}}}),
        "pattern",
        ["outcomes", "o", "values"],
    ),
}


@pytest.mark.parametrize(
    "doc, keyword, path", BAD_POLICIES.values(), ids=BAD_POLICIES.keys()
)
def test_bad_policy(doc, keyword, path):
    errors = list(validator("policy.schema.json").iter_errors(doc))
    assert errors, "document should not validate"
    found = [(e.validator, list(e.absolute_path)) for e in all_errors(errors)]
    assert (keyword, path) in found, found
    best = best_match(errors)
    assert (best.validator, list(best.absolute_path)) == (keyword, path), best.message


def test_unknown_key_is_named_in_the_message():
    errors = list(validator("policy.schema.json").iter_errors(P(rulez={})))
    assert "'rulez' was unexpected" in best_match(errors).message


def test_bad_yaml_policy():
    doc = from_yaml(
        """
        id: x
        title: X
        parameters:
          p:
            by_year:
              2020: 1
              20201: 2
        """
    )
    error = best_match(validator("policy.schema.json").iter_errors(doc))
    assert (error.validator, list(error.absolute_path)) == ("pattern", ["parameters", "p", "by_year"])
    assert error.instance == "20201"


# ---------------------------------------------------------------------------
# Shared inputs files


def test_inputs_file_good():
    doc = from_yaml(
        """
        title: Household facts
        note: shared by all benefit policies
        inputs:
          birth_date: date
          income: {type: number, unit: EUR, question: "What is your monthly income?"}
          children:
            type: list
            items: {birth_date: date, in_education: boolean}
        """
    )
    errors = list(validator("inputs.schema.json").iter_errors(doc))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize(
    "doc, keyword, path",
    [
        ({"title": "no inputs"}, "required", []),
        ({"inputs": {}, "rules": {}}, "additionalProperties", []),
        ({"inputs": {"xs": {"type": "list"}}}, "required", ["inputs", "xs"]),
        ({"inputs": {"bad-name": "date"}}, "pattern", ["inputs"]),
        ({"inputs": {"n": "float"}}, "enum", ["inputs", "n"]),
    ],
)
def test_inputs_file_bad(doc, keyword, path):
    errors = list(validator("inputs.schema.json").iter_errors(doc))
    best = best_match(errors)
    assert best is not None
    assert (best.validator, list(best.absolute_path)) == (keyword, path), best.message


def test_inputs_refs_resolve_through_registry():
    resolver = REGISTRY.resolver(base_uri=SCHEMAS["inputs.schema.json"]["$id"])
    resolved = resolver.lookup("policy.schema.json#/$defs/typespec")
    assert resolved.contents["title"] == "Type"


# ---------------------------------------------------------------------------
# Result documents


RESULT = {
    "as_of": "2024-05-01",
    "results": [
        {
            "policy": "pension.old_age",
            "outcome": "pension",
            "label": "Old-age pension",
            "status": "undetermined",
            "cite": "art. 2",
            "values": {"amount": None, "months": 12, "rate": "0.015", "flags": [True, False]},
            "missing": [
                {
                    "kind": "fact",
                    "name": "children[1].birth_date",
                    "policy": "pension.old_age",
                    "question": "When was the child born?",
                    "label": None,
                },
                {"kind": "parameter", "name": "average_salary[2023]"},
            ],
            "trace": [
                {
                    "kind": "outcome",
                    "text": "pension",
                    "name": "pension",
                    "policy": "pension.old_age",
                    "label": "Old-age pension",
                    "cite": None,
                    "value": None,
                    "status": "unknown",
                    "missing": ["children[1].birth_date"],
                    "children": [
                        {
                            "kind": "comparison",
                            "text": "age >= pension_age",
                            "op": ">=",
                            "operands": [{"text": "age", "value": 70}, {"text": "pension_age", "value": 67}],
                            "value": True,
                            "status": "true",
                        },
                        {"kind": "rule", "text": "amount", "value": None, "status": "skipped", "children": []},
                    ],
                }
            ],
            "diagnostics": [
                {
                    "code": "E0301",
                    "severity": "warning",
                    "message": "division by zero avoided",
                    "file": "policies/pension.yaml",
                    "line": 3,
                    "column": 5,
                    "end_line": 3,
                    "end_column": 9,
                    "help": "check the rate",
                }
            ],
        },
        {
            "policy": "benefits.heating",
            "outcome": "eligible",
            "label": "Eligible",
            "status": "not_in_force",
            "values": {},
            "missing": [],
            "trace": [],
        },
    ],
    "missing": [{"kind": "fact", "name": "children[1].birth_date", "question": None}],
}


def test_result_document_good():
    errors = list(validator("result.schema.json").iter_errors(RESULT))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_result_document_bad_status():
    doc = json.loads(json.dumps(RESULT))
    doc["results"][1]["status"] = "maybe"
    error = best_match(validator("result.schema.json").iter_errors(doc))
    assert (error.validator, list(error.absolute_path)) == ("enum", ["results", 1, "status"])


def test_result_document_bad_nested_trace_status():
    doc = json.loads(json.dumps(RESULT))
    doc["results"][0]["trace"][0]["children"][0]["status"] = "yes"
    error = best_match(validator("result.schema.json").iter_errors(doc))
    assert list(error.absolute_path) == ["results", 0, "trace", 0, "children", 0, "status"]
