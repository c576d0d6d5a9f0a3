"""Batch evaluation: a caseload streamed from JSON Lines, CSV or a directory, one result line per case.

Cases are read lazily, evaluated in order (in worker processes with `jobs` > 1,
a bounded window at a time), and written as JSON Lines as soon as they are
decided, so memory does not grow with the caseload. A bad record becomes an
error line with its number; the others are still evaluated.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator

from .diagnostics import Diagnostic, Span, has_errors
from .engine import PolicySet
from .facts import read_facts_text
from . import limits
from .sources import parse_iso_date, read_source
from .render import to_json

__all__ = ["Record", "JsonlFile", "WorkerFailure", "batch_kind", "read_records", "evaluate_record", "Summary", "run_batch",
           "forking", "in_workers"]

JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)
FACTS_SUFFIXES = (".yaml", ".yml", ".json")
RESERVED = ("id", "as_of")   # per-case fields that are not facts, unless a policy declares them


@dataclass
class Record:
    """One case as read: its number (line, row or file position), its raw facts or why they cannot be read."""
    number: int
    source: str
    raw: Any = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    locator: Any = None
    name: str | None = None   # file name, for a directory of facts files
    case_id: str | None = None  # the `id` cell of a CSV row, kept even when the row is bad
    text: str | None = None     # a JSON line not parsed yet (parsed by the worker that evaluates it)
    line: int | None = None     # the physical line, where it differs from the number (CSV rows)


def batch_kind(path: str) -> str | None:
    """"jsonl", "csv" or "dir" when the facts path is a caseload; None for a single facts document."""
    if path != "-" and os.path.isdir(path):
        return "dir"
    if path.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if path.endswith(CSV_SUFFIXES):
        return "csv"
    return None


class _NotFinite(ValueError):
    def __init__(self, constant: str):
        super().__init__(constant)
        self.constant = constant


def _refuse_constant(c: str):
    raise _NotFinite(c)


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs):
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return obj


def _json_value(text: str):
    return json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_refuse_constant,
                      object_pairs_hook=_no_duplicates)


def _duplicate_column(line: str, key: str) -> int:
    """The column (from 1) of the second `"key":` in a JSON line, where the duplicate most likely is."""
    found = [m.start() for m in re.finditer(re.escape(json.dumps(key, ensure_ascii=False)) + r"\s*:", line)]
    return found[1] + 1 if len(found) > 1 else 1


_SURROGATE = re.compile("[\udc80-\udcff]")


def _not_utf8(path: str, line: int, text: str) -> Diagnostic | None:
    """Bytes that are not UTF-8 (kept as surrogates while reading) make a record unreadable."""
    m = _SURROGATE.search(text)
    if m is None:
        return None
    return Diagnostic("not-utf8", "the record is not valid UTF-8 text", Span.point(path, line, m.start() + 1))


def _bounded_lines(stream) -> Iterator[str | None]:
    """The lines of a text stream opened with newline="" (line ends kept), each read with a bounded
    `readline`: a line longer than the record limit is read past in pieces, never held whole, and given
    as None."""
    limit = limits.LIMITS.record_chars
    size = limit + 2  # a line within the limit, and its line end

    def piece(n: int) -> str:
        nonlocal pending
        if pending is not None:
            text, pending = pending, None
            return text
        text = stream.readline(n)
        if len(text) == n and text.endswith("\r"):  # cut at the size: a "\n" may follow, the rest of "\r\n"
            pending = stream.readline(n)
            if pending == "\n":
                text, pending = text + "\n", None
        return text

    pending: str | None = None
    while True:
        line = piece(size)
        if not line:
            return
        end = 2 if line.endswith("\r\n") else 1 if line.endswith(("\n", "\r")) else 0
        if len(line) - end <= limit:
            yield line
            continue
        while line and not end:  # read past the rest of the line
            line = piece(1 << 16)
            end = line.endswith(("\n", "\r"))
        yield None


def _jsonl_record(path: str, number: int, raw_line: str | None) -> Record:
    """A JSON line as read, not parsed yet; a line over the record limit is a bad record of its own."""
    if raw_line is None:
        return Record(number, path, diagnostics=[Diagnostic(
            "record-too-large", f"the line is longer than the limit of {limits.LIMITS.record_chars} characters",
            Span.point(path, number, 1))])
    if number == 1 and raw_line.startswith("\ufeff"):
        raw_line = raw_line[1:]  # a byte-order mark
    return Record(number, path, text=raw_line)


def _read_jsonl(path: str, stream, parse: bool, first: int = 1) -> Iterator[Record]:
    for number, raw_line in enumerate(_bounded_lines(stream), start=first):
        rec = _jsonl_record(path, number, raw_line)
        yield _parse_line(rec) if parse and rec.text is not None else rec


def _parse_line(rec: Record) -> Record:
    """Fill in a JSON line's facts, or say why it cannot be read."""
    path, number = rec.source, rec.number
    bad = _not_utf8(path, number, rec.text)
    if bad is not None:
        rec.text, rec.diagnostics = None, [bad]
        return rec
    line, rec.text = rec.text.strip(), None
    if not line:
        rec.diagnostics = [Diagnostic("empty-record", "empty line: no case", Span.point(path, number, 1))]
        return rec
    try:
        rec.raw = _json_value(line)
    except _NotFinite as e:
        rec.diagnostics = [Diagnostic("invalid-number", f"`{e.constant}` is not a finite number",
                                      Span.point(path, number, line.find(e.constant) + 1))]
    except _DuplicateKey as e:
        rec.diagnostics = [Diagnostic("duplicate-key", f"duplicate key `{e.key}`: each fact and field is given once",
                                      Span.point(path, number, _duplicate_column(line, e.key)))]
    except (ValueError, RecursionError) as e:
        col = getattr(e, "colno", 1)
        msg = getattr(e, "msg", None) or str(e)
        rec.diagnostics = [Diagnostic("json-syntax", f"line is not valid JSON: {msg[:1].lower() + msg[1:]}",
                                      Span.point(path, number, col))]
    return rec


