"""Turn what a caller gives (book, job, group, LLM, props, tier, strategy...) into a picker
Request, checking every name and recording where each value came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llmctl.catalog.entry import CAPABILITIES, STRATEGIES, TIERS
from llmctl.catalog.load import Catalog
from llmctl.errors import UnknownNameError, UsageError, did_you_mean
from llmctl.paths import Home
from llmctl.prefs.books import Book, list_books, load_book
from llmctl.prefs.jobs import ORIGIN_JOBS_FILE, Job, get_job, load_jobs
from llmctl.prefs.scopes import check_scope
from llmctl.providers.table import provider_names
from llmctl.selection.decision import Request

KNOWN_PROPS = ("llm_id", "min_context", "prompt_tokens", "capabilities")


@dataclass
class Selection:
    """Everything `pick` needs besides the catalog: the options as given on the command line."""

    book: str | None = None
    job: Any = None  # a job name, a Job, or a class with `allowed_llm_group`
    group: str | None = None
    llm: str | None = None
    props: Mapping[str, Any] = field(default_factory=dict)
    tier: str | None = None
    strategy: str | None = None
    scope: str | None = None
    allow_upgrade: bool | None = None
    max_attempts: int | None = None
    assume_available: bool = False
    provider: str | None = None
    deployment: str | None = None  # with `llm`: only this deployment of it
    prefer_providers: tuple[str, ...] | list[str] | None = None  # None: config.toml's
    source: str = "command line"


def build_request(catalog: Catalog, home: Home, sel: Selection) -> tuple[Request, list[str]]:
    """Return the picker Request and warnings. Raises UsageError/UnknownNameError (exit 2)
    for an unknown or invalid value and FileError (exit 3) for a broken book or jobs file."""
    config = catalog.config
    warnings: list[str] = []
    req = Request(
        scope=check_scope("global" if sel.scope is None else sel.scope), assume_available=sel.assume_available
    )
    src = sel.source
    job = _resolve_job(home, catalog, sel.job)
    if job is not None:
        req.job = job
        req.group, req.tier = job.group, job.tier
        req.capabilities, req.min_context = tuple(job.capabilities), job.min_context
        req.sources["job"] = f"job {job.name} ({job.origin})"
        values = {
            "group": job.group,
            "tier": job.tier,
            "capabilities": job.capabilities,
            "min_context": job.min_context,
        }
        for name, value in values.items():
            if value:
                where = ORIGIN_JOBS_FILE if name in job.patched else job.origin
                req.sources[name] = f"job {job.name} ({where})"
    if sel.group is not None:
        _check_name("group", sel.group, config.groups)
        req.group, req.sources["group"] = sel.group, src
    if sel.tier is not None:
        _check_name("tier", sel.tier, TIERS)
        req.tier, req.sources["tier"] = sel.tier, src
    if sel.strategy is not None:
        _check_name("strategy", sel.strategy, STRATEGIES)
        req.strategy, req.sources["strategy"] = sel.strategy, src
    elif config.path and config.strategy != "quality":
        req.sources["strategy"] = f"config.toml ({config.path})"
    _apply_props(req, sel.props, src, warnings)
    if sel.llm is not None:
        req.llm, req.sources["llm"] = sel.llm, src
    req.allow_upgrade = config.allow_upgrade if sel.allow_upgrade is None else sel.allow_upgrade
    req.max_attempts = config.max_attempts if sel.max_attempts is None else sel.max_attempts
    if req.max_attempts < 1:
        raise UsageError(f"--max-attempts must be at least 1 (got {req.max_attempts})")
    _providers(req, sel, catalog)
    if sel.deployment is not None:
        _deployment(req, sel, catalog)
    if sel.book is not None:
        req.book = _load_book(home, sel.book, config.extra_groups, warnings)
    req.sources = {k: v for k, v in req.sources.items() if v}
    return req, warnings


def _providers(req: Request, sel: Selection, catalog: Catalog) -> None:
    """`--provider` and `--prefer-provider` (else config.toml's `prefer_providers`), each a
    provider llmctl knows (exit 2 with the closest names otherwise)."""
    config = catalog.config
    if sel.provider is None and not sel.prefer_providers and not config.prefer_providers:
        return  # the common case: nothing to check
    known = catalog.memo.get("provider-names")
    if known is None:
        known = catalog.memo["provider-names"] = sorted(
            {*provider_names(config.providers), *(e.provider for e in catalog)}
        )
    if sel.provider is not None:
        _check_name("provider", sel.provider, known)
        req.provider, req.sources["provider"] = sel.provider, sel.source
    if sel.prefer_providers is not None:
        prefer, source = tuple(sel.prefer_providers), sel.source
        for name in prefer:
            _check_name("provider", name, known)
    else:
        prefer, source = tuple(config.prefer_providers), f"config.toml ({config.path})"
        _check_config_providers(config, prefer, known)
    if prefer:
        req.prefer_providers = tuple(dict.fromkeys(prefer))
        req.sources["prefer_providers"] = source


def _deployment(req: Request, sel: Selection, catalog: Catalog) -> None:
    """`--deployment ID`: needs `--llm`, and one of that LLM's deployments; else exit 2."""
    if sel.llm is None:
        raise UsageError("--deployment needs --llm (the LLM whose deployment it is)")
    entry = catalog.get(sel.llm)
    ids = [d.id for d in entry.routes()]
    wanted = sel.deployment or ""
    if wanted not in ids:
        raise UnknownNameError(
            f"deployment of {entry.id}", wanted, ids, hint=f"its deployments: {', '.join(ids)}"
        )
    req.deployment, req.sources["deployment"] = (entry.id, wanted), sel.source


def _check_config_providers(config: Any, names: tuple[str, ...], known: list[str]) -> None:
    """config.toml's `prefer_providers` names known providers; else FileError (exit 3)
    naming the file and line, with the closest names."""
    from llmctl.errors import FileError
    from llmctl.files.io import line_of_key, read_text

    for name in names:
        if name not in known:
            line = line_of_key(read_text(config.path), "prefer_providers") if config.path else None
            raise FileError(
                config.path or "config.toml",
                f"unknown provider {name!r}{did_you_mean(name, known)}",
                line=line,
                field="prefer_providers",
                hint=f"providers: {', '.join(known)}",
            )


def _resolve_job(home: Home, catalog: Catalog, job: Any) -> Job | None:
    if job is None or isinstance(job, Job):
        return job
    if isinstance(job, str):
        return get_job(load_jobs(home, catalog.config), job)
    name = getattr(job, "__name__", type(job).__name__)
    group = _one_group(name, getattr(job, "allowed_llm_group", None))
    _check_name("group", group, catalog.config.groups)
    return Job(name=name, group=group, origin=f"class {name}")


def _one_group(name: str, group: Any) -> str:
    """The group a job class names: a string, or a list of one. A job has one group, which
    decides the book default it takes (seed 000: "the book's default LLM for the job's
    group"). Raises UsageError saying so for anything else."""
    if isinstance(group, list | tuple) and len(group) == 1:
        group = group[0]
    if isinstance(group, str):
        return group
    if group is None:
        raise UsageError(f"{name!r} is neither a job name nor a class with `allowed_llm_group`")
    raise UsageError(
        f"class {name}: allowed_llm_group must name one group (got {group!r}): a job's group "
        "decides which book default it takes",
        hint='name the one its LLM must be valid for, e.g. allowed_llm_group = "writer"',
    )


def _apply_props(req: Request, props: Mapping[str, Any], src: str, warnings: list[str]) -> None:
    for key, value in props.items():
        where = f"prop {key} ({src})"
        if key == "llm_id":
            req.llm, req.sources["llm"] = str(value), where
        elif key in ("min_context", "prompt_tokens"):
            number = _positive_int(key, value)
            setattr(req, key, number)
            req.sources[key] = where
        elif key == "capabilities":
            caps = value if isinstance(value, list | tuple) else str(value).split(",")
            for cap in caps:
                _check_name("capability", cap, CAPABILITIES)
            req.capabilities = tuple(dict.fromkeys([*req.capabilities, *caps]))
            req.sources["capabilities"] = where
        else:
            hint = did_you_mean(key, KNOWN_PROPS, sep=" (")
            warnings.append(f"prop {key!r} is not used by the picker" + (f"{hint})" if hint else ""))


def _positive_int(key: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"prop {key} must be a whole number (got {value!r})") from None
    if number <= 0:
        raise UsageError(f"prop {key} must be positive (got {number})")
    return number


def _check_name(kind: str, value: str, known: tuple[str, ...] | list[str]) -> None:
    if value not in known:
        raise UnknownNameError(kind, value, known, hint=f"valid: {', '.join(known)}")


def _load_book(home: Home, name: str, groups: tuple[str, ...], warnings: list[str]) -> Book:
    book = load_book(home, name, groups)
    if not book.exists:
        warnings.append(f"book {name!r} has no preferences file{did_you_mean(name, list_books(home))}")
    return book


def parse_props(items: list[str]) -> dict[str, str]:
    """Parse `--prop K=V` items. Raises UsageError for one without '='."""
    props = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--prop needs KEY=VALUE, got {item!r}")
        props[key.strip()] = value
    return props
