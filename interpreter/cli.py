"""The `policy` command: validate and evaluate policies. The only place that prints or picks exit codes."""
from __future__ import annotations

import datetime as _dt
import errno
import os
import sys
from pathlib import Path

import click

from .diagnostics import Diagnostic, Span, cap_per_file, has_errors
from .limits import LIMITS
from .engine import load
from .facts import read_facts_file, read_facts_text, read_stdin
from .safetext import printable
from .sources import parse_iso_date
from .render import (SourceCache, render_result_text, diagnostics_summary, render_diagnostics_github, render_diagnostics_text,
                     render_evaluation_text, to_json, use_color)

EXIT_OK, EXIT_FINDING, EXIT_TROUBLE = 0, 1, 2


class Finding(click.ClickException):
    """Exit code 1: a finding. Its message, if any, is shown as `policy: message`; without one, the
    diagnostics or lines already written say what was found."""

    exit_code = EXIT_FINDING

    def __init__(self, message: str = ""):
        super().__init__(message)

    def show(self, file=None) -> None:
        if self.message:
            click.echo(f"policy: {self.message}", err=True)


class Trouble(Finding):
    """Exit code 2 where a command keeps 1 for what it found (`policy diff`: decisions differ): what it
    compares cannot be read, or its report cannot be written. Shown as `policy: message`."""

    exit_code = EXIT_TROUBLE


class CannotWrite(Finding):
    """A file or folder the command was asked to write cannot be written (exit code 1, or `exit_code`)."""

    def __init__(self, path: str, error: OSError, into: bool = False, exit_code: int = EXIT_FINDING):
        super().__init__(f"cannot write {'to ' if into else ''}`{printable(str(path))}`: "
                         f"{(error.strerror or 'error').lower()}")
        self.exit_code = exit_code


def _done(failed: bool = False):
    """End the command: exit code 1 when something was found, else 0."""
    raise click.exceptions.Exit(EXIT_FINDING if failed else EXIT_OK)

# The end of each command's --help: its exit codes and how dates are written (docs/cli.md shows the same).
_DATES = "Dates are written YYYY-MM-DD, e.g. 2024-06-01"
EPILOGS = {
    "validate": ["0    no errors (warnings are allowed)", "1    at least one error; with --strict, at least one warning",
                 "2    usage error", f"{_DATES} (in_force, steps, as_of of test cases)."],
    "eval": ["0    evaluated, and no outcome (no record of a caseload) has an error",
             "1    invalid policies, facts or parameters, or an outcome or record", "     with an error",
             "2    usage error", "130  interrupted (Ctrl-C)", f"{_DATES} (--as-of, facts, as_of of a case)."],
    "test": ["0    every case passed, and coverage is at least --min-coverage",
             "1    a case failed, a test file or its policies have errors, or", "     coverage is below --min-coverage",
             "2    usage error", f"{_DATES} (as_of and facts of the cases)."],
    "ask": ["0    the interview ended: every outcome decided, or no more answers",
            "1    invalid policies, parameters or starting facts", "2    usage error",
            "130  interrupted (Ctrl-C); with --save, the answers so far are saved", f"{_DATES} (--as-of, answers)."],
    "diff": ["0    no decision differs", "1    a decision differs: a case of the caseload, or without one, a",
             "     change that can change a decision", "2    usage error, or policies, parameters, a caseload or a git revision",
             "     that cannot be read", "130  interrupted (Ctrl-C)", f"{_DATES} (--as-of, facts of the caseload)."],
    "docs": ["0    pages written, or with --check, the pages are up to date",
             "1    invalid policies, stale pages (--check), or a page cannot be written", "2    usage error",
             f"{_DATES} (in the policy files)."],
}


def _epilog(command: str) -> str:
    return "\b\nExit codes:\n" + "\n".join("  " + line for line in EPILOGS[command][:-1]) + "\n\n" + EPILOGS[command][-1]


class DateType(click.ParamType):
    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, _dt.date):
            return value
        parsed = parse_iso_date(value)
        if parsed is None:
            self.fail(f"`{value}` is not a date that exists, written YYYY-MM-DD", param, ctx)
        return parsed


