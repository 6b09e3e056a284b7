"""The Python API of the seeds: `select_llm_for_job`, `get_llm`, and `decide`; and of jobs
that carry their work: `run_job` and `arun_job`.

The CLI calls the same functions, so both apply one implementation of the rules. The
entries these return can send (`get_llm().invoke(text).content`, seed 002).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from llmctl.catalog.entry import LLM
from llmctl.catalog.load import Catalog, load_catalog
from llmctl.engine.hooks import decide_now
from llmctl.errors import NoMatchError, UsageError
from llmctl.paths import Home
from llmctl.selection.decision import Decision
from llmctl.selection.request import Selection


def decide(
    selection: Selection,
    *,
    catalog: Catalog | None = None,
    home: Home | None = None,
    explain: bool = False,
    env: Mapping[str, str] | None = None,
) -> tuple[Decision, list[str]]:
    """Return the picker's Decision for `selection` and the warnings raised on the way,
    with the cooldown state and (for `fastest`) observed latencies taken into account.

    Raises UnknownNameError/UsageError (exit 2) for bad names, FileError (exit 3) for
    broken files, NoMatchError (exit 4) when no LLM fits.
    """
    home = home or Home.resolve()
    catalog = catalog or load_catalog(home)
    return decide_now(home, catalog, selection, explain=explain, env=env)


def effective_choices(
    book: str, *, catalog: Catalog, home: Home, assume_available: bool = False, notes: list[str] | None = None
) -> dict[str, str | None]:
    """The LLM each group (but `override`) would get now in `book`; None when nothing fits.
    `notes` receives why the book's own choices were passed over, once each."""
    out: dict[str, str | None] = {}
    for group in catalog.config.groups:
        if group == "override":
            continue
        try:
            decision, warnings = decide(
                Selection(book=book, group=group, assume_available=assume_available),
                catalog=catalog,
                home=home,
            )
            out[group] = decision.llm.id
        except NoMatchError as exc:
            out[group] = None
            warnings = exc.decision.warnings if exc.decision is not None else []
        if notes is not None:
            notes.extend(w for w in warnings if w not in notes and "has no preferences file" not in w)
    return out


def book_report(book: str, *, catalog: Catalog, home: Home, assume_available: bool = False) -> dict[str, Any]:
    """The `book show --json` object: the book's preferences, whether its file exists, its
    path, the LLM each group would get now (`effective`) and why any of the book's own
    choices was passed over (`notes`).

    Raises UsageError for an unsafe name, FileError for a book file with problems."""
    from llmctl.prefs.books import load_book

    prefs = load_book(home, book, catalog.config.extra_groups)
    notes: list[str] = []
    effective = effective_choices(
        book, catalog=catalog, home=home, assume_available=assume_available, notes=notes
    )
    return {
        **prefs.to_dict(),
        "exists": prefs.exists,
        "effective": effective,
        "notes": notes,
        "path": str(prefs.path),
    }


def select_llm_for_job(
    job: Any,
    book: Any = None,
    job_props: Mapping[str, Any] | None = None,
    *,
    catalog: Catalog | None = None,
    home: Home | str | os.PathLike[str] | None = None,
    **options: Any,
) -> LLM:
    """Return the LLM entry a job gets in a book (seed 000); use `.id` in your call.

    `job` is a job name or a class with `allowed_llm_group`; `book` a book id (or None);
    `job_props` may name an LLM with `llm_id`. Options: tier, strategy, allow_upgrade,
    max_attempts, assume_available. Warns (LlmctlWarning) when a named LLM is skipped, and
    why. Raises NoMatchError when nothing fits.
    """
    home = home if isinstance(home, Home) else Home.resolve(home)
    book_name = getattr(book, "id", book)
    selection = Selection(
        book=None if book_name is None else str(book_name),
        job=job,
        props=dict(job_props or {}),
        source="job props",
        **options,
    )
    decision, warnings = decide(selection, catalog=catalog, home=home)
    _warn(warnings)
    return _sendable(decision.llm)


def get_llm(
    llm_id: str | None = None,
    *,
    scope: str = "global",
    catalog: Catalog | None = None,
    home: Home | str | os.PathLike[str] | None = None,
    assume_available: bool = False,
) -> LLM:
    """Return the entry to use (seed 002).

    With `llm_id`: that entry (an id or alias), whether or not its key is set now; the
    client checks the key when it sends. Without: the scope's default, else the enabled
    LLM of lowest priority whose key is set. Raises UnknownNameError for an unknown id,
    UsageError for a disabled or retired one and NoMatchError when nothing is usable.
    """
    home = home if isinstance(home, Home) else Home.resolve(home)
    catalog = catalog or load_catalog(home)
    if llm_id is not None:
        entry = catalog.get(llm_id)
        if not entry.enabled or entry.retired(catalog.today):
            state = "disabled" if not entry.enabled else f"retired since {entry.deprecation_date}"
            raise UsageError(
                f"{entry.id} is {state}", hint=f"use {entry.replacement}" if entry.replacement else None
            )
        return _sendable(entry)
    selection = Selection(scope=scope, assume_available=assume_available, source="get_llm()")
    decision, warnings = decide(selection, catalog=catalog, home=home)
    _warn(warnings)
    return _sendable(decision.llm)


