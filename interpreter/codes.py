"""Every diagnostic code, with what it means in one line.

docs/cli.md's table of codes is this table (tests/test_codes.py checks both
ways: the table is the registry, and every code the interpreter reports is in it).
"""
from __future__ import annotations

__all__ = ["CODES"]

CODES: dict[str, str] = {
    # files
    "file-not-found": "a path given on the command line does not exist",
    "not-a-file": "the path is a directory, not a file",
    "unreadable": "the file cannot be read",
    "file-too-large": "a file over the size limit (5,000,000 bytes by default)",
    "not-utf8": "the file or record is not UTF-8 text",
    "not-text": "the file contains NUL characters",
    "empty-file": "an empty policy file",
    "no-policies": "a directory with no policy files, or nothing to load",
    "no-tests": "no test files under the paths given",
    "outside-tree": "a file a symbolic link (or a test file's `policies:`) leads to outside the tree checked; "
                    "read only with `--follow-outside`",
    "too-many-diagnostics": "the diagnostics of one file (or record) past the limit (100 by default), counted, not shown",
    # YAML
    "yaml-syntax": "the file is not valid YAML or JSON",
    "yaml-key": "a mapping key that is a list or a mapping, not a string",
    "yaml-multiple-documents": "a second YAML document in one file",
    "yaml-unsupported-tag": "a YAML tag other than the standard ones",
    "yaml-invalid-value": "a value that does not match its explicit tag (`!!bool maybe`)",
    "yaml-too-deep": "a document nested too deeply, or an alias that contains itself",
    "yaml-too-large": "a document with more nodes than the limit, aliases counted each time used",
    "duplicate-key": "a key given twice in one mapping or JSON line, or a fact given by two CSV columns",
    # schema
    "unknown-key": "a key the schema does not allow here",
    "missing-key": "a required key is absent",
    "schema-type": "a value of the wrong kind (a list where a string is needed)",
    "schema-value": "a value not of the allowed form (a bad id, an unknown type name, an empty list)",
    "schema-name": "a name that is not a letter or `_` followed by letters, digits or `_`",
    "schema-shape": "a mapping with the wrong combination of keys",
    "schema": "any other schema violation",
    "indentation": "a key such as `expr:` written one level too far left, so that it reads as a new entry",
    # expressions
    "parse-error": "the text is not a valid expression",
    "expression-too-long": "an expression longer than the limit (20,000 characters by default)",
    "expression-too-deep": "an expression nested too deeply to parse, check or evaluate",
    "invalid-number": "a number that is not finite, has too many digits or is out of range",
    "invalid-date": "a date that is not `YYYY-MM-DD` or does not exist",
    "invalid-duration": "a duration with a fractional number (`1.5 years`) or of more than 6 digits",
    "template": "a rule's `each` text that mentions no binder variable, a `{` without `}`, "
                "or a label placeholder that names no parameter",
    "label-number": "a label that states the value of a parameter of its policy instead of naming it (a warning)",
    # names and types
    "unknown-name": "a name that is not a binder variable, input, parameter, rule, outcome, alias or `today`",
    "unknown-function": "a function that is not built in",
    "unknown-binder": "`x in xs: ...` given to a function that is not a binder",
    "unknown-field": "a field the record type does not have",
    "unknown-policy": "a `uses:` alias for a policy id that is not in the set",
    "unknown-reference": "`alias.name` where the other policy has no such rule or outcome",
    "unknown-parameter": "a parameter override for a parameter no policy declares",
    "duplicate-id": "two policies with the same `id`",
    "duplicate-name": "one name used for two of input, parameter, rule, outcome, alias in one policy",
    "reserved-name": "an input, parameter, rule or outcome named `today`",
    "type-mismatch": "operands, arguments, list items, `if` branches or a value of the wrong type",
    "not-boolean": "a condition that is not a boolean",
    "not-indexable": "indexing anything but a `by_year` or `steps` parameter",
    "not-amendable": "an amendment of a rule written with `expr:` instead of `value:`",
    "arity": "a function given too few or too many arguments",
    "cycle": "rules or outcomes that refer to each other in a cycle",
    "rule-chain-too-deep": "a chain of rules each reading the next, longer than the limit",
    "nullable-access": "reading a field of a nullable value without a null test",
    "nullable-use": "using a nullable value without a null test",
    "nullable-rule": "an exception that can give null to a rule not declared `nullable`",
    "input-conflict": "one input declared with two different types among the inputs a policy sees",
    "parameter-type": "parameter values without one type, or not matching `type:`",
    "parameter-value": "a parameter value not in its `allowed` list, or written as a percentage",
    "parameter-unit": "a parameter value that its `unit:` or `range:` does not admit (a share of 20 for 20%)",
    "params-shape": "a parameters file, or an entry in it, of the wrong shape",
    "unused-input": "an input that no expression reads (a warning)",
    "unused-parameter": "a parameter that no expression reads (a warning)",
    # facts and caseloads
    "unknown-fact": "a fact no loaded policy declares, or a record field the type does not have",
    "fact-type": "a fact of the wrong kind",
    "fact-value": "a string fact not among the input's `values`",
    "fact-null": "`null` for an input or field that is not nullable",
    "fact-too-large": "a list or a string fact longer than the limit, or a CSV cell over the CSV reader's limit",
    "facts-unreadable": "the facts cannot be read at all",
    "unknown-value": "a comparison with a string that the input's `values` never hold",
    "json-syntax": "a JSON Lines record that is not valid JSON",
    "empty-record": "an empty line or row in a caseload",
    "csv-syntax": "a CSV file whose header cannot be read",
    "csv-row": "a CSV row with more or fewer cells than the header",
    "csv-cell": "a CSV cell that cannot be read as its column's type",
    # test files
    "test-policies": "the policies a test file names do not load",
    "test-outcome": "an expected outcome of a test case that names no outcome, or more than one",
    # evaluation
    "conflict": "two exceptions of a rule apply and give different values",
    "division-by-zero": "`/` by zero",
    "number-too-large": "a number beyond the supported range",
    "date-out-of-range": "date arithmetic beyond the years 1 to 9999",
    "empty-list": "`min` or `max` of an empty list",
    "invalid-index": "a `by_year` table indexed by a fraction",
    "invalid-argument": "a function argument out of its range (`round` places, `range` sizes)",
    "evaluation-budget": "a decision that goes through more binder items and range numbers, or makes a longer "
                         "string, than the limits (1,000,000 each by default)",
}