def _emit_diagnostics(diags: list[Diagnostic], fmt: str, sources: SourceCache, extra: dict | None = None):
    errors = sum(1 for d in diags if d.is_error)
    warnings = len(diags) - errors
    diags = cap_per_file(diags, LIMITS.diagnostics_per_file)
    if fmt == "json":
        doc = {"diagnostics": [d.to_dict() for d in diags], "errors": errors, "warnings": warnings}
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
    evaluation), 2 a usage error, 130 interrupted (Ctrl-C). Dates are written
    YYYY-MM-DD, e.g. 2024-06-01. `policy COMMAND --help` tells more.
    """


@cli.command(epilog=_epilog("validate"))
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
              help="text for people (on stderr), json or github workflow annotations for machines (on stdout).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--follow-outside", is_flag=True,
              help="Read files that symbolic links (or a test file's `policies:`) lead to outside the tree being checked.")
def validate(paths, fmt, strict, follow_outside):
    """Check policy files and directories (recursively) without evaluating anything.

    Test files (*.test.yaml) under the directories, or named, are checked too:
    their dates, facts and expected outcomes, against the policies they name.
    """
    from .testing import TEST_SUFFIXES, check_test_files
    from .diagnostics import sort_diagnostics
    policy_paths = [p for p in paths if not str(p).endswith(TEST_SUFFIXES)]
    result = load(policy_paths, follow_outside) if policy_paths else None
    test_files, test_diags = check_test_files(paths, follow_outside=follow_outside)
    diags = sort_diagnostics((result.diagnostics if result else []) + test_diags)
    failed = has_errors(diags) or (strict and bool(diags))
    n_files = len(result.files if result else []) + len(test_files)
    strict_codes = list(dict.fromkeys(d.code for d in diags if not d.is_error)) if strict and not has_errors(diags) else []
    _emit_diagnostics(diags, fmt, SourceCache(), {"ok": not failed, **({"failed_by": strict_codes} if strict_codes else {})})
    if fmt == "text":
        click.echo(f"checked {n_files} file{'s' if n_files != 1 else ''}: {diagnostics_summary(diags)}", err=True)
        if strict_codes:
            n = sum(1 for d in diags if not d.is_error)
            click.echo(f"--strict: {'this warning fails' if n == 1 else f'these {n} warnings fail'} the run: "
                       + ", ".join(strict_codes), err=True)
    _done(failed)


@cli.command("eval", epilog=_epilog("eval"))
@click.argument("policies", nargs=-1, required=True, type=click.Path())
@click.option("--facts", "facts_path", required=True, metavar="FILE",
              help="Facts as YAML or JSON; - reads standard input.")
@click.option("--as-of", "as_of", type=DateType(), default=None, help="Evaluation date, YYYY-MM-DD (default: today).")
@click.option("--outcome", "outcomes", multiple=True, metavar="ID",
              help="Only this outcome: `policy.id`, `policy.id.outcome` or an outcome name. Repeatable.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--params", "params_path", metavar="FILE", default=None,
              help="YAML {policy id: {parameter: value or table}} overriding parameter values for this run.")
@click.option("--explain", is_flag=True, help="Show every rule and condition visited, with its values.")
@click.option("--out", "out_path", metavar="FILE", default=None,
              help="Batch: write the result lines to FILE instead of standard output.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Batch: evaluate in N processes (output order is kept).")
@click.option("--resume", is_flag=True, help="Batch: continue an interrupted run into the same --out file.")
@click.option("--follow-outside", is_flag=True,
              help="Read files that symbolic links (or a test file's `policies:`) lead to outside the tree being checked.")
def eval_(policies, facts_path, as_of, outcomes, fmt, params_path, explain, out_path, jobs, resume, follow_outside):
    """Decide the outcomes of POLICIES for one applicant's facts, or for a caseload.

    FILE is one facts document (YAML or JSON), or a caseload: JSON Lines
    (.jsonl, one case a line), CSV (.csv, one case a row, columns named by
    fact path) or a directory of facts files. A caseload gives one JSON result
    line per case, in input order.
    """
    from .batch import batch_kind
    pset, selection, sources = _load_for_cases(policies, params_path, outcomes, fmt, follow_outside)
    kind = batch_kind(facts_path)
    if kind is not None:
        _eval_batch(pset, facts_path, kind, as_of, selection, explain, out_path, jobs, resume,
                    (list(policies), params_path, as_of, list(outcomes), explain))
        return
    if out_path or resume or jobs != 1:
        raise click.UsageError("--out, --jobs and --resume are for caseloads (.jsonl, .csv or a directory of facts files)")
    if facts_path == "-":
        text, diags = read_stdin()
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
        raise Finding()
    facts, diags = pset.check_facts(raw, locator, "<stdin>" if facts_path == "-" else facts_path)
    if has_errors(diags):
        _emit_diagnostics(diags, "json" if fmt == "json" else "text", sources)
        raise Finding()
    evaluation = pset.evaluate(facts, as_of, selection, trace=True)
    if fmt == "json":
        click.echo(to_json(evaluation.to_dict(trace=True)))
    else:
        click.echo(render_evaluation_text(evaluation, explain=explain, color=use_color(sys.stdout)), nl=False)
    _done(any(r.status == "error" or any(d.is_error for d in r.diagnostics) for r in evaluation.results))


@cli.command(epilog=_epilog("ask"))
@click.argument("policies", nargs=-1, required=True, type=click.Path())
@click.option("--facts", "facts_path", metavar="FILE", default=None, help="Start from the facts in FILE.")
@click.option("--as-of", "as_of", type=DateType(), default=None, help="Evaluation date, YYYY-MM-DD (default: today).")
@click.option("--outcome", "outcomes", multiple=True, metavar="ID", help="Only this outcome (repeatable), as for eval.")
@click.option("--params", "params_path", metavar="FILE", default=None, help="Parameter overrides, as for eval.")
@click.option("--save", "save_path", metavar="FILE", default=None, help="Save the facts gathered as a facts file.")
@click.option("--follow-outside", is_flag=True,
              help="Read files that symbolic links (or a test file's `policies:`) lead to outside the tree being checked.")
def ask(policies, facts_path, as_of, outcomes, params_path, save_path, follow_outside):
    """Interview: ask only the questions that can still change an outcome, most useful first.

    An empty answer means "don't know" (the fact stays unknown); Ctrl-D stops.
    Decisions are shown as soon as they are settled.
    """
    from .ask import Interview
    pset, selection, sources = _load_for_cases(policies, params_path, outcomes, "text", follow_outside)
    raw = {}
    if facts_path:
        raw_in, locator, diags = read_facts_file(facts_path)
        if raw_in is None or has_errors(diags):
            _emit_diagnostics([d for d in diags if d.is_error], "text", sources)
            raise Finding()
        _, diags = pset.check_facts(raw_in, locator, facts_path)
        if has_errors(diags):
            _emit_diagnostics(diags, "text", sources)
            raise Finding()
        raw = raw_in if isinstance(raw_in, dict) else {}
    color = use_color(sys.stdout)

    def read(prompt):
        click.echo(prompt, nl=False)
        line = sys.stdin.readline()
        return None if line == "" else line.rstrip("\r\n")

    def describe(r):
        return "\n".join(render_result_text(r, explain=False, color=color)[:1])

    interview = Interview(pset, raw, as_of, selection, read, click.echo, describe)
    try:
        interview.run()
    except KeyboardInterrupt:
        _save_answers(interview, save_path)
        click.echo("\ninterrupted" + ("; the answers so far are saved" if save_path else ""), err=True)
        raise click.exceptions.Exit(130) from None
    final = interview.evaluate(trace=True)
    click.echo("")
    click.echo(render_evaluation_text(final, explain=False, color=color), nl=False)
    if save_path:
        _save_answers(interview, save_path)
        click.echo(f"facts saved to {printable(save_path)}", err=True)
    _done()


def _save_answers(interview, save_path):
    from .ask import dump_facts
    if not save_path:
        return
    try:
        with open(save_path, "w", encoding="utf-8") as fh:
            fh.write(dump_facts(interview.raw))
    except OSError as e:
        raise CannotWrite(save_path, e) from None


@cli.command(epilog=_epilog("docs"))
@click.argument("policies", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out_dir", required=True, metavar="DIR", help="Directory to write the pages to.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the pages in DIR are not what would be written.")
@click.option("--follow-outside", is_flag=True,
              help="Read files that symbolic links (or a test file's `policies:`) lead to outside the tree being checked.")
def docs(policies, out_dir, check, follow_outside):
    """Write one Markdown page per policy, and an index, for people who never read YAML."""
    from .pages import render_pages
    pset, _, _ = _load_for_cases(policies, None, (), "text", follow_outside)
    pages = render_pages(pset)
    out = Path(out_dir)
    if check:
        stale = [name for name, text in pages.items()
                 if not (out / name).is_file() or (out / name).read_text(encoding="utf-8") != text]
        for name in stale:
            click.echo(printable(f"{out / name}: stale; run `policy docs {' '.join(policies)} --out {out_dir}`"), err=True)
        _done(bool(stale))
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in pages.items():
            _write_page(out / name, text)
    except OSError as e:
        where = e.filename if isinstance(e.filename, str) else out_dir
        if e.errno == errno.ELOOP:  # O_NOFOLLOW met a symbolic link planted where a page goes
            raise Finding(f"`{printable(where)}` is a symbolic link; pages are not written through links") from None
        raise CannotWrite(where, e, into=True) from None
    click.echo(f"wrote {len(pages)} pages to {out_dir}", err=True)
    _done()


def _write_page(path: Path, text: str):
    """Write a page without following a symbolic link in its place (its target is left untouched)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _load_for_cases(policies, params_path, outcomes, fmt, follow_outside=False):
    """Load and check the policies, apply --params, resolve --outcome; exits with diagnostics on failure."""
    sources = SourceCache()
    result = load(policies, follow_outside)
    if not result.ok:
        _emit_diagnostics([d for d in result.diagnostics if d.is_error], "json" if fmt == "json" else "text", sources)
        raise Finding()
    pset = result.policy_set
    if params_path is not None:
        raw_params, params_loc, diags = read_facts_file(params_path)
        if raw_params is not None and not has_errors(diags):
            pset, diags = pset.with_params(raw_params, params_loc, params_path)
        if has_errors(diags):
            _emit_diagnostics([d for d in diags if d.is_error], "json" if fmt == "json" else "text", sources)
            raise Finding()
    selection = None
    if outcomes:
        selection, unknown = pset.select(outcomes)
        if unknown:
            import difflib
            full = [f"{p}.{o}" for p, o in pset.outcome_names()]
            hint = difflib.get_close_matches(unknown[0], full + [o for _, o in pset.outcome_names()], n=1)
            guess = f"did you mean `{hint[0]}`? " if hint else ""
            raise click.UsageError(printable(f"no outcome matches `{unknown[0]}`; {guess}outcomes are: {', '.join(full)}"))
    return pset, selection, sources


