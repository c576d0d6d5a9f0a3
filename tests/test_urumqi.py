"""The Urumqi policies: a one-line change of a reading is caught by the policy's own tests."""
import shutil
from pathlib import Path

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def test_changing_the_days_reading_is_a_one_line_edit_the_tests_see(runner, tmp_path):
    copy = tmp_path / "urumqi"
    shutil.copytree(ROOT / "policies" / "urumqi", copy)
    policy = copy / "measure-1-permanent-residence.yaml"
    text = policy.read_text()
    edited = text.replace("    value: 183\n", "    value: 180\n")
    assert sum(a != b for a, b in zip(text.splitlines(), edited.splitlines())) == 1
    policy.write_text(edited)
    assert runner.invoke(cli, ["validate", "--strict", str(copy)]).exit_code == 0
    r = runner.invoke(cli, ["test", str(copy)])
    assert r.exit_code == 1
    failed = [line.strip()[2:] for line in r.stdout.splitlines() if line.strip().startswith("✗ ")]
    assert "182 days in China in one tested year" in failed
    assert "181 days in China fails under the default 183-day reading" in failed


def test_the_average_salary_ships_without_an_invented_figure():
    import interpreter
    pset = interpreter.load([str(ROOT / "policies" / "urumqi")]).policy_set
    table = pset.policies["urumqi.permanent-residence"].params["average_salary"]
    assert table.kind == "by_year" and table.by_year == {}
    assert "No official figure was found" in table.source


def _urumqi():
    import interpreter
    return interpreter.load([str(ROOT / "policies" / "urumqi")]).policy_set


def _citations(pset):
    """(policy id, what, cite) for every rule, exception, outcome and amendment of the set."""
    for pid, p in sorted(pset.policies.items()):
        for name, r in p.rules.items():
            yield pid, f"rule `{name}`", r.cite
            for e in r.exceptions:
                yield pid, f"an exception to rule `{name}`", e.cite
        for name, o in p.outcomes.items():
            yield pid, f"outcome `{name}`", o.cite
        for target, (_, excs) in p.amendments.items():
            for e in excs:
                yield pid, f"an exception added to `{target}`", e.cite


def test_every_citation_names_a_phrase_of_the_source_text():
    """From any line of an explanation to the words it encodes: each `cite` is a phrase of a policy's source."""
    pset = _urumqi()
    phrases = {}
    for p in pset.policies.values():
        src = p.source
        # the phrases, in order, are the whole source text
        assert " ".join(" ".join(t.split()) for t in src["phrases"].values()) == " ".join(src["text"].split()), p.id
        phrases.update(src["phrases"])
    cited = [(pid, what, cite) for pid, what, cite in _citations(pset) if cite is not None]
    assert [c for c in cited if c[2] not in phrases] == []
    uncited = [(pid, what) for pid, what, cite in _citations(pset) if cite is None]
    # only the encoding's own helpers cite nothing: age counting and the recommendation not in the
    # Urumqi text (reading 6)
    assert uncited == [
        ("national.work-permit", "rule `age_date`"),
        ("urumqi.permanent-residence", "rule `employer_recommendation_met`"),
        ("urumqi.permanent-residence", "rule `age_date`"),
    ]


def _phrase_rows(pset, p):
    users = {}
    for pid, what, cite in _citations(pset):
        where = what if pid == p.id else f"{what} of `{pid}`"
        users.setdefault(cite, []).append(where)
    return [f"| {cite} | {' '.join(text.split())} | {'; '.join(users.get(cite, [])) or 'not encoded'} |"
            for cite, text in p.source["phrases"].items()]


def test_docs_show_each_measure_phrase_by_phrase_with_the_rules_that_encode_it():
    """docs/urumqi.md has, for each policy, the table of its phrases and what encodes them, as the files say."""
    pset = _urumqi()
    doc = (ROOT / "docs" / "urumqi.md").read_text()
    for p in pset.policies.values():
        rows = _phrase_rows(pset, p)
        table = "\n".join(["| citation | phrase | encoded by |", "| --- | --- | --- |", *rows])
        assert table in doc, f"docs/urumqi.md: the phrase table of {p.id} should read:\n{table}"


