"""The validated-content cache: validate a file once, then reuse the result until it changes.

Read-only commands (`list`, `show`, `pick`) should start about as fast as a bare Typer
app. Validating a large catalog with pydantic costs more than that budget, so a file's
validated content is cached as plain JSON, keyed by the file's identity (path, size,
mtime, ctime, inode) and llmctl's version. A changed file is validated again; an invalid
file is never cached.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from llmctl import __version__
from llmctl.errors import FileError
from llmctl.files.io import atomic_write, json_value
from llmctl.paths import ENV_NO_CACHE


def identity(path: str | os.PathLike[str]) -> tuple[int, int, int, int] | None:
    """What tells a file's content has changed without reading it: size, modification and
    change times, inode (None when it cannot be stat'ed). A changed file, whatever its size
    or time stamp, gets a new inode or change time, since llmctl and editors replace files."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def cached(
    paths: Path | Sequence[Path | None], cache_dir: Path | None, salt: str, build: Callable[[], Any]
) -> Any:
    """Return `build()`'s JSON-able result, from the cache while none of `paths` has changed.

    A path given as None stands for "no such file" and is part of the key too.
    """
    paths = [paths] if isinstance(paths, Path) else list(paths)
    if cache_dir is None or os.environ.get(ENV_NO_CACHE):
        return build()
    key: list[Any] = [__version__, salt]
    for path in paths:
        if path is None:
            key.append(None)
            continue
        seen = identity(path)
        if seen is None:
            return build()
        key.append([str(path), *seen])
    import hashlib

    name = hashlib.sha1("\0".join([salt, *map(str, paths)]).encode()).hexdigest()[:20] + ".json"
    cache_file = cache_dir / "validated" / name
    try:
        stored = json_value(cache_file.read_text(encoding="utf-8"))  # a damaged one is rebuilt
        if stored.get("key") == key:
            return stored["data"]
    except (OSError, ValueError, AttributeError):
        pass
    data = build()
    with contextlib.suppress(OSError, FileError):  # a cache that cannot be written only costs speed
        atomic_write(cache_file, json.dumps({"key": key, "data": data}, separators=(",", ":")))
    return data
