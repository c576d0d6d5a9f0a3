"""`policy ask`: scripted through CliRunner, and once through a real pseudo-terminal."""
import os
import sys
from pathlib import Path

import pytest

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
URUMQI = str(ROOT / "policies" / "urumqi")
EXAMPLE = str(ROOT / "policies" / "example")
PARAMS = str(ROOT / "examples" / "urumqi" / "average-salary.example.yaml")
MEASURE_1 = ["--outcome", "urumqi.permanent-residence.permanent_residence", "--as-of", "2025-06-01", "--params", PARAMS]
FORBIDDEN = ["graduat", "universit", "intern", "enrol", "category", "points", "genuine", "purpose"]


def test_reaches_a_decision_for_a_qualifying_applicant_asking_only_about_measure_1(runner, tmp_path):
    answers = "\n".join([
        "yes",                      # works in Urumqi
        "2020-03-01",               # employment start
        "4",                        # four years of records
        "2021", "200", "700000", "140000",
        "2022", "183", "720000", "150000",
        "2023", "300", "800000", "160000",
        "2024", "250", "810000", "170000",
    ]) + "\n"
    save = tmp_path / "saved.yaml"
    r = runner.invoke(cli, ["ask", URUMQI, *MEASURE_1, "--save", str(save)], input=answers)
    assert r.exit_code == 0, r.output
    assert "✓ applies  urumqi.permanent-residence / permanent_residence" in r.stdout
    assert "Every outcome is decided." in r.stdout
    asked = r.stdout.lower()
    for word in FORBIDDEN:
        assert word not in asked, word
    # the saved answers are a facts file that eval accepts and decides the same way
    e = runner.invoke(cli, ["eval", URUMQI, "--facts", str(save), *MEASURE_1])
    assert e.exit_code == 0, e.output
    assert "✓ applies  urumqi.permanent-residence / permanent_residence" in e.stdout


def test_malformed_answers_are_asked_again(runner):
    answers = "maybe\nno\n"
    r = runner.invoke(cli, ["ask", EXAMPLE, "--as-of", "2026-03-01", "--outcome", "housing_allowance"], input=answers)
    assert r.exit_code == 0, r.output
    assert "Please answer yes or no." in r.stdout
    assert "✗ does not apply  example.housing-allowance / housing_allowance" in r.stdout


@pytest.mark.parametrize("answers", [
    "", "\n", "yes\n", "yes\n1970-13-45\n\n", "yes\nyesterday\n1970-02-30\n\x00\n",
    "yes\n1970-01-01\n9\n2\nnone\n",
    "yes\n1970-01-01\n1\n1e99999\n" + "x\n" * 20,
    "yes\n1970-01-01\n" + "-1\n" * 5 + "101\n" + "1\n" + "2025\n" + "NaN\n" + "Infinity\n" + "1,000,000\n",
])
def test_no_answer_ends_in_a_traceback(runner, answers):
    r = runner.invoke(cli, ["ask", EXAMPLE, "--as-of", "2026-03-01", "--outcome", "housing_allowance"], input=answers)
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_parameter_gaps_are_said_plainly(runner):
    answers = "yes\n2020-03-01\n4\n" + "".join(f"{y}\n200\n700000\n140000\n" for y in (2021, 2022, 2023, 2024))
    r = runner.invoke(cli, ["ask", URUMQI, "--outcome", "urumqi.permanent-residence.permanent_residence",
                            "--as-of", "2025-06-01"], input=answers)
    assert r.exit_code == 0, r.output
    assert "the policy maintainers must supply urumqi.permanent-residence: average_salary[2024]" in r.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_through_a_real_pseudo_terminal(tmp_path):
    import pty
    import select
    import time
    cmd = [sys.executable, "-m", "interpreter.cli", "ask", EXAMPLE, "--as-of", "2026-03-01",
           "--outcome", "housing_allowance", "--save", str(tmp_path / "f.yaml")]
    pid, fd = pty.fork()
    if pid == 0:  # the child: the interpreter on a terminal
        os.environ["NO_COLOR"] = "1"
        os.execv(sys.executable, cmd)
    seen = b""

    def wait_for(text: bytes, timeout=20.0):
        nonlocal seen
        end = time.time() + timeout
        while text not in seen and time.time() < end:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    break
        assert text in seen, seen.decode(errors="replace")

    wait_for(b"Does the applicant live in the city?")
    os.write(fd, b"perhaps\r")
    wait_for(b"Please answer yes or no.")
    os.write(fd, b"no\r")
    wait_for(b"Every outcome is decided.")
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert (tmp_path / "f.yaml").read_text() == "resident: false\n"