def _cell(text: str, spec: Any, path: str, row: int, col: int, column: str):
    """A CSV cell as the raw value its declared type expects; lists and records are JSON."""
    kind = spec if isinstance(spec, str) else (spec.get("type", "record") if isinstance(spec, dict) else None)
    if kind in ("list", "record") or kind is None:
        return _json_value(text)
    if kind == "boolean":
        low = text.strip().lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
        return text
    if kind in ("number", "integer"):
        try:
            return Decimal(text.strip())
        except ArithmeticError:
            return text
    if text.strip().lower() == "null" and isinstance(spec, dict) and spec.get("nullable"):
        return None
    return text


class _Lines:
    """The lines a CSV reader consumes, so that a cell can be placed at its column."""

    def __init__(self, stream):
        self.stream = stream
        self.last = ""
        self.record: list[str] = []  # the physical lines of the record being read (a quoted cell may span several)

    def __iter__(self):
        for line in self.stream:
            self.last = line
            self.record.append(line)
            yield line

    def take(self) -> list[str]:
        lines, self.record = self.record, []
        return lines


def _not_utf8_record(path: str, first_line: int, lines: list[str]) -> Diagnostic | None:
    """`_not_utf8` over every physical line of a record."""
    for i, text in enumerate(lines):
        bad = _not_utf8(path, first_line + i, text)
        if bad is not None:
            return bad
    return None


def _cell_column(line: str, index: int) -> int:
    """The character column (from 1) where cell `index` (from 0) starts in a one-line CSV row."""
    cell, quoted = 0, False
    for i, ch in enumerate(line):
        if cell == index:
            return i + 1
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            cell += 1
    return 1