def get_llm_by_provider(
    provider: str,
    *,
    scope: str = "global",
    catalog: Catalog | None = None,
    home: Home | str | os.PathLike[str] | None = None,
    assume_available: bool = False,
) -> LLM:
    """The entry to use from one provider (seed 002): the scope's default when that provider
    serves it, else the provider's enabled LLM of lowest priority whose key is set.
    Raises UnknownNameError for an unknown provider, NoMatchError when it has no usable LLM."""
    home = home if isinstance(home, Home) else Home.resolve(home)
    selection = Selection(
        scope=scope, provider=provider, assume_available=assume_available, source="get_llm_by_provider()"
    )
    decision, warnings = decide(selection, catalog=catalog, home=home)
    _warn([w for w in warnings if not w.startswith("scope default")])
    return _sendable(decision.llm)


def _warn(messages: list[str]) -> None:
    """The Python API says when a named LLM was skipped (and why) with an LlmctlWarning."""
    import warnings

    from llmctl.errors import LlmctlWarning

    for message in messages:
        warnings.warn(LlmctlWarning(message), stacklevel=3)


def _sendable(entry: LLM) -> LLM:
    """The entry, able to send: `.invoke(text).content` (seed 002). The client is imported
    only here, so that picking loads nothing of the sending side."""
    from llmctl.client import SendableLLM

    return SendableLLM.of(entry)


# --- jobs that carry their work -------------------------------------------------------------------

SEND_FIELDS = ("retries", "timeout", "max_cost", "cache", "no_fallback", "simulate")
PARAM_FIELDS = ("temperature", "max_tokens")
SELECTION_FIELDS = ("group", "llm", "tier", "strategy", "scope", "allow_upgrade", "max_attempts", "provider")


def run_job(
    job: str,
    *,
    book: str | None = None,
    vars: Mapping[str, Any] | None = None,
    input: str | None = None,
    home: Home | str | os.PathLike[str] | None = None,
    catalog: Catalog | None = None,
    **options: Any,
) -> Any:
    """Render `job`'s work for `input` with `vars` (over the book's values, over the job's
    defaults), pick its LLM, send with fallback and return the `Response` (with `data`, the
    parsed answer, for a job whose output is JSON).

    `options`: `temperature` and `max_tokens` (over the job's params), the sending options
    (retries, timeout, max_cost, cache, no_fallback, simulate) and the selection's (llm,
    tier, strategy, scope...). Raises UsageError (a bad option, a variable missing or
    unknown, a template error), FileError, NoMatchError, AllFailedError."""
    from llmctl.client import Response

    call = _JobCall.of(job, book, vars, input, home, catalog, options)
    try:
        return call.response(Response.of(call.sender.execute(call.plan, call.req, call.sending)))
    finally:
        call.sender.close()


async def arun_job(
    job: str,
    *,
    book: str | None = None,
    vars: Mapping[str, Any] | None = None,
    input: str | None = None,
    home: Home | str | os.PathLike[str] | None = None,
    catalog: Catalog | None = None,
    **options: Any,
) -> Any:
    """`run_job` as a native coroutine (the engine's async pool, closed when it returns)."""
    from llmctl.client import Response

    call = _JobCall.of(job, book, vars, input, home, catalog, options)
    try:
        return call.response(Response.of(await call.sender.aexecute(call.plan, call.req, call.sending)))
    finally:
        if call.sender.apool is not None:
            await call.sender.apool.aclose()
        call.sender.close()


class _JobCall:
    """One job's request, planned: the sender, the plan, the request and the options."""

    def __init__(self, sender: Any, plan: Any, req: Any, sending: Any) -> None:
        self.sender, self.plan, self.req, self.sending = sender, plan, req, sending

    def response(self, response: Any) -> Any:
        """`response`, its JSON answer parsed into `data` when the job asked for JSON (the
        router has checked it already)."""
        if self.req.wants_json:
            from llmctl.compose.schema import parse_answer

            response.data = parse_answer(response.text, self.req.schema)
        return response

    @classmethod
    def of(
        cls, job: str, book: Any, vars: Any, input: Any, home: Any, catalog: Any, options: dict
    ) -> _JobCall:
        from llmctl.compose.api import render_named
        from llmctl.compose.render import chat_request
        from llmctl.engine.options import SendOptions
        from llmctl.engine.sender import Sender
        from llmctl.errors import did_you_mean

        known = (*SEND_FIELDS, *PARAM_FIELDS, *SELECTION_FIELDS)
        for name in options:
            if name not in known:
                raise UsageError(f"run_job: unknown option {name!r}{did_you_mean(name, known)}")
        home = home if isinstance(home, Home) else Home.resolve(home)
        params = {name: options.get(name) for name in PARAM_FIELDS}
        rendered = render_named(job, book=book, given=vars, input=input or "", params=params, home=home)
        req = chat_request(rendered)
        sending = SendOptions.of(**{name: options.get(name) for name in SEND_FIELDS})
        chosen = {name: options[name] for name in SELECTION_FIELDS if options.get(name) is not None}
        if req.wants_json:  # only LLMs that can answer in JSON
            chosen["props"] = {"capabilities": ["json"]}
        selection = Selection(book=book, job=job, source="run_job()", **chosen)
        from llmctl.engine.http import shared_client

        client = None if sending.simulate else shared_client()  # the process's pool, as the seeds'
        sender = Sender.create(home, catalog, simulate=sending.simulate, client=client)
        try:
            plan = sender.plan(selection, req, no_fallback=sending.no_fallback)
        except BaseException:
            sender.close()
            raise
        plan.template_hash = rendered.template_hash
        return cls(sender, plan, req, sending)
