"""The `--out` file of a batch: refused when it is the input, locked while written, and resumable only
by the same run.

Beside `FILE` the run writes `FILE.fingerprint`: one JSON object naming what the results depend on
(the content of the policy files, of the parameters file, the as-of date, the outcomes selected,
`--explain`, and the input's path and content). `--resume` continues `FILE` only when a new
fingerprint equals the one written, and only when every line kept is a result line of the record
with its number.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RunFileError", "OutputError", "fingerprint", "open_out", "kept_lines", "same_file_problem",
           "FINGERPRINT_SUFFIX"]

FINGERPRINT_SUFFIX = ".fingerprint"
FORMAT = 1
_CHUNK = 1 << 20


class RunFileError(Exception):
    """The `--out` file cannot be used for this run (a usage error: exit code 2)."""


class OutputError(Exception):
    """Writing the results failed (a full disk, a closed pipe): the message names the output."""

    def __init__(self, where: str, error: OSError):
        super().__init__(f"cannot write {where}: {(error.strerror or 'error').lower()}")


def _digest_file(path: str, h) -> None:
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)


def _content(paths: list[str]) -> str:
    """SHA-256 of the files' names and bytes, in name order."""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(os.path.abspath(p).encode("utf-8", "surrogateescape") + b"\0")
        try:
            _digest_file(p, h)
        except OSError:
            h.update(b"\0unreadable")
        h.update(b"\0")
    return h.hexdigest()


def _input_identity(facts_path: str, kind: str) -> dict:
    if facts_path == "-":
        return {"path": "-"}  # standard input cannot be read twice: only its name is compared
    real = os.path.realpath(facts_path)
    if kind == "dir":
        from .batch import FACTS_SUFFIXES
        files = [str(f) for f in Path(real).iterdir() if f.is_file() and f.suffix in FACTS_SUFFIXES]
        return {"path": real, "sha256": _content(files)}
    h = hashlib.sha256()
    try:
        _digest_file(real, h)
    except OSError:
        return {"path": real}
    return {"path": real, "sha256": h.hexdigest()}


def fingerprint(policy_files: list[str], params_path: str | None, as_of: _dt.date, outcomes, explain: bool,
                facts_path: str, kind: str) -> dict:
    """What a batch's result lines depend on."""
    return {
        "format": FORMAT,
        "policies": _content(policy_files),
        "params": _content([params_path]) if params_path else None,
        "as_of": as_of.isoformat(),
        "outcomes": sorted(outcomes),
        "explain": explain,
        "input": _input_identity(facts_path, kind),
    }


_WHAT = {"policies": "another policy set (the policy files differ)", "params": "other parameters (--params)",
         "as_of": "another --as-of date", "outcomes": "other --outcome options", "explain": "another --explain setting",
         "input": "another input (--facts names other cases)", "format": "another version of this program"}


def same_file_problem(out_path: str, facts_path: str, kind: str) -> str | None:
    """Why `out_path` cannot be written while `facts_path` is read: it is the input (or a link to it),
    or a facts file inside the input folder."""
    if facts_path == "-":
        return None
    if kind == "dir":
        folder = os.path.realpath(os.path.dirname(os.path.abspath(out_path)))
        if Path(out_path).suffix in _facts_suffixes() and folder == os.path.realpath(facts_path):
            return f"--out `{out_path}` would be read as a case of `{facts_path}`"
        return None
    try:
        if os.path.exists(out_path) and os.path.samefile(out_path, facts_path):
            return f"--out `{out_path}` is the input file `{facts_path}`; the cases would be overwritten"
    except OSError:
        return None
    return None


def _facts_suffixes():
    from .batch import FACTS_SUFFIXES
    return FACTS_SUFFIXES


