"""The `policy` command: validate and evaluate policies. The only place that prints or picks exit codes."""
from __future__ import annotations

import datetime as _dt
import os
import sys

import click

from .diagnostics import Diagnostic, Span, has_errors
from .engine import load
from .facts import read_facts_file, read_facts_text
from .loader import decode_text
from .render import (SourceCache, diagnostics_summary, render_diagnostics_github, render_diagnostics_text,
                     render_evaluation_text, to_json, use_color)

EXIT_OK, EXIT_FINDING, EXIT_USAGE = 0, 1, 2


class DateType(click.ParamType):
    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, _dt.date):
            return value
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"`{value}` is not a date written YYYY-MM-DD (and existing)", param, ctx)


def _emit_diagnostics(diags: list[Diagnostic], fmt: str, sources: SourceCache, extra: dict | None = None):
    if fmt == "json":
        doc = {"diagnostics": [d.to_dict() for d in diags],
               "errors": sum(1 for d in diags if d.is_error),
               "warnings": sum(1 for d in diags if not d.is_error)}
        doc.update(extra or {})
        click.echo(to_json(doc))
    elif fmt == "github":
        if diags:
            click.echo(render_diagnostics_github(diags))
    else:
        err = sys.stderr
        if diags:
            click.echo(render_diagnostics_text(diags, sources, use_color(err)), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="policy-interpreter", prog_name="policy")
def cli():
    """Check and evaluate policies written as YAML files.

    Exit codes: 0 success, 1 a finding (invalid policy, bad facts, failing
    evaluation), 2 a usage error.
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
              help="text for people (on stderr), json or github workflow annotations for machines (on stdout).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(paths, fmt, strict):
    """Check policy files and directories (recursively) without evaluating anything."""
    result = load(paths)
    diags = result.diagnostics
    failed = has_errors(diags) or (strict and bool(diags))
    n_files = len(result.policy_set.files) if result.policy_set else None
    _emit_diagnostics(diags, fmt, SourceCache(), {"ok": not failed})
    if fmt == "text":
        what = f"{n_files} file{'s' if n_files != 1 else ''}" if n_files is not None else "policies"
        click.echo(f"checked {what}: {diagnostics_summary(diags)}", err=True)
    sys.exit(EXIT_FINDING if failed else EXIT_OK)


@cli.command("eval")
@click.argument("policies", nargs=-1, required=True, type=click.Path())
@click.option("--facts", "facts_path", required=True, metavar="FILE",
              help="Facts as YAML or JSON; - reads standard input.")
@click.option("--as-of", "as_of", type=DateType(), default=None, help="Evaluation date (default: today).")
@click.option("--outcome", "outcomes", multiple=True, metavar="ID",
              help="Only this outcome: `policy.id`, `policy.id.outcome` or an outcome name. Repeatable.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--params", "params_path", metavar="FILE", default=None,
              help="YAML {policy id: {parameter: value or table}} overriding parameter values for this run.")
@click.option("--explain", is_flag=True, help="Show every rule and condition visited, with its values.")
def eval_(policies, facts_path, as_of, outcomes, fmt, params_path, explain):
    """Decide the outcomes of POLICIES for one applicant's facts."""
    sources = SourceCache()
    result = load(policies)
    if not result.ok:
        errors = [d for d in result.diagnostics if d.is_error]
        _emit_diagnostics(errors, "json" if fmt == "json" else "text", sources)
        sys.exit(EXIT_FINDING)
    pset = result.policy_set
    if params_path is not None:
        raw_params, params_loc, diags = read_facts_file(params_path)
        if raw_params is not None and not has_errors(diags):
            pset, diags = pset.with_params(raw_params, params_loc, params_path)
        if has_errors(diags) or raw_params is None and diags:
            _emit_diagnostics([d for d in diags if d.is_error], "json" if fmt == "json" else "text", sources)
            sys.exit(EXIT_FINDING)
    if facts_path == "-":
        text, diags = decode_text(sys.stdin.buffer.read(), "<stdin>")
        raw, locator = None, None
        if text is not None:
            sources.texts["<stdin>"] = text
            raw, locator, diags = read_facts_text(text, "<stdin>")
    else:
        raw, locator, diags = read_facts_file(facts_path)
    if raw is None or has_errors(diags):
        _emit_diagnostics([d for d in diags if d.is_error] or [
            Diagnostic("facts-unreadable", "cannot read the facts", Span.point(facts_path, 1, 1))],
            "json" if fmt == "json" else "text", sources)
        sys.exit(EXIT_FINDING)
    facts, diags = pset.check_facts(raw, locator, "<stdin>" if facts_path == "-" else facts_path)
    if has_errors(diags):
        _emit_diagnostics(diags, "json" if fmt == "json" else "text", sources)
        sys.exit(EXIT_FINDING)
    selection = None
    if outcomes:
        selection, unknown = pset.select(outcomes)
        if unknown:
            names = ", ".join(f"{p}.{o}" for p, o in pset.outcome_names())
            raise click.UsageError(f"no outcome matches `{unknown[0]}`; outcomes are: {names}")
    evaluation = pset.evaluate(facts, as_of, selection, trace=True)
    if fmt == "json":
        click.echo(to_json(evaluation.to_dict(trace=True)))
    else:
        click.echo(render_evaluation_text(evaluation, explain=explain, color=use_color(sys.stdout)), nl=False)
    sys.exit(EXIT_FINDING if any(r.status == "error" for r in evaluation.results) else EXIT_OK)


@cli.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--junit", "junit_path", metavar="FILE", default=None, help="Also write a JUnit XML report to FILE.")
@click.option("--coverage", is_flag=True, help="Report, per policy, the conditions never seen true or never seen false.")
@click.option("--min-coverage", type=click.FloatRange(0, 100), default=None, metavar="N",
              help="Fail when a policy's condition coverage is below N percent (implies --coverage).")
def test_(paths, junit_path, coverage, min_coverage):
    """Run test files (*.test.yaml) found under PATHS and compare the decisions."""
    from .testing import run_tests
    from .render import render_junit, render_test_run_text
    coverage = coverage or min_coverage is not None
    run = run_tests(paths, coverage=coverage)
    diags = run.all_diagnostics
    if diags:
        click.echo(render_diagnostics_text(diags, SourceCache(), use_color(sys.stderr)), err=True)
    click.echo(render_test_run_text(run, coverage, use_color(sys.stdout)), nl=False)
    failed = not run.ok
    if min_coverage is not None:
        for pid, covered, total, _ in run.coverage.summary():
            share = 100.0 if total == 0 else 100.0 * covered / total
            if share < min_coverage:
                click.echo(f"coverage of {pid} is {share:.1f}%, below the minimum of {min_coverage:g}%", err=True)
                failed = True
    if junit_path:
        try:
            with open(junit_path, "w", encoding="utf-8") as fh:
                fh.write(render_junit(run))
        except OSError as e:
            click.echo(f"policy: cannot write `{junit_path}`: {(e.strerror or 'error').lower()}", err=True)
            sys.exit(EXIT_FINDING)
    sys.exit(EXIT_FINDING if failed else EXIT_OK)


def main():
    """Entry point of the `policy` console script."""
    try:
        cli.main(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as e:  # a bug: say so plainly, without a traceback (POLICY_DEBUG=1 shows it)
        if os.environ.get("POLICY_DEBUG"):
            raise
        click.echo(f"policy: internal error: {e}; please report it with the command that caused it "
                   "(set POLICY_DEBUG=1 to see details)", err=True)
        sys.exit(EXIT_FINDING)


if __name__ == "__main__":
    main()
