"""The options shared by the commands, declared once: the selection options of `pick` and
the commands that send prompts, and the sending options of `prompt`, `batch` and
`compare` (each a field of `engine.options.SendOptions`)."""

import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from llmctl.cli import completers
from llmctl.cli.input import time_limit_option

_OPTIONS: list[tuple[str, Any, tuple[str, ...], str, Any]] = [
    ("book", str | None, ("--book", "-b"), "Book whose preferences apply.", completers.complete_book),
    (
        "job",
        str | None,
        ("--job", "-j"),
        "Job type (gives the group, tier, capabilities).",
        completers.complete_job,
    ),
    ("group", str | None, ("--group", "-g"), "Group the LLM must be valid for.", completers.complete_group),
    ("llm", str | None, ("--llm",), "Use this LLM (the job's own choice, rule 2).", completers.complete_llm),
    (
        "prop",
        list[str] | None,
        ("--prop",),
        "Job prop KEY=VALUE (llm_id, min_context, prompt_tokens, capabilities).",
        None,
    ),
    ("tier", str | None, ("--tier",), "economy, standard, premium or local.", completers.complete_tier),
    (
        "strategy",
        str | None,
        ("--strategy",),
        "quality, cheapest, fastest or priority.",
        completers.complete_strategy,
    ),
    ("scope", str | None, ("--scope",), "Scope whose default LLM applies (default: global).", None),
    ("max_attempts", int | None, ("--max-attempts",), "Length of the fallback chain (default 3).", None),
    (
        "provider",
        str | None,
        ("--provider",),
        "Only LLMs served by this provider.",
        completers.complete_provider,
    ),
    (
        "deployment",
        str | None,
        ("--deployment",),
        "With --llm: send through this one of its deployments.",
        None,
    ),
    (
        "prefer_provider",
        list[str] | None,
        ("--prefer-provider",),
        "Put this provider's LLMs first (repeat, in order; default: config.toml).",
        completers.complete_provider,
    ),
]
_FLAGS = [
    ("allow_upgrade", "--allow-upgrade/--no-allow-upgrade", "Let the chain climb to a dearer tier."),
    ("assume_available", "--assume-available", "Plan as if every provider key were set."),
]


def with_selection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Append the selection options to `func`'s signature (keyword-only)."""
    sig = inspect.signature(func, eval_str=True)
    params = [p for p in sig.parameters.values() if p.kind != inspect.Parameter.VAR_KEYWORD]
    for name, kind, names, help_text, completer in _OPTIONS:
        option = typer.Option(*names, help=help_text, show_default=False, autocompletion=completer)
        params.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[kind, option]
            )
        )
    for name, decl, help_text in _FLAGS:
        default = None if name == "allow_upgrade" else False
        kind = bool | None if default is None else bool
        params.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=default,
                annotation=Annotated[kind, typer.Option(decl, help=help_text)],
            )
        )
    func.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    return func


def selection_from(options: dict[str, Any]):
    """Build the core Selection from the option values."""
    from llmctl.selection.request import Selection, parse_props

    return Selection(
        book=options.get("book"),
        job=options.get("job"),
        group=options.get("group"),
        llm=options.get("llm"),
        props=parse_props(options.get("prop") or []),
        tier=options.get("tier"),
        strategy=options.get("strategy"),
        scope=options.get("scope"),
        allow_upgrade=options.get("allow_upgrade"),
        max_attempts=options.get("max_attempts"),
        assume_available=bool(options.get("assume_available")),
        provider=options.get("provider"),
        deployment=options.get("deployment"),
        prefer_providers=options.get("prefer_provider") or None,
    )


TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        min=0.1,
        callback=time_limit_option,
        help="Seconds an attempt may take in all (at most a day).",
    ),
]
RetriesOpt = Annotated[
    int | None, typer.Option("--retries", min=0, max=100, help="Retries per LLM (default 2).")
]
CacheOpt = Annotated[
    bool | None, typer.Option("--cache/--no-cache", help="Use the response cache (default: job, config).")
]
MaxCostOpt = Annotated[
    float | None, typer.Option("--max-cost", min=0, help="Skip LLMs whose worst case costs more (USD).")
]
SimulateOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--simulate",
        metavar="FAULT@TARGET",
        help="Send nothing: answer in process, failing as told (e.g. 503x1@openai, refused@*). Repeat.",
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option("--seed", envvar="LLMCTL_SEED", help="Seed the weighted draws between deployments."),
]
# The sending options, in the order they are shown; each is the SendOptions field of its name.
_SENDING: list[tuple[str, Any]] = [
    ("timeout", TimeoutOpt),
    ("retries", RetriesOpt),
    ("cache", CacheOpt),
    ("max_cost", MaxCostOpt),
    ("simulate", SimulateOpt),
    ("seed", SeedOpt),
]


def with_send_options(func: Callable[..., Any] | None = None, *, before: str | None = None) -> Any:
    """Add the sending options to `func`'s signature (keyword-only), last or `before` the
    parameter of that name (as `@with_send_options(before="as_json")`); their values reach
    `func`'s `**options`."""
    if func is None:
        return lambda f: with_send_options(f, before=before)
    sig = inspect.signature(func, eval_str=True)
    params = list(sig.parameters.values())
    where = next(
        (n for n, p in enumerate(params) if p.name == before or p.kind == inspect.Parameter.VAR_KEYWORD),
        len(params),
    )
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, kind in _SENDING
    ]
    params[where:where] = added
    shown = [p for p in params if p.kind != inspect.Parameter.VAR_KEYWORD]  # typer passes each by name
    func.__signature__ = sig.replace(parameters=_keyword_after(shown))  # type: ignore[attr-defined]
    return func


def _keyword_after(params: list[inspect.Parameter]) -> list[inspect.Parameter]:
    """Every parameter after the first keyword-only one made keyword-only too (a signature
    may not put a positional-or-keyword parameter after one)."""
    out, keyword = [], False
    for p in params:
        keyword = keyword or p.kind == inspect.Parameter.KEYWORD_ONLY
        if keyword and p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD:
            p = p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        out.append(p)
    return out


def send_options_from(options: dict[str, Any], **more: Any):
    """The SendOptions of the option values (`more`: a command's own, e.g. no_fallback).
    Raises UsageError for a bad value."""
    from llmctl.engine.options import SendOptions

    given = {name: options.get(name) for name, _kind in _SENDING}
    return SendOptions.of(**given, **more)
