"""llmctl's own catalog format (JSON, TOML or YAML), read as `catalog import` reads it:
validated like any catalog file, keeping only the entries of providers llmctl can send to."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from llmctl.catalog.files import read_catalog_file
from llmctl.catalog.formats.common import Imported, known_providers
from llmctl.catalog.formats.seed import records_of


def detect(data: Any) -> bool:
    """Whether parsed `data` is a list of entries (checked after the seeds' records, which
    are lists of entries too)."""
    return records_of(data) is not None


def from_llmctl(path: Path, sendable: Iterable[str] | None, *, cache_dir: Path | None = None) -> Imported:
    """Read an llmctl catalog file; returns its entries (those of unknown providers dropped
    and counted). Raises FileError for a file that does not parse or validate; its validated
    content is cached in `cache_dir` when given."""
    imported = Imported("llmctl", read_catalog_file(path, cache_dir=cache_dir).entries)
    return known_providers(imported, sendable)
