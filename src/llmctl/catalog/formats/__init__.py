"""Read other catalogs into llmctl entries: LiteLLM's price map, OpenRouter's model list,
models.dev's `api.json`, the seeds' own records, and llmctl's format (JSON, TOML or YAML).

One module per source (`litellm`, `openrouter`, `modelsdev`, `seed`, `native`) over the
rules they share (`common`: prices, limits, dates, providers, and the count of what
happened to every row); this module says which format a file is in and reads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from llmctl.catalog.formats import litellm, modelsdev, native, openrouter, seed
from llmctl.catalog.formats.common import (
    PLACEHOLDER_YEAR,
    Imported,
    deprecate,
    keep_valid,
    known_providers,
    per_million,
    unsendable,
    whole,
)
from llmctl.catalog.formats.litellm import from_litellm
from llmctl.catalog.formats.modelsdev import from_modelsdev
from llmctl.catalog.formats.openrouter import from_openrouter, openrouter_capabilities
from llmctl.catalog.formats.seed import from_seed
from llmctl.errors import FileError, UnknownNameError, UsageError
from llmctl.files.io import load

__all__ = [
    "DESCRIBED",
    "FOREIGN",
    "FORMATS",
    "PLACEHOLDER_YEAR",
    "Imported",
    "check_groups",
    "convert",
    "deprecate",
    "detect_format",
    "format_of",
    "from_litellm",
    "from_modelsdev",
    "from_openrouter",
    "from_seed",
    "keep_valid",
    "known_providers",
    "parse_download",
    "openrouter_capabilities",
    "per_million",
    "read_import",
    "unsendable",
    "whole",
]

FORMATS = ("litellm", "openrouter", "modelsdev", "seed", "llmctl")
# Formats that describe models from outside: new entries get the import's groups.
FOREIGN = ("litellm", "openrouter", "modelsdev")
DESCRIBED = {
    "litellm": "a LiteLLM price file",
    "openrouter": "an OpenRouter model list",
    "modelsdev": "a models.dev api.json",
    "seed": "a file of the seeds' LLM records",
    "llmctl": "an llmctl catalog",
}
# Formats whose reader checks the file's structure and names the place where it is wrong.
_CHECKED = ("openrouter", "modelsdev")
# Where `catalog update SOURCE` downloads each public list from.
UPDATE_URLS = {
    "openrouter": "https://openrouter.ai/api/v1/models",
    "modelsdev": "https://models.dev/api.json",
    "litellm": "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json",
}
# The order formats are recognised in: the seeds' records are lists of entries too.
_DETECTORS = (
    ("openrouter", openrouter.detect),
    ("modelsdev", modelsdev.detect),
    ("seed", seed.detect),
    ("llmctl", native.detect),
    ("litellm", litellm.detect),
)


def detect_format(data: Any) -> str | None:
    """The format of a parsed file (one of FORMATS), or None."""
    return next((fmt for fmt, looks_like in _DETECTORS if looks_like(data)), None)


def read_import(
    path: Path,
    fmt: str | None = None,
    *,
    cache_dir: Path | None = None,
    sendable: Iterable[str] | None = None,
) -> Imported:
    """Read `path` as `fmt` (detected when None); returns the valid entries and the count
    of what was skipped or fixed. Raises UnknownNameError for an unknown format, FileError
    for a file in another format or whose structure is wrong. An llmctl catalog's validated
    content is cached in `cache_dir` when given; `sendable` names the providers llmctl can
    send to (default: the built-in ones)."""
    if fmt is not None and fmt not in FORMATS:
        raise UnknownNameError("format", fmt, FORMATS)
    data, _text = load(path)
    fmt = format_of(path, data, fmt)
    if fmt == "llmctl":
        return native.from_llmctl(path, sendable, cache_dir=cache_dir)
    return convert(path, data, fmt, sendable)


def format_of(where: Path | str, data: Any, fmt: str | None) -> str:
    """The format of parsed `data`: `fmt` when it is that format, else the one detected.
    `--format seed` also reads llmctl-shaped records (seed 000's `llms.json`, with
    `router`). Raises FileError naming `where` when it is not `fmt`, or in no format."""
    found = detect_format(data)
    if fmt == "seed" and found == "llmctl":
        return fmt
    if found is None and fmt in _CHECKED:
        return fmt  # its reader names the place where the structure is wrong
    fmt = fmt or found
    if fmt is None:
        raise FileError(
            where,
            "not a catalog in a format llmctl can import",
            hint="formats: LiteLLM's model_prices_and_context_window.json, OpenRouter's "
            "/api/v1/models response, models.dev's api.json, the seeds' LLM records, or an llmctl catalog",
        )
    if found != fmt:
        actual = f" (it looks like {DESCRIBED[found]})" if found else ""
        raise FileError(where, f"this is not {DESCRIBED[fmt]}{actual}", hint="check --format")
    return fmt


def convert(where: Path | str, data: Any, fmt: str, sendable: Iterable[str] | None = None) -> Imported:
    """The entries of parsed `data` in foreign format `fmt` (not `llmctl`), the invalid ones
    dropped and counted. Raises FileError naming `where` for a wrong structure."""
    if fmt == "litellm":
        imported = from_litellm(data, sendable)
    elif fmt == "openrouter":
        imported = from_openrouter(where, data)
    elif fmt == "modelsdev":
        imported = from_modelsdev(where, data, sendable)
    else:
        imported = known_providers(from_seed(Path(where), data), sendable)
    return keep_valid(imported)


def parse_download(body: bytes, fmt: str, url: str, sendable: Iterable[str] | None = None) -> Imported:
    """The entries of a downloaded list in format `fmt`, read whole. Raises LlmctlError
    (exit 1) naming `url` when it is not JSON (a truncated download is not), not that
    format, or of a wrong structure: nothing of it is used."""
    import json

    from llmctl.errors import LlmctlError

    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LlmctlError(
            f"{url}: the download is not JSON ({exc}); nothing changed",
            hint="a download cut short is not JSON either: try again",
        ) from None
    try:
        return convert(url, data, format_of(url, data, fmt), sendable)
    except FileError as exc:
        message = exc.message if "nothing" in exc.message else f"{exc.message}; nothing changed"
        raise LlmctlError(message, hint=f"is {url} {DESCRIBED[fmt]}?") from None


def check_groups(groups: list[str], known: tuple[str, ...]) -> None:
    """Refuse an unknown or repeated `--group`: raises UnknownNameError or UsageError (exit 2)."""
    for group in groups:
        if group not in known:
            raise UnknownNameError("group", group, known)
    if not groups:
        return
    if len(set(groups)) != len(groups):
        raise UsageError("a --group is given twice")