def test_every_reading_referred_to_is_in_the_numbered_table():
    import re
    doc = (ROOT / "docs" / "urumqi.md").read_text()
    table = re.findall(r"^\| (\d+) \|", doc, re.M)
    assert table == [str(n) for n in range(1, len(table) + 1)]
    referred = set()
    for f in (ROOT / "policies" / "urumqi").glob("*.yaml"):
        referred |= {int(n) for n in re.findall(r"Readings? (\d+)", f.read_text())}
        referred |= {int(n) for n in re.findall(r"Readings \d+ and (\d+)", f.read_text())}
    assert referred == set(range(1, len(table) + 1))
    # and the generated pages show each of them, where the file makes the choice
    pages = "".join(f.read_text() for f in (ROOT / "docs" / "policies").glob("*.md"))
    shown = {int(n) for n in re.findall(r"Readings? (\d+)", pages)} | {int(n) for n in re.findall(r"Readings \d+ and (\d+)", pages)}
    assert shown == referred


def _explain(runner, facts, outcome, *extra):
    r = runner.invoke(cli, ["eval", str(ROOT / "policies" / "urumqi"), "--facts", str(facts), "--as-of", "2025-06-01",
                            "--params", str(ROOT / "examples" / "urumqi" / "average-salary.example.yaml"),
                            "--outcome", outcome, "--explain", *extra])
    return r


def test_every_tested_year_without_a_record_is_shown(runner, tmp_path):
    facts = tmp_path / "facts.yaml"
    facts.write_text(
        "works_in_urumqi: true\nurumqi_employment_start: 2019-09-01\nyears:\n"
        "  - {year: 2021, days_in_china: 200, salary: 650000, income_tax: 150000}\n"
        "  - {year: 2024, days_in_china: 200, salary: 650000, income_tax: 150000}\n")
    r = _explain(runner, facts, "urumqi.permanent-residence.permanent_residence")
    assert r.exit_code == 0, r.output
    assert ("      ✗ a record of days in China, salary and tax for each tested year (measure 1, phrase 3)\n"
            "        ✗ a record for 2022 (tested years without a record: [2022, 2023]) (measure 1, phrase 3)\n") in r.stdout


def test_two_records_for_one_year_are_named(runner, tmp_path):
    facts = tmp_path / "facts.yaml"
    facts.write_text(
        "works_in_urumqi: true\nurumqi_employment_start: 2019-09-01\nyears:\n"
        + "".join(f"  - {{year: {y}, days_in_china: 200, salary: 650000, income_tax: 150000}}\n"
                  for y in (2021, 2022, 2023, 2023, 2024, 2024)))
    r = _explain(runner, facts, "urumqi.permanent-residence.records_to_reconcile")
    assert r.exit_code == 0, r.output
    assert "    years = [2023, 2024]\n    decision = refer to an officer\n" in r.stdout


def test_the_known_minor_child_is_named_in_the_explanation(runner, tmp_path):
    facts = tmp_path / "facts.yaml"
    facts.write_text((ROOT / "examples" / "urumqi" / "qualifies.yaml").read_text().replace(
        "{name: Bek, birth_date: 2007-01-01, married: false}", "{name: Bek, married: false}"))
    r = _explain(runner, facts, "urumqi.permanent-residence.children_permanent_residence")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(
        "as of 2025-06-01\n\n✓ applies  urumqi.permanent-residence / children_permanent_residence")
    assert "    children = unknown\n" in r.stdout
    assert "      ✓ Aru: born by the application date, under 18 and unmarried (measure 1, phrase 8)\n" in r.stdout
    assert "    missing: children[1].birth_date\n" in r.stdout