def _read_csv(path: str, stream, inputs) -> Iterator[Record]:
    lines = _Lines(stream)
    reader = csv.reader(lines)
    try:
        header = next(reader)
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]  # a byte-order mark, as spreadsheets write
    except StopIteration:
        return
    except csv.Error as e:
        yield Record(1, path, diagnostics=[Diagnostic("csv-syntax", f"cannot read the header: {e}", Span.point(path, 1, 1))])
        return
    id_col = header.index("id") if "id" in header else None
    header_problem = _header_problem(path, header, lines.last)
    lines.take()
    row_number = 0
    while True:
        first_line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:  # a cell over the csv module's field limit, or a NUL
            row_number += 1
            record_lines = lines.take()
            line = reader.line_num
            bad_text = _not_utf8_record(path, first_line, record_lines)
            too_large = "field larger than field limit" in str(e)
            yield Record(row_number, path, line=first_line, diagnostics=[bad_text or Diagnostic(
                "fact-too-large" if too_large else "csv-syntax",
                f"row {row_number} has a cell longer than {csv.field_size_limit():,} characters" if too_large
                else f"row {row_number} cannot be read: {e}", Span.point(path, first_line, 1))])
            continue
        row_number += 1
        line = reader.line_num
        rid = row[id_col] if id_col is not None and id_col < len(row) and row[id_col] else None
        bad_text = _not_utf8_record(path, first_line, lines.take())
        if bad_text is not None:
            yield Record(row_number, path, case_id=None, line=line, diagnostics=[bad_text])
            continue
        if header_problem is not None:
            yield Record(row_number, path, case_id=rid, line=line, diagnostics=[header_problem])
            continue
        if len(row) != len(header):
            yield Record(row_number, path, case_id=rid, line=line, diagnostics=[Diagnostic(
                "csv-row", f"row {row_number} has {len(row)} cells; the header has {len(header)}", Span.point(path, line, 1))])
            continue
        raw: dict = {}
        bad = []
        for col, (column, text) in enumerate(zip(header, row), start=1):
            if text == "":
                continue  # an empty cell is an unknown fact
            parts = column.split(".")
            decl = inputs.get(parts[0])
            spec = decl.spec if decl is not None else "string"
            for part in parts[1:]:
                if isinstance(spec, dict):
                    fields = spec.get("fields") if "type" in spec else spec
                    spec = (fields or {}).get(part, "string")
            try:
                value = _cell(text, spec, path, line, col, column) if column not in RESERVED else text
            except (ValueError, RecursionError) as e:
                bad.append(Diagnostic("csv-cell", f"column `{column}` is not valid JSON: {getattr(e, 'msg', str(e))}",
                                      Span.point(path, line, _cell_column(lines.last, col - 1))))
                continue
            target = raw
            for part in parts[:-1]:
                target = target.setdefault(part, {})
                if not isinstance(target, dict):
                    bad.append(Diagnostic("csv-cell", f"column `{column}` conflicts with another column",
                                          Span.point(path, line, _cell_column(lines.last, col - 1))))
                    break
            else:
                target[parts[-1]] = value
        yield Record(row_number, path, raw=raw if not bad else None, diagnostics=bad, case_id=rid, line=line)


def _header_problem(path: str, header: list[str], text: str) -> Diagnostic | None:
    """A fact given by two columns: the same name twice, or a record next to one of its fields."""
    full: dict[tuple, int] = {}      # a column's path -> its index
    partial: dict[tuple, int] = {}   # a proper prefix of a column's path -> that column's index
    for index, column in enumerate(header):
        parts = tuple(column.split("."))
        other = full.get(parts, partial.get(parts))
        if other is None:
            other = next((full[parts[:end]] for end in range(1, len(parts)) if parts[:end] in full), None)
        if other is not None:
            what = "twice" if header[other] == column else f"also given by column `{header[other]}`"
            return Diagnostic("duplicate-key", f"column `{column}`: a fact {what}; each fact is given once",
                              Span.point(path, 1, _cell_column(text, index)))
        full[parts] = index
        for end in range(1, len(parts)):
            partial.setdefault(parts[:end], index)
    return None


