"""Resource limits: every one reached gives a diagnostic, never a crash or a hang.

Each limit has a default and can be changed with an environment variable
`POLICY_LIMIT_<NAME>` (for example `POLICY_LIMIT_FILE_BYTES=20000000`), read
once when the interpreter is imported. docs/security.md lists them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields

__all__ = ["Limits", "LIMITS"]


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 5_000_000          # a policy, facts, params or test file
    yaml_nodes: int = 1_000_000          # YAML nodes after alias expansion (refuses "billion laughs")
    expression_chars: int = 20_000       # one expression
    expression_depth: int = 200          # nesting of one expression
    number_digits: int = 34              # significant digits of a number in a policy or in facts
    number_exponent: int = 100           # numbers lie within 10^-100 .. 10^100 in magnitude
    string_chars: int = 100_000          # one string fact
    list_items: int = 100_000            # one list fact
    range_items: int = 10_000            # the list made by range()
    diagnostics_per_file: int = 100      # diagnostics shown per file (or record); then "and N more"
    evaluation_steps: int = 1_000_000    # binder items gone through and range numbers made, per decision
    value_chars: int = 1_000_000         # a string computed by `+`
    record_chars: int = 5_000_000        # one line of a JSON Lines caseload (read in pieces past it, never whole)

    @classmethod
    def from_environment(cls, env=os.environ) -> "Limits":
        values = {}
        for f in fields(cls):
            raw = env.get(f"POLICY_LIMIT_{f.name.upper()}")
            if raw is not None:
                try:
                    value = int(raw)
                except ValueError:
                    continue  # a malformed setting keeps the default
                if value > 0:
                    values[f.name] = value
        return cls(**values)


LIMITS = Limits.from_environment()