class _Out:
    """The output file, locked for this run; write errors become OutputError."""

    def __init__(self, fd: int, path: str):
        self.path = path
        self.fh = os.fdopen(fd, "a", encoding="utf-8", newline="")

    def write(self, text: str):
        try:
            self.fh.write(text)
        except OSError as e:
            raise OutputError(f"`{self.path}`", e) from None

    def flush(self):
        try:
            self.fh.flush()
        except OSError as e:
            raise OutputError(f"`{self.path}`", e) from None

    def close(self):
        try:
            self.fh.close()  # the lock goes with the file
        except OSError as e:
            raise OutputError(f"`{self.path}`", e) from None


class StdOut:
    """Standard output for result lines; write errors become OutputError."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str):
        try:
            self.stream.write(text)
        except OSError as e:
            raise OutputError("standard output", e) from None

    def flush(self):
        try:
            self.stream.flush()
        except OSError as e:
            raise OutputError("standard output", e) from None

    def close(self):
        self.flush()


def _lock(fd: int, path: str):
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise RunFileError(f"another run is writing `{path}`; two runs cannot share an --out file") from None


@dataclass
class Kept:
    """The result lines a resumed run keeps: how many, and their counts (errors included) for the summary."""
    count: int
    summary: Any


def open_out(path: str, print_: dict, resume: bool):
    """Open and lock `path` for this run; with `resume`, check the fingerprint and the lines kept.

    Returns the output and the lines kept. Raises RunFileError (exit 2) or OSError (cannot write)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # a device or a pipe: written as it is, nothing to resume
        if resume:
            os.close(fd)
            raise RunFileError(f"cannot resume `{path}`: it is not a regular file")
        return _Out(fd, path), Kept(0, _summary())
    _lock(fd, path)
    try:
        kept = _check_resume(path, print_) if resume else None
        if kept is None:
            os.ftruncate(fd, 0)
            kept = Kept(0, _summary())
        _write_fingerprint(path, print_)
    except BaseException:
        os.close(fd)
        raise
    return _Out(fd, path), kept


def _write_fingerprint(path: str, print_: dict):
    side = path + FINGERPRINT_SUFFIX
    tmp = f"{side}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(print_, sort_keys=True) + "\n")
    os.replace(tmp, side)


def _check_resume(path: str, print_: dict) -> Kept | None:
    """The lines to keep, or None when the file is empty (the run starts afresh)."""
    size = os.stat(path).st_size
    side = path + FINGERPRINT_SUFFIX
    if size == 0:
        return None
    try:
        with open(side, encoding="utf-8") as fh:
            written = json.loads(fh.read())
    except FileNotFoundError:
        raise RunFileError(f"cannot resume `{path}`: `{side}` is missing, so what made its lines is unknown") from None
    except (OSError, ValueError):
        raise RunFileError(f"cannot resume `{path}`: `{side}` cannot be read") from None
    if not isinstance(written, dict):
        raise RunFileError(f"cannot resume `{path}`: `{side}` cannot be read")
    for key in print_:
        if written.get(key) != print_[key]:
            extra = f"; it was evaluated as of {written.get('as_of')}" if key == "as_of" else ""
            raise RunFileError(f"cannot resume `{path}`: it was made with {_WHAT[key]}{extra}")
    return kept_lines(path)


def kept_lines(path: str) -> Kept:
    """The complete result lines at the start of the file; a partial last line is cut off. Every line kept
    must be the result of the record with its number: anything else stops the resume."""
    summary = _summary()
    end = 0
    with open(path, "rb+") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                break  # the partial line of a run that was stopped
            try:
                line = json.loads(raw)
            except ValueError:
                line = None
            if not isinstance(line, dict) or line.get("record") != number:
                raise RunFileError(f"cannot resume `{path}`: line {number} is not the result line of record {number}")
            try:
                summary.add(line)
            except (KeyError, TypeError, AttributeError):
                raise RunFileError(f"cannot resume `{path}`: line {number} is not a result line") from None
            end += len(raw)
        fh.truncate(end)
    return Kept(summary.cases, summary)


def _summary():
    from .batch import Summary
    return Summary()
