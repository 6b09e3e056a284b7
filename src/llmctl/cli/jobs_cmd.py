"""`llmctl job list|show|render|history|check`: the job types, what each needs and carries,
the messages one would send, the versions of their work used, and whether every job's
templates, schemas and files are sound."""

import sys
from typing import Annotated

import typer

from llmctl.cli import completers
from llmctl.cli.output import emit_json, fields, table
from llmctl.cli.state import state
from llmctl.cli.vars_options import VarOpt, VarsFileOpt

app = typer.Typer(
    add_completion=False,
    help="Job types: what each needs (group, tier, capabilities, context) and carries (templates, vars).",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
JobArg = Annotated[str, typer.Argument(help="The job.", autocompletion=completers.complete_job)]
BookOpt = Annotated[
    str | None,
    typer.Option(
        "--book",
        "-b",
        help="Book whose values of the job's variables apply.",
        autocompletion=completers.complete_book,
    ),
]


@app.callback()
def _group() -> None:
    """Job types: what each needs (group, tier, capabilities, context) and carries (templates, vars)."""


@app.command("list")
def list_jobs(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the job types (bundled, and those of jobs.toml)."""
    from llmctl.prefs.jobs import load_jobs

    st = state(ctx)
    jobs = load_jobs(st.home, st.catalog().config)
    if as_json:
        emit_json([j.to_dict() for j in jobs.values()])
        return
    rows = [
        [
            j.name,
            j.group,
            j.tier or "-",
            ",".join(j.capabilities) or "-",
            j.min_context or "-",
            j.origin + (f" (patched: {', '.join(j.patched)})" if j.patched else ""),
        ]
        for j in jobs.values()
    ]
    table(["JOB", "GROUP", "TIER", "CAPABILITIES", "MIN CONTEXT", "FROM"], rows, numeric=("MIN CONTEXT",))


@app.command("show")
def show(ctx: typer.Context, job: JobArg, book: BookOpt = None, as_json: JsonOpt = False) -> None:
    """Show what a job needs and carries (templates, vars, params, schema), and where each comes from."""
    from llmctl.compose.report import job_report
    from llmctl.prefs.books import load_book
    from llmctl.prefs.config import load_config
    from llmctl.prefs.jobs import get_job, load_jobs

    home = state(ctx).home
    config = load_config(home)
    found = get_job(load_jobs(home, config), job)
    report = job_report(found, home=home, book=load_book(home, book, config.extra_groups) if book else None)
    if as_json:
        emit_json(report)
        return
    needs = report["needs"]
    pairs = [
        ("job", report["job"]),
        ("description", report["description"] or "-"),
        ("group", f"{report['group']['value']}  ({report['group']['from']})"),
        (
            "needs",
            f"tier {needs['tier'] or '-'}, capabilities {','.join(needs['capabilities']) or '-'}, "
            f"min context {needs['min_context'] or '-'}  ({needs['from']})",
        ),
        ("output", f"{report['output']['value']}  ({report['output']['from']})"),
    ]
    pairs += [(f"param {k}", f"{v['value']}  ({v['from']})") for k, v in report["params"].items()]
    for name, var in report["vars"].items():
        shown = "(required)" if var["source"] is None else f"{var['value']!r}  ({var['source']})"
        pairs.append((f"var {name}", shown + ("  [file]" if var["file"] else "")))
    if report["schema"] is not None:
        pairs.append(("schema", f"({report['schema']['from']})"))
    pairs.append(("template hash", report["template_hash"] or "-"))
    fields(pairs)
    for part, section in (("system", report["system"]), ("prompt", report["prompt"])):
        if section is not None:
            sys.stdout.write(f"--- {part} ({section['from']}) ---\n")
            _write(section["text"])


@app.command("render")
def render(
    ctx: typer.Context,
    job: JobArg,
    text: Annotated[
        str | None, typer.Argument(help="The input ({{ input }}); '-' or absent reads stdin.")
    ] = None,
    book: BookOpt = None,
    var: VarOpt = None,
    vars_file: VarsFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the messages the job would send for TEXT (or stdin), nothing sent."""
    from llmctl.cli.vars_options import given_vars, prompt_text
    from llmctl.compose.api import render_named

    given = given_vars(var, vars_file)
    rendered = render_named(job, book=book, given=given, input=prompt_text(text, var), home=state(ctx).home)
    if as_json:
        emit_json(rendered.to_dict())
        return
    for message in rendered.messages:
        sys.stdout.write(f"--- {message['role']} ---\n")
        _write(message["content"])


@app.command("history")
def history(ctx: typer.Context, job: JobArg, as_json: JsonOpt = False) -> None:
    """Each version of a job's work seen in the usage store: hash, first and last use,
    requests, failures, cost."""
    from llmctl.cli.output import money
    from llmctl.engine.reports import template_history
    from llmctl.engine.usage import UsageStore
    from llmctl.prefs.config import load_config
    from llmctl.prefs.jobs import get_job, load_jobs

    home = state(ctx).home
    name = get_job(load_jobs(home, load_config(home)), job).name
    versions = template_history(UsageStore.for_home(home), name)
    if as_json:
        emit_json({"job": name, "versions": versions})
        return
    rows = [
        [v["template_hash"], v["first_used"], v["last_used"], v["requests"], v["failures"], money(v["cost"])]
        for v in versions
    ]
    table(
        ["TEMPLATE", "FIRST USED", "LAST USED", "REQUESTS", "FAILURES", "COST $"],
        rows,
        numeric=("REQUESTS", "FAILURES", "COST $"),
        footer=None if rows else f"no requests of job {name!r} with a template recorded",
    )


@app.command("check")
def check(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Check every job's templates, schema and files, and the books' job values (exit 3 on a problem)."""
    from llmctl.compose.check import check_jobs

    count, problems = check_jobs(state(ctx).home)
    if as_json:
        emit_json({"jobs": count, "problems": problems})
    elif problems:
        for problem in problems:
            print(f"llmctl: error: {problem}", file=sys.stderr)
    else:
        print(f"ok  {count} jobs")
    if problems:
        raise typer.Exit(3)


def _write(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