def test_an_empty_answer_keeps_the_fact_unknown_and_goes_on(runner, tmp_path):
    save = tmp_path / "saved.yaml"
    r = runner.invoke(cli, ["ask", EXAMPLE, "--as-of", "2026-03-01", "--save", str(save)],
                      input="\n1970-05-01\n" + "\n" * 6)  # the first question skipped, the next answered, then skips
    assert r.exit_code == 0, r.output
    assert r.stdout.count("Does the applicant live in the city?\n  (") == 1  # a skipped fact is not asked again
    assert "  (not known: skipped)" in r.stdout
    assert "No more questions: the rest waits on facts not known yet (" in r.stdout
    assert save.read_text() == "birth_date: 1970-05-01\n"


def test_record_fields_are_asked_with_their_question_and_unit(runner):
    answers = "yes\n2020-03-01\n1\n2024\n250\n300,000\n300000\n\n"
    r = runner.invoke(cli, ["ask", URUMQI, *MEASURE_1], input=answers)
    assert r.exit_code == 0, r.output
    assert "  How many days did the applicant spend in China that year?\n  (a whole number, in days; empty: don't know)" \
        in r.stdout
    assert "  What was the applicant's salary that year?\n  (a number, in CNY; empty: don't know)" in r.stdout
    assert "days_in_china:" not in r.stdout


def test_ask_and_facts_files_take_the_same_number_forms(runner, tmp_path):
    from interpreter.ask import Interview
    for text in ("300000", "300000.50", "-3", "1e5"):
        assert Interview.parse("number", text, None)[1] is None, text
    assert Interview.parse("number", "300,000.50", None) == (
        None, "`300,000.50` is not a number: write numbers without separators: 300000.50.")
    facts = tmp_path / "f.yaml"
    facts.write_text("birth_date: 1970-05-01\nincomes: [{year: 2025, amount: '810,000'}]\n")
    r = runner.invoke(cli, ["eval", EXAMPLE, "--facts", str(facts), "--as-of", "2026-03-01", "--format", "json"])
    import json
    [d] = json.loads(r.stdout)["diagnostics"]
    assert (d["code"], d["line"], d["help"]) == ("fact-type", 2, "write numbers without separators: 810000")


@pytest.mark.skipif(sys.platform == "win32", reason="signals are POSIX")
def test_ctrl_c_exits_with_130_and_saves_the_answers(tmp_path):
    import signal
    import subprocess
    import time
    save = tmp_path / "f.yaml"
    proc = subprocess.Popen([sys.executable, "-m", "interpreter", "ask", EXAMPLE, "--as-of", "2026-03-01",
                             "--save", str(save)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # even when run
    # where SIGINT is ignored (a background job of a shell): Ctrl-C as a terminal gives it
    seen = b""

    def wait_for(text: bytes):
        nonlocal seen
        deadline = time.time() + 20
        while text not in seen and time.time() < deadline:
            seen += os.read(proc.stdout.fileno(), 4096)
        assert text in seen, seen

    wait_for(b"Does the applicant live in the city?")
    proc.stdin.write(b"yes\n")
    proc.stdin.flush()
    wait_for(b"date of birth?")  # the interview waits for the next answer
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert b"interrupted; the answers so far are saved" in err
    assert save.read_text() == "resident: true\n"


def test_a_list_question_says_what_the_list_needs(runner):
    r = runner.invoke(cli, ["ask", URUMQI, *MEASURE_1], input="yes\n2020-03-01\n\n")
    assert r.exit_code == 0, r.output
    assert ("and how much personal income tax was paid?\n  The policies need an item for each of the calendar years "
            "tested (the 4 before the application year): 2021, 2022, 2023, 2024.\n  How many?") in r.stdout
