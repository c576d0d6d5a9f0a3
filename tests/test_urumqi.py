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