def _read_dir(path: str) -> Iterator[Record]:
    files = sorted(str(f) for f in Path(path).iterdir() if f.is_file() and f.suffix in FACTS_SUFFIXES)
    for number, f in enumerate(files, start=1):
        text, diags = read_source(f)
        rec = Record(number, f, name=os.path.basename(f))
        if text is None:
            rec.diagnostics = diags
        else:
            rec.raw, rec.locator, rec.diagnostics = read_facts_text(text, f)
        yield rec


class JsonlFile:
    """A JSON Lines caseload in a regular file: its records (an iterable, read lazily), and for worker
    processes the byte ranges of its lines, which each worker reads for itself (see `ranges`)."""

    def __init__(self, path: str, parse_lines: bool):
        self.path, self.parse_lines = path, parse_lines

    def __iter__(self) -> Iterator[Record]:
        with open(self.path, encoding="utf-8", errors="surrogateescape", newline="") as stream:
            yield from _read_jsonl(self.path, stream, self.parse_lines)

    def ranges(self, skip: int = 0) -> Iterator[tuple]:
        """Blocks of whole lines as ("range", (path, start, end, number of the first line, lines to skip)),
        lines numbered as the text reader numbers them; the lines up to `skip` are not sent."""
        number, offset, tail = 1, 0, b""
        gather = max(limits.LIMITS.record_chars, CHUNK_BYTES)  # bytes of a line past which it is not kept
        with open(self.path, "rb") as fh:
            while True:
                data = fh.read(CHUNK_BYTES)
                buf = tail + data
                cut = buf.rfind(b"\n") + 1 if data else len(buf)  # a block ends after a "\n", or at the end
                if cut == 0:
                    if not data:
                        return
                    if len(buf) > gather:  # a very long line: found to its end without being kept, and sent
                        end, lines, tail = _past_line(fh, buf)  # alone, for a worker to read in pieces
                        if number + lines - 1 > skip:
                            yield ("long", (self.path, offset, number, lines, max(0, skip - number + 1)))
                        number, offset = number + lines, offset + end
                        continue
                    tail = buf  # no line end yet: read on
                    continue
                lines = _count_lines(buf[:cut])
                if number + lines - 1 > skip:
                    yield ("range", (self.path, offset, offset + cut, number, max(0, skip - number + 1)))
                number, offset, tail = number + lines, offset + cut, buf[cut:]
                if not data:
                    return


def _past_line(fh, buf: bytes) -> tuple[int, int, bytes]:
    """Read past the line that `buf` starts (it holds no "\n"): its length up to and with its "\n" (or to
    the end of the file), the lines a text reader splits it into, and the bytes read after it."""
    length, ends, last = 0, 0, b""
    data = buf
    while data:
        cut = data.find(b"\n") + 1
        part = data[:cut] if cut else data
        ends += part.count(b"\n") + part.count(b"\r") - part.count(b"\r\n") - (last == b"\r" and part[:1] == b"\n")
        length += len(part)
        last = part[-1:]
        if cut:
            return length, ends, data[cut:]
        data = fh.read(CHUNK_BYTES)
    return length, ends + (last != b"\r"), b""  # the file ends inside the line


def _count_lines(data: bytes) -> int:
    """Lines in `data` as a text reader with newline="" splits them: at "\n", "\r\n" and a lone "\r"."""
    n = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return n if data.endswith((b"\n", b"\r")) else n + 1


