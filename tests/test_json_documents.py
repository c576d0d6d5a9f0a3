"""Every JSON document the commands print validates against schema/result.schema.json."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "schema" / "result.schema.json").read_text(encoding="utf-8"))
EX = ROOT / "docs" / "examples"
POL = str(ROOT / "policies" / "example")


def _p(*parts) -> str:
    return str(ROOT.joinpath(*parts))


COMMANDS = {
    "eval": ["eval", POL, "--facts", _p("examples", "applicant.yaml"), "--as-of", "2026-03-01", "--format", "json"],
    "eval urumqi": ["eval", _p("policies", "urumqi"), "--facts", _p("examples", "urumqi", "qualifies.yaml"),
                    "--as-of", "2025-06-01", "--format", "json"],
    "eval with params": ["eval", POL, "--facts", _p("examples", "applicant.yaml"), "--as-of", "2026-03-01",
                         "--format", "json", "--params", str(EX / "params.yaml")],
    "eval bad facts": ["eval", POL, "--facts", str(EX / "bad-facts.yaml"), "--format", "json"],
    "eval unreadable facts": ["eval", POL, "--facts", str(EX / "no-such-file.yaml"), "--format", "json"],
    "eval invalid policies": ["eval", str(EX / "example-typo"), "--facts", _p("examples", "applicant.yaml"),
                              "--format", "json"],
    "validate clean": ["validate", POL, "--format", "json"],
    "validate errors": ["validate", str(EX / "example-typo"), "--format", "json"],
    "validate strict": ["validate", str(EX / "stale-label.yaml"), "--format", "json", "--strict"],
    "caseload": ["eval", POL, "--facts", str(EX / "cases.jsonl"), "--as-of", "2026-03-01"],
    "caseload explained": ["eval", POL, "--facts", str(EX / "cases.jsonl"), "--as-of", "2026-03-01", "--explain"],
}


@pytest.mark.parametrize("args", list(COMMANDS.values()), ids=list(COMMANDS))
def test_every_json_document_printed_validates(runner, args):
    r = runner.invoke(cli, args)
    lines = [line for line in r.stdout.splitlines() if line.strip()]
    docs = [json.loads(line) for line in lines] if args[0] == "eval" and "--format" not in args else [json.loads(r.stdout)]
    assert docs
    validator = Draft202012Validator(SCHEMA)
    for doc in docs:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
        assert errors == [], errors


def test_the_schema_tells_documents_apart(runner):
    validator = Draft202012Validator(SCHEMA)
    assert not validator.is_valid({"diagnostics": [], "errors": 0, "warnings": 0, "results": 1})
    assert not validator.is_valid({"diagnostics": [], "errors": 0})
    assert not validator.is_valid({"id": 1, "record": 0})
    assert validator.is_valid({"diagnostics": [], "errors": 0, "warnings": 0, "ok": True})