def _eval_batch(pset, facts_path, kind, as_of, selection, explain, out_path, jobs, resume, worker_args):
    from .batch import WorkerFailure, read_records, run_batch
    from .runfile import OutputError, RunFileError, StdOut, fingerprint, open_out, same_file_problem
    from .progress import BatchProgress, count_cases
    from contextlib import nullcontext
    if resume and not out_path:
        raise click.UsageError("--resume needs --out FILE")
    kept = None
    if out_path:
        problem = same_file_problem(out_path, facts_path, kind)
        if problem:
            raise click.UsageError(printable(problem))
        policies, params_path, _, outcomes, _ = worker_args
        print_ = fingerprint(pset.files, params_path, as_of or _dt.date.today(), outcomes, explain, facts_path, kind)
        try:
            out, kept = open_out(out_path, print_, resume)
        except RunFileError as e:
            raise click.UsageError(printable(str(e))) from None
        except OSError as e:
            raise CannotWrite(out_path, e) from None
    else:
        out = StdOut(sys.stdout)
    skip = kept.count if kept else 0
    progress = None
    if sys.stderr.isatty():  # on a terminal only: nothing is written to a pipe or a file
        total = count_cases(facts_path, kind)
        progress = BatchProgress(None if total is None else max(total - skip, 0), sys.stderr)
    try:
        try:
            records = read_records(facts_path, kind, pset.inputs, parse_lines=jobs == 1)
            with progress or nullcontext():
                summary = run_batch(pset, records, out, as_of=as_of, selection=selection, explain=explain, jobs=jobs,
                                    skip=skip, progress=progress, worker_args=worker_args)
        finally:
            out.close()
    except OutputError as e:
        raise Finding(printable(str(e))) from None
    except OSError as e:
        raise Finding(f"cannot read `{printable(facts_path)}`: {(e.strerror or 'error').lower()}") from None
    except WorkerFailure as e:
        resume_hint = "; the result lines written are complete: --resume carries on from them" if out_path else ""
        raise Finding(f"{e}{resume_hint}") from None
    if skip:  # the summary covers the whole file: the lines kept count too
        click.echo(f"resumed after {skip} cases already in {printable(out_path)}; {summary.cases} evaluated now",
                   err=True)
        kept.summary.merge(summary)
        summary = kept.summary
    click.echo(summary.render(), err=True)
    _done(bool(summary.bad))