def _range_records(path: str, start: int, end: int, first: int, skip: int) -> list[Record]:
    """The records of a block of lines, read by the worker that evaluates them (see JsonlFile.ranges)."""
    with open(path, "rb") as fh:
        fh.seek(start)
        text = fh.read(end - start).decode("utf-8", "surrogateescape")  # blocks end at "\n": no split character
    return [rec for rec in _read_jsonl(path, io.StringIO(text, newline=""), False, first) if rec.number - first >= skip]


def _long_records(path: str, start: int, first: int, lines: int, skip: int) -> list[Record]:
    """The records of a block holding a very long line (see JsonlFile.ranges), read in pieces."""
    with open(path, "rb") as fh:
        fh.seek(start)
        stream = io.TextIOWrapper(fh, encoding="utf-8", errors="surrogateescape", newline="")
        records = _read_jsonl(path, stream, False, first)
        return [rec for _, rec in zip(range(lines), records) if rec.number - first >= skip]


def read_records(path: str, kind: str, inputs, parse_lines: bool = True) -> Iterable[Record]:
    """The records of a caseload, read lazily. Without `parse_lines`, JSON lines are parsed where evaluated."""
    if kind == "jsonl" and path != "-" and os.path.isfile(path):
        return JsonlFile(path, parse_lines)
    return _read_stream(path, kind, inputs, parse_lines)


def _read_stream(path: str, kind: str, inputs, parse_lines: bool) -> Iterator[Record]:
    if kind == "dir":
        yield from _read_dir(path)
        return
    if path == "-":
        import sys
        stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="surrogateescape", newline="")
        name = "<stdin>"
    else:
        stream = open(path, encoding="utf-8", errors="surrogateescape", newline="")
        name = path
    with stream:
        if kind == "jsonl":
            yield from _read_jsonl(name, stream, parse_lines)
        else:
            yield from _read_csv(name, stream, inputs)


def evaluate_record(pset: PolicySet, rec: Record, as_of: _dt.date | None, selection, explain: bool) -> dict:
    """One result line: the case's id and number, and its results or its errors."""
    if rec.text is not None:
        rec = _parse_line(rec)
    raw = rec.raw
    case_id: Any = rec.case_id or rec.name or rec.number
    case_as_of = as_of
    diags = list(rec.diagnostics)
    if not has_errors(diags) and isinstance(raw, dict):
        raw = dict(raw)
        for key in RESERVED:
            if key in raw and key not in pset.inputs:
                value = raw.pop(key)
                if key == "id":
                    if isinstance(value, Decimal) and value == value.to_integral_value() and abs(value) < 10**18:
                        value = int(value)
                    case_id = value if isinstance(value, (str, int)) and not isinstance(value, bool) else to_json(value)
                else:
                    case_as_of = value if isinstance(value, _dt.date) else parse_iso_date(str(value))
                    if case_as_of is None:
                        diags.append(Diagnostic("invalid-date", f"`as_of` is `{value}`, not a date written YYYY-MM-DD",
                                                Span.point(rec.source, rec.number, 1)))
    line: dict = {"id": case_id, "record": rec.number}
    if not has_errors(diags):
        facts, fd = pset.check_facts(raw, rec.locator, rec.source)
        diags += fd
    if has_errors(diags):
        line["status"] = "error"
        read = {id(d) for d in rec.diagnostics}  # found while reading: already at their place
        line["diagnostics"] = [d.to_dict() if id(d) in read else _record_diag(d, rec) for d in diags if d.is_error]
        return line
    evaluation = pset.evaluate(facts, case_as_of, selection, trace=explain)
    line["as_of"] = evaluation.as_of.isoformat()
    line["results"] = [r.to_dict(trace=explain) for r in evaluation.results]
    if any(r.status == "error" or r.diagnostics for r in evaluation.results):
        line["status"] = "error"
    return line


def _record_diag(d: Diagnostic, rec: Record) -> dict:
    out = d.to_dict()
    if rec.locator is None and d.span is not None and d.span.file == rec.source and rec.name is None:
        if out.get("line", 1) == 1:
            out["line"] = out["end_line"] = rec.line or rec.number
    return out


