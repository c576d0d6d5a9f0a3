"""Discovery: the policy files named by paths on the command line, directories walked in a stable order."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from .diagnostics import Diagnostic, Span
from .trees import outside_tree, split_outside

__all__ = ["discover", "INPUTS_FILES"]

INPUTS_FILES = ("inputs.yaml", "inputs.yml")
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
