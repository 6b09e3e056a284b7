"""`catalog validate`: check whole catalog files afresh, each problem named by path and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmctl.catalog.files import CatalogFile, read_catalog_file
from llmctl.catalog.load import base_catalog_path, merge, origin_of
from llmctl.errors import FileError, where
from llmctl.paths import Home
from llmctl.prefs.config import Config, load_config
from llmctl.providers.table import unknown_provider


@dataclass
class Report:
    path: Path
    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "ok": self.ok, "entries": self.entries, "problems": self.problems}


def validate_files(home: Home, catalog_arg: Any, files: list[Path], *, overlay: bool = False) -> list[Report]:
    """Validate catalog files afresh (never from the cache); return one report per file.

    With no files: the config, the base catalog and the user catalog in use. A file
    is checked as a complete catalog, or with `overlay` as a patch of the base.
    """
    try:
        config = load_config(home)
    except FileError as exc:
        return [Report(exc.path, problems=exc.problems)]
    base_path = base_catalog_path(catalog_arg)
    if not files:
        reports = [_check(base_path, config, None)]
        user = home.user_catalog()
        if user is not None and reports[0].ok:
            reports.append(_check(user, config, base_path))
        return reports
    return [_check(path, config, base_path if overlay else None) for path in files]


def _check(path: Path, config: Config, base_path: Path | None) -> Report:
    report = Report(path)
    try:
        checked = read_catalog_file(path, extra_groups=config.extra_groups)
        report.entries = len(checked.entries)
        if base_path is None:
            if not checked.entries:
                raise FileError(path, "the catalog holds no entries")
            merge(checked, None, config, origin_of(path))
        else:
            base = read_catalog_file(base_path, extra_groups=config.extra_groups)
            merge(base, checked, config, origin_of(base_path))
    except FileError as exc:
        report.problems = exc.problems
        return report
    report.problems = _unknown_providers(checked, config)
    return report


def _unknown_providers(checked: CatalogFile, config: Config) -> list[str]:
    """A problem for each entry of the file whose provider llmctl does not know (it could
    not be sent to, and no key variable is made up for it)."""
    problems = []
    for entry in checked.entries:
        why = unknown_provider(entry["provider"], config.providers) if entry.get("provider") else None
        if why:
            problems.append(where(checked.path, checked.line(entry["id"]), entry["id"], "provider") + why)
    return problems
