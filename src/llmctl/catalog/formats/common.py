"""The rules every import applies, written once: prices, limits, dates, providers, the
provider-side model name, and the count of what happened to every row.

Every hygiene rule is counted, by rule, in `Imported.skipped` (rows not imported) or
`Imported.fixed` (rows imported after a correction), so the summary says what happened
to every row:
- a price is per million tokens, never negative; cache and above-200k prices are kept
  where the source gives them;
- a limit written as a whole-number float is an integer;
- an expiry after 2090 is a placeholder, not a deprecation;
- a provider llmctl cannot send to is imported disabled, the reason in its description,
  never with an invented key;
- a router pseudo-model (OpenRouter's `openrouter/*`, whichever file lists it) is no model;
- a source changes only what it describes: `Imported.stated` names, per entry, the
  capabilities its row states (yes or no); the others are kept on an existing entry;
- an entry that would not pass the catalog's validation is not imported.

A file whose structure is wrong (not a row that is odd, but the shape the rows sit in) is
refused whole with `structure_error`, naming the place: nothing of it is imported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmctl.catalog.entry import default_model
from llmctl.catalog.files import EntryInvalid, validate_entry
from llmctl.errors import FileError

PLACEHOLDER_YEAR = "2090"  # an expiry after this is a placeholder ("2098-12-31")


@dataclass
class Imported:
    """Entries read from a file, what was skipped and what was corrected (rule -> count)."""

    format: str
    entries: list[dict[str, Any]]
    skipped: dict[str, int] = field(default_factory=dict)
    fixed: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set, repr=False)
    # id -> the capabilities the source's row states, yes or no (absent: it states them all);
    # the others an import keeps as the entry has them.
    stated: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    # Fields the source only fills in where an entry has none (LiteLLM's input limit as the
    # context window).
    fill_only: frozenset[str] = frozenset()

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def fix(self, rule: str) -> None:
        self.fixed[rule] = self.fixed.get(rule, 0) + 1

    def first(self, llm_id: str) -> bool:
        """True the first time an id is seen; a repeat is skipped and counted."""
        if llm_id in self.seen:
            self.skip("duplicate id")
            return False
        self.seen.add(llm_id)
        return True


# --- prices ---------------------------------------------------------------------------------------


def number(value: Any) -> float | None:
    """A number, or a string holding one; None otherwise (booleans are not numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def per_million(value: Any) -> float | None:
    """Price per token (number or string) to USD per million tokens; None when unknown."""
    price = number(value)
    return None if price is None or price < 0 else round(price * 1_000_000, 6)


def set_prices(
    entry: dict[str, Any],
    source: Mapping[str, Any],
    fields: Iterable[tuple[str, str]],
    convert: Callable[[Any], float | None],
) -> None:
    """Set each (llmctl field, source key) price the source gives, through `convert`
    (to USD per million tokens); a price the source does not give stays unset."""
    for name, key in fields:
        value = convert(source.get(key))
        if value is not None:
            entry[name] = value


# --- limits ---------------------------------------------------------------------------------------


def whole(value: Any, out: Imported) -> int | None:
    """A positive limit as an integer: `2000000.0` is 2,000,000 (counted); anything else unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer() and value > 0:
        out.fix("whole-number float limit read as an integer")
        return int(value)
    return value if isinstance(value, int) and value > 0 else None


def set_limit(entry: dict[str, Any], name: str, value: Any, out: Imported) -> bool:
    """Set the limit `name` (context_length, max_output_tokens) when `value` is one;
    returns whether it was set."""
    limit = whole(value, out)
    if limit is not None:
        entry[name] = limit
    return limit is not None


# --- dates ----------------------------------------------------------------------------------------


def deprecate(entry: dict[str, Any], date: Any, out: Imported) -> None:
    """An expiry or deprecation date: a deprecation with that date, unless it is a
    placeholder (after 2090, counted)."""
    if not isinstance(date, str) or not re.match(r"^\d{4}-\d{2}-\d{2}", date):
        if date not in (None, ""):
            entry["deprecation_date"] = date  # left for validation to name
            entry["deprecated"] = True
        return
    if date[:4] > PLACEHOLDER_YEAR:
        out.fix("placeholder expiry (after 2090) ignored")
        return
    entry["deprecated"] = True
    entry["deprecation_date"] = date[:10]


# --- providers and models -------------------------------------------------------------------------


def sendable_names(names: Iterable[str] | None) -> set[str]:
    """The providers llmctl can send to: those given, else the built-in ones."""
    if names is None:
        from llmctl.providers.table import provider_names

        names = provider_names()
    return set(names)


def unsendable(
    entry: dict[str, Any], provider: str, source: str, out: Imported, reason: str | None = None
) -> None:
    """A provider llmctl cannot send to: imported disabled, saying why (no invented key)."""
    entry["enabled"] = False
    reason = reason or (
        f"llmctl cannot send to provider {provider!r} (from {source}); declare "
        f"[providers.{provider}] in config.toml, then enable this entry"
    )
    entry["description"] = reason if "description" not in entry else f"{reason}. {entry['description']}"
    out.fix("imported disabled: a provider llmctl cannot send to")


def set_model(entry: dict[str, Any], model: Any) -> None:
    """Write the provider-side model name only where it is not the one the id implies
    (without a provider, always)."""
    if model is None:
        return
    provider = entry.get("provider")
    if not isinstance(provider, str) or default_model(entry["id"], provider) != model:
        entry["model"] = model


def capabilities(flags: Mapping[str, Any], mapping: Mapping[str, str]) -> list[str]:
    """The capabilities whose source flag (mapping: flag -> capability) is set, in mapping order."""
    return [cap for key, cap in mapping.items() if flags.get(key)]


def stated(flags: Mapping[str, Any], mapping: Mapping[str, str]) -> set[str]:
    """The capabilities whose source flag is there at all (true or false): those the row
    states. A flag the row leaves out says nothing."""
    return {cap for key, cap in mapping.items() if flags.get(key) is not None}


def is_router(provider: str, model: str) -> bool:
    """A router pseudo-model (OpenRouter's `openrouter/auto`, listed by OpenRouter or by
    LiteLLM as `openrouter/openrouter/auto`): it picks a model, it is none."""
    return provider == "openrouter" and model.startswith("openrouter/")


def embedding(entry: dict[str, Any], out: Imported, reason: str) -> None:
    """Make `entry` an embedding model: `embeddings` only, no chat groups, no output cap (it
    answers with a vector). Counted under `reason`."""
    entry.pop("max_output_tokens", None)
    entry["capabilities"] = ["embeddings"]
    entry["valid_groups"] = []
    out.fix(reason)


def structure_error(path: Path | str, place: str, problem: str) -> FileError:
    """The error of a file whose structure is wrong at `place` (`providers.acme.models`):
    exit 3, nothing imported."""
    return FileError(
        path,
        f"{place}: {problem}; nothing was imported",
        hint="the file is damaged or not in the format named",
    )


# --- what is kept ---------------------------------------------------------------------------------


def known_providers(imported: Imported, sendable: Iterable[str] | None) -> Imported:
    """Drop the entries naming a provider llmctl cannot send to (neither built in nor
    declared in config.toml), counting them: no entry is written that `catalog validate`
    would refuse. Returns `imported`, changed."""
    names = sendable_names(sendable)
    kept = []
    for entry in imported.entries:
        if entry.get("provider", entry.get("router")) in (None, *names):
            kept.append(entry)
        else:
            imported.skip("unknown provider")
    imported.entries = kept
    return imported


def keep_valid(imported: Imported) -> Imported:
    """Drop the entries that would not pass the catalog's validation, counting why.
    Returns `imported`, changed."""
    kept = []
    for entry in imported.entries:
        try:
            validate_entry(entry)
        except EntryInvalid as exc:
            imported.skip(f"invalid {exc.problems[0][0] or 'entry'}")
            continue
        kept.append(entry)
    imported.entries = kept
    return imported