@cli.command("diff", epilog=_epilog("diff"))
@click.argument("policies", nargs=-1, required=True, type=click.Path())
@click.option("--against", "against", metavar="REV", default=None,
              help="Compare POLICIES with the same path at git revision REV (read with git, nothing checked out).")
@click.option("--facts", "facts_path", metavar="CASELOAD", default=None,
              help="Decide every case with both versions: JSON Lines, CSV or a directory of facts files.")
@click.option("--as-of", "as_of", type=DateType(), default=None, help="Evaluation date, YYYY-MM-DD (default: today).")
@click.option("--params", "params_path", metavar="FILE", default=None, help="Parameter overrides for both versions.")
@click.option("--outcome", "outcomes", multiple=True, metavar="ID", help="Only this outcome (repeatable), as for eval.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--out", "out_path", metavar="FILE", default=None, help="Write the report to FILE instead of standard output.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="With a caseload: decide the cases in N processes.")
@click.option("--follow-outside", is_flag=True,
              help="Read files that symbolic links lead to outside the tree being checked.")
def diff_(policies, against, facts_path, as_of, params_path, outcomes, fmt, out_path, jobs, follow_outside):
    """What changing the policies OLD into NEW does: `policy diff OLD NEW`, or `policy diff NEW --against REV`.

    Shows the static changes, then either the decisions that change over a
    caseload (--facts) or, without one, the boundary cases that tell the two
    versions apart.
    """
    from . import diff as D
    from .batch import WorkerFailure, batch_kind, read_records
    import tempfile
    if len(policies) != (1 if against else 2):
        raise click.UsageError("give OLD and NEW policy directories, or one directory and --against REV")
    if facts_path is not None and batch_kind(facts_path) is None:
        raise click.UsageError(printable(f"--facts takes a caseload (.jsonl, .csv or a directory of facts files), not `{facts_path}`"))
    if jobs != 1 and facts_path is None:
        raise click.UsageError("--jobs is for a caseload (--facts)")
    with tempfile.TemporaryDirectory(prefix="policy-diff-") as tmp:
        if against:
            try:
                old_path = D.files_at_revision(policies[0], against, tmp)
            except D.GitFailure as e:
                raise Trouble(printable(f"cannot read `{policies[0]}` at `{against}`: {e}")) from None
            paths = ([old_path], [policies[0]])
            names = (f"{against}:{policies[0]}", policies[0])
        else:
            paths, names = ([policies[0]], [policies[1]]), (policies[0], policies[1])
        sets = []
        for side, p, name in zip(("old", "new"), paths, names):
            try:
                sets.append(_load_for_cases(p, params_path, (), fmt, follow_outside))
            except Finding:  # the diagnostics are out; unreadable policies are trouble, not a finding
                raise Trouble(printable(f"the {side} version (`{name}`) cannot be loaded")) from None
        (old, _, _), (new, _, _) = sets
        if outcomes:
            unknown = [s for s in outcomes if s in old.select([s])[1] and s in new.select([s])[1]]
            if unknown:
                raise click.UsageError(printable(f"no outcome matches `{unknown[0]}` in either version"))
        as_of = as_of or _dt.date.today()
        impact = None
        if facts_path is not None:
            inputs = {**old.inputs, **new.inputs}
            try:
                records = read_records(facts_path, batch_kind(facts_path), inputs, parse_lines=jobs == 1)
                impact = D.run_impact(old, new, records, as_of=as_of, selectors=outcomes, jobs=jobs,
                                      load_args=(paths[0], paths[1], params_path, as_of, list(outcomes)))
            except OSError as e:
                raise Trouble(f"cannot read `{printable(facts_path)}`: {(e.strerror or 'error').lower()}") from None
            except WorkerFailure as e:
                raise Trouble(printable(str(e))) from None
        doc = D.diff_document(names[0], names[1], old, new, as_of=as_of, caseload=facts_path, impact=impact,
                              selectors=outcomes)
    text = to_json(doc) + "\n" if fmt == "json" else D.render_markdown(doc) if fmt == "markdown" else D.render_text(doc)
    if out_path:
        try:
            with open(out_path, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as e:
            raise CannotWrite(out_path, e, exit_code=EXIT_TROUBLE) from None
    else:
        click.echo(text, nl=False)
    _done(doc["decisions_differ"])


@cli.command("test", epilog=_epilog("test"))
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--junit", "junit_path", metavar="FILE", default=None, help="Also write a JUnit XML report to FILE.")
@click.option("--coverage", is_flag=True, help="Report, per policy, the conditions never seen true or never seen false.")
@click.option("--min-coverage", type=click.FloatRange(0, 100), default=None, metavar="N",
              help="Fail when a policy's condition coverage is below N percent (implies --coverage).")
@click.option("--follow-outside", is_flag=True,
              help="Read files that symbolic links (or a test file's `policies:`) lead to outside the tree being checked.")
def test_(paths, junit_path, coverage, min_coverage, follow_outside):
    """Run test files (*.test.yaml) found under PATHS and compare the decisions."""
    from .testing import run_tests
    from .render import render_junit, render_test_run_text
    coverage = coverage or min_coverage is not None
    run = run_tests(paths, coverage=coverage, follow_outside=follow_outside)
    diags = run.all_diagnostics
    if diags:
        click.echo(render_diagnostics_text(cap_per_file(diags, LIMITS.diagnostics_per_file), SourceCache(),
                                           use_color(sys.stderr)), err=True)
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
            raise CannotWrite(junit_path, e) from None
    _done(failed)


def main():
    """Entry point of the `policy` console script."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))  # limits are checked; this is headroom
    try:
        # Not standalone: click would turn Ctrl-C into "Aborted!" and exit code 1.
        code = cli.main(prog_name="policy", standalone_mode=False)
    except click.ClickException as e:  # a usage error: click's message and exit code (2)
        e.show()
        sys.exit(e.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt) as e:  # click's Abort stands for Ctrl-C, or for an end
        if isinstance(e, click.exceptions.Abort) and not isinstance(e.__cause__, KeyboardInterrupt):  # of input
            click.echo("Aborted!", err=True)
            sys.exit(EXIT_FINDING)
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as e:  # a bug: say so plainly, without a traceback (POLICY_DEBUG=1 shows it)
        if os.environ.get("POLICY_DEBUG"):
            raise
        click.echo(f"policy: internal error: {e}; please report it with the command that caused it "
                   "(set POLICY_DEBUG=1 to see details)", err=True)
        sys.exit(EXIT_FINDING)
    sys.exit(code if isinstance(code, int) else EXIT_OK)  # `--help` and the like give 0


if __name__ == "__main__":
    main()
