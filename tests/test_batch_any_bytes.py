"""A batch never stops for one record: for any bytes on a line (lone surrogates written as JSON escapes,
bytes that are not UTF-8, control characters, duplicate keys, odd ids), every input line gives exactly one
output line of valid UTF-8 JSON, in order, with --jobs 1 and --jobs 2."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "policies" / "example")

_PIECES = [
    b'{"id": "a", "resident": true}', b'"\\udc80"', b'"\\ud800x"', b"\x80", b"\xff\xfe", b"\x1b[2J", b"\x00",
    b'{"status": "\\u001b]0;x\\u0007"}', b'{"id": [1, null], "resident": true}', b'{"a": 1, "a": 2}',
    b'{"id": "\\udfff", "status": "\\udc80"}', b"{", b"}", b'"', b",", b"NaN", b"\t", b"\xc3", b"\xe2\x80\xae",
]
lines = st.lists(st.sampled_from(_PIECES), min_size=0, max_size=4).map(b"".join)
caseloads = st.lists(lines, min_size=1, max_size=12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(caseloads)
def test_one_output_line_per_input_line(tmp_path, records):
    cases = tmp_path / "cases.jsonl"
    cases.write_bytes(b"\n".join(records) + b"\n")
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.jsonl"
        r = subprocess.run([sys.executable, "-m", "interpreter.cli", "eval", EXAMPLE, "--facts", str(cases),
                            "--as-of", "2026-03-01", "--jobs", jobs, "--out", str(out)], capture_output=True)
        assert r.returncode in (0, 1), r.stderr
        assert b"internal error" not in r.stderr and b"Traceback" not in r.stderr, r.stderr
        got = [json.loads(x) for x in out.read_bytes().decode("utf-8").split("\n")[:-1]]
        assert [x["record"] for x in got] == list(range(1, len(records) + 1)), (records, got)