@dataclass
class Summary:
    """Counts per outcome and status, and the bad records."""
    cases: int = 0
    bad: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, line: dict):
        """Count one result line."""
        self.cases += 1
        results = line.get("results")
        if results is None or line.get("status") == "error":
            self.bad += 1
        for r in results or ():
            table = self.counts.setdefault(f"{r['policy']}.{r['outcome']}", {})
            table[r["status"]] = table.get(r["status"], 0) + 1

    def merge(self, other: "Summary"):
        """Add the counts of another summary (a worker's block)."""
        self.cases += other.cases
        self.bad += other.bad
        for key, t in other.counts.items():
            table = self.counts.setdefault(key, {})
            for status, n in t.items():
                table[status] = table.get(status, 0) + n

    def render(self) -> str:
        out = [f"{self.cases} case{'s' if self.cases != 1 else ''}, {self.bad} with errors"]
        for key in sorted(self.counts):
            t = self.counts[key]
            out.append(f"  {key}: {t.get('applies', 0)} applies, {t.get('does_not_apply', 0)} does not apply, "
                       f"{t.get('undetermined', 0)} undetermined"
                       + (f", {t['not_in_force']} not in force" if t.get("not_in_force") else "")
                       + (f", {t['error']} errors" if t.get("error") else ""))
        return "\n".join(out)


# ---------------------------------------------------------------- worker processes

_worker: dict = {}


def _init_worker(paths, params_path, as_of, selectors, explain):
    from .engine import load
    from .facts import read_facts_file
    pset = load(paths).policy_set
    if params_path:
        raw, loc, _ = read_facts_file(params_path)
        pset, _ = pset.with_params(raw, loc, params_path)
    selection = pset.select(selectors)[0] if selectors else None
    _worker.update(pset=pset, as_of=as_of, selection=selection, explain=explain)


# Cases sent to a worker at a time (CSV rows, a directory's files, standard input): one message each way
# per block, not per case. Larger blocks cost the reading process less (500 gave --jobs 2 about 1.5x the
# speed of --jobs 1, 2000 about 1.6x); at most 2 * jobs + 2 blocks are in flight, a few MB.
BLOCK = 2000
# A JSON Lines file goes to the workers as byte ranges of about this size (some 2000 lines of 250 bytes):
# the reading process only finds where lines end, and each worker reads and decodes its own lines.
CHUNK_BYTES = 1 << 19


def _work_block(block: tuple) -> tuple[str, Summary]:
    """Evaluate a block of cases in a worker: their result lines as one text, and the block's counts."""
    kind, payload = block
    if kind == "range":
        records = _range_records(*payload)
    elif kind == "long":
        records = _long_records(*payload)
    elif kind == "lines":
        source, first, texts = payload
        records = [Record(first + i, source, text=t) for i, t in enumerate(texts)]
    else:
        records = payload
    w = _worker
    lines, summary = [], Summary()
    for rec in records:
        line = evaluate_record(w["pset"], rec, w["as_of"], w["selection"], w["explain"])
        lines.append(to_json(line))
        summary.add(line)
    return "\n".join(lines) + "\n", summary


def _blocks(records: Iterator[Record]) -> Iterator[tuple]:
    """Group records into blocks; unparsed JSON lines travel as plain text, the cheapest to send."""
    batch: list[Record] = []
    for rec in records:
        batch.append(rec)
        if len(batch) >= BLOCK:
            yield _pack(batch)
            batch = []
    if batch:
        yield _pack(batch)


def _pack(batch: list[Record]) -> tuple:
    first = batch[0]
    if all(r.text is not None and r.source == first.source for r in batch) and \
            all(r.number == first.number + i for i, r in enumerate(batch)):
        return ("lines", (first.source, first.number, [r.text for r in batch]))
    return ("records", batch)


