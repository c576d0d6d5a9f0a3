"""`policy docs`: the source text split into phrases, each linked to what cites it, and back."""
import textwrap

from interpreter.cli import cli

NATIONAL = textwrap.dedent("""\
    id: demo.national
    title: National pension age
    source:
      document: National act
      text: The pension age is 65. Disabled people retire at 60.
      phrases:
        act art. 2: The pension age is 65.
        act art. 3: Disabled people retire at 60.
    inputs:
      disabled: boolean
    rules:
      pension_age:
        label: the pension age
        cite: act art. 2
        value: 65
    outcomes:
      disabled_pension:
        label: a disabled person may retire at 60
        cite: act art. 3
        when: disabled
    """)

CITY = textwrap.dedent("""\
    id: demo.city
    title: City amendment
    source:
      document: City measures
      text: Miners retire at 55. The city pays a top-up.
      phrases:
        city measure 7: Miners retire at 55.
        city measure 8: The city pays a top-up.
    uses:
      national: demo.national
    inputs:
      miner: boolean
    amendments:
      national.pension_age:
        - label: miners retire at 55
          cite: city measure 7
          when: miner
          value: 55
    outcomes:
      top_up:
        label: receives the top-up
        cite: city rule 9
        when: miner
    """)


def _pages(runner, tmp_path):
    src = tmp_path / "set"
    src.mkdir()
    (src / "national.yaml").write_text(NATIONAL)
    (src / "city.yaml").write_text(CITY)
    out = tmp_path / "out"
    r = runner.invoke(cli, ["validate", "--strict", str(src)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["docs", str(src), "--out", str(out)])
    assert r.exit_code == 0, r.output
    return (out / "demo-national.md").read_text(), (out / "demo-city.md").read_text()


def test_each_phrase_lists_what_cites_it_from_any_policy(runner, tmp_path):
    national, city = _pages(runner, tmp_path)
    assert "| citation | phrase | encoded by |" in national
    assert '| <a id="act-art-2"></a>act art. 2 | The pension age is 65. | rule `pension_age` |' in national
    assert '| <a id="act-art-3"></a>act art. 3 | Disabled people retire at 60. | outcome `disabled_pension` |' in national
    assert ('| <a id="city-measure-7"></a>city measure 7 | Miners retire at 55. | '
            "an exception added to `national.pension_age` |") in city
    assert '| <a id="city-measure-8"></a>city measure 8 | The city pays a top-up. | nothing: not encoded |' in city


def test_a_citation_links_to_its_phrase_on_the_page_that_quotes_it(runner, tmp_path):
    national, city = _pages(runner, tmp_path)
    assert "- **the pension age** ([act art. 2](#act-art-2)) — `pension_age`" in national
    assert "### a person may retire" not in national
    assert "### a disabled person may retire at 60 ([act art. 3](#act-art-3))" in national
    # the city's exception, shown on the national page, links to the city's page
    assert ("exception, added by `demo.city`: miners retire at 55 "
            "([city measure 7](demo-city.md#city-measure-7))") in national
    assert "- to `national.pension_age`: miners retire at 55 ([city measure 7](#city-measure-7))" in city
    # a citation that no policy quotes stays plain text
    assert "### receives the top-up (city rule 9)" in city


def test_phrases_must_be_text(runner, tmp_path):
    src = tmp_path / "set"
    src.mkdir()
    (src / "national.yaml").write_text(NATIONAL.replace("act art. 3: Disabled people retire at 60.", "act art. 3: 60"))
    r = runner.invoke(cli, ["validate", str(src)])
    assert r.exit_code == 1
    assert "national.yaml:8:17: error[schema-type]: `act art. 3` must be a string, not a number" in r.output
