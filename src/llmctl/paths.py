"""Where llmctl's files live, and the names of the environment variables it reads.

One variable isolates everything: `LLMCTL_HOME` (or `--home`). Without it, config
lives in the platform's user config dir and usage/state in the user data dir.
Nothing here touches the file system at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "llmctl"

ENV_HOME = "LLMCTL_HOME"
ENV_CATALOG = "LLMCTL_CATALOG"
ENV_DEBUG = "LLMCTL_DEBUG"
ENV_NO_CACHE = "LLMCTL_NO_CACHE"

USER_CATALOG_NAMES = ("catalog.toml", "catalog.json")


def bundled_catalog_path() -> Path:
    """Return the bundled catalog: inside the installed package, or the source checkout's."""
    here = Path(__file__).resolve().parent
    packaged = here / "catalog" / "llms.json"
    if packaged.is_file():
        return packaged
    return here.parents[1] / "catalog" / "llms.json"


@dataclass(frozen=True)
class Home:
    """The directories llmctl reads and writes, resolved once per invocation."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> Home:
        """Return the home given, else `$LLMCTL_HOME`, else the platform's user dirs."""
        chosen = home if home not in (None, "") else os.environ.get(ENV_HOME) or None
        if chosen is not None:
            root = Path(chosen).expanduser().absolute()
            return cls(config_dir=root, data_dir=root, cache_dir=root / "cache")
        import platformdirs

        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        )

    def user_catalog(self) -> Path | None:
        """Return the user's catalog file if one exists. Raises FileError when both
        catalog.toml and catalog.json exist: one of them would silently be ignored."""
        from llmctl.errors import FileError

        found = [self.config_dir / name for name in USER_CATALOG_NAMES if (self.config_dir / name).exists()]
        for path in found:
            if path.is_dir():
                raise FileError(
                    path, "is a directory, not a file", hint="move it away; llmctl keeps a file here"
                )
        if len(found) > 1:
            raise FileError(
                found[1],
                f"both {found[0].name} and {found[1].name} exist in {self.config_dir}",
                hint="keep one user catalog: merge the other into it and remove it",
            )
        return found[0] if found else None

    def user_catalog_for_writing(self) -> Path:
        """Return the user catalog file to write: the existing one, else `catalog.toml`."""
        return self.user_catalog() or self.config_dir / USER_CATALOG_NAMES[0]

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def jobs_file(self) -> Path:
        return self.config_dir / "jobs.toml"

    @property
    def books_dir(self) -> Path:
        return self.config_dir / "books"

    @property
    def audit_file(self) -> Path:
        return self.data_dir / "audit.jsonl"

    @property
    def lock_file(self) -> Path:
        return self.config_dir / ".llmctl.lock"