def run_batch(pset: PolicySet, records: Iterable[Record], out, *, as_of, selection, explain: bool,
              jobs: int = 1, skip: int = 0, progress=None, worker_args: tuple | None = None) -> Summary:
    """Evaluate every record in order and write one JSON line each to `out`; returns the summary.

    With `skip`, the first records are read but not evaluated (they are already in `out`).
    With `jobs` > 1, worker processes evaluate; at most a bounded number of cases is in flight.
    """
    summary = Summary()

    def todo():
        for i, rec in enumerate(records):
            if i >= skip:
                yield rec

    if jobs <= 1:
        for rec in todo():
            line = evaluate_record(pset, rec, as_of, selection, explain)
            out.write(to_json(line) + "\n")
            summary.add(line)
            if progress is not None:
                progress(summary.cases)
        out.flush()
        return summary
    if forking():  # the workers inherit the compiled set instead of loading it again
        _worker.update(pset=pset, as_of=as_of, selection=selection, explain=explain)
        init, initargs = None, ()
    else:
        init, initargs = _init_worker, worker_args
    out.flush()  # nothing buffered is copied into the workers
    blocks = records.ranges(skip) if isinstance(records, JsonlFile) else _blocks(todo())
    for text, counts in in_workers(_work_block, blocks, jobs, init, initargs):
        out.write(text)
        summary.merge(counts)
        if progress is not None:
            progress(summary.cases)
    out.flush()
    return summary


class WorkerFailure(Exception):
    """A worker process failed (a bug) or stopped (killed): the batch stops; the lines written are complete."""


_STOPPED = "a worker process stopped before finishing its cases"  # killed, or out of memory


def forking() -> bool:
    """Whether worker processes are forked, and so inherit what the reading process has set up
    (the compiled policy sets); elsewhere `in_workers` runs an `init` in each worker."""
    import multiprocessing as mp
    return "fork" in mp.get_all_start_methods()


def in_workers(work, blocks: Iterable, jobs: int, init=None, initargs: tuple = ()) -> Iterator:
    """`work(block)` for each block, in order, from a pool of `jobs` worker processes (`work` and `init`
    are module-level functions; `init(*initargs)` runs once in each worker where they are not forked).

    At most 2 * jobs + 2 blocks are out at once, so memory stays bounded even when one worker is slow.
    A worker ignores Ctrl-C (the reading process reports it) and ends when the reading process is gone.
    A bug in `work` or a killed worker stops the run with WorkerFailure.
    """
    import multiprocessing as mp
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool
    limit = 2 * jobs + 2
    ctx = mp.get_context("fork" if forking() else None)
    pool = ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_start_worker, initargs=(os.getpid(), init, initargs))
    pending: deque = deque()
    try:
        for block in blocks:
            pending.append(pool.submit(_pool_call, work, block))
            if len(pending) >= limit:
                yield _block_result(pending.popleft())
        while pending:
            yield _block_result(pending.popleft())
    except BrokenProcessPool:
        raise WorkerFailure(_STOPPED) from None
    finally:
        pool.shutdown(wait=not pending, cancel_futures=True)


def _block_result(future):
    kind, payload = future.result()
    if kind == "failed":
        raise WorkerFailure(f"a worker process failed: {payload}")
    return payload


def _pool_call(work, block) -> tuple[str, Any]:
    """`work(block)` in a worker; a bug comes back as its message (an exception may not survive pickling)."""
    try:
        return "done", work(block)
    except Exception as e:  # noqa: BLE001 - a bug: the reading process reports it
        return "failed", f"{type(e).__name__}: {e}"


def _start_worker(parent: int, init, initargs) -> None:
    """A worker leaves Ctrl-C to the reading process, and ends as soon as that process is gone (even
    killed, when nothing else would tell it); `init` loads the policy set where workers are not forked."""
    import signal
    import threading
    import time
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.1)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()
    if init is not None:
        init(*initargs)
