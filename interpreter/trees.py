"""The trees a command checks: files reached through a symbolic link, or named by a test file, that lie
outside them are refused unless the command is told to follow them (`--follow-outside`)."""
from __future__ import annotations

import os

from .diagnostics import Diagnostic, Span

__all__ = ["inside", "split_outside", "outside_tree"]


def _real(path: str) -> str:
    return os.path.realpath(path)


def inside(path: str, roots: list[str]) -> bool:
    """Whether `path`, links resolved, is one of `roots` or lies under one of them (links resolved too)."""
    real = _real(path)
    for root in roots:
        r = _real(root)
        if real == r or real.startswith(r.rstrip(os.sep) + os.sep):
            return True
    return False


def split_outside(files: list[str], roots: list[str]) -> tuple[list[str], list[str]]:
    """`files` split into those inside the roots and those a link takes outside them."""
    ok, out = [], []
    for f in files:
        (ok if inside(f, roots) else out).append(f)
    return ok, out


def outside_tree(path: str, root: str | None, span: Span | None = None) -> Diagnostic:
    """`path` leads out of `root` (None: out of the current folder and the paths given)."""
    where = f"`{root}`" if root is not None else "the current folder and the paths given"
    return Diagnostic("outside-tree", f"`{path}` leads to `{_real(path)}`, outside {where}; it is not read",
                      span or Span.point(path, 1, 1),
                      help="give --follow-outside to read files outside the tree being checked")
