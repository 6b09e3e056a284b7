"""Reading, parsing and writing llmctl's files: errors name the path and line,
writes are atomic (temporary file + rename) and serialised by a file lock."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from llmctl.errors import FileError, LlmctlError, UsageError

LOCK_TIMEOUT_SECONDS = 60.0
_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


def read_text(path: Path) -> str:
    """Return the file's text. Raises FileError when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8").removeprefix("\ufeff")  # a BOM is no content
    except FileNotFoundError:
        raise FileError(path, "no such file") from None
    except IsADirectoryError:
        raise FileError(path, "is a directory, not a file") from None
    except UnicodeDecodeError as exc:
        raise FileError(path, f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise FileError(path, f"cannot be read: {exc.strerror or exc}") from None


def read_bytes(path: Path) -> bytes:
    """Return the file's bytes. Raises FileError when it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FileError(path, "no such file") from None
    except IsADirectoryError:
        raise FileError(path, "is a directory, not a file") from None
    except OSError as exc:
        raise FileError(path, f"cannot be read: {exc.strerror or exc}") from None


YAML_SUFFIXES = (".yaml", ".yml")


def parse_text(path: Path, text: str) -> Any:
    """Parse JSON, TOML or YAML by the file's suffix (.toml is TOML, .yaml/.yml YAML,
    anything else JSON).

    Raises FileError with the line of the syntax error.
    """
    if path.suffix.lower() in YAML_SUFFIXES:
        return _parse_yaml(path, text)
    if path.suffix.lower() == ".toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            message = str(exc)
            match = _TOML_POSITION.search(message)
            line = int(match.group(1)) if match else None
            problem = _TOML_POSITION.sub("", message).strip()
            raise FileError(path, f"invalid TOML: {problem}", line=line) from None
    try:
        return json_value(text)
    except json.JSONDecodeError as exc:
        raise FileError(path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except ValueError as exc:
        raise FileError(path, f"invalid JSON: {exc}") from None


def json_value(text: str | bytes) -> Any:
    """Parse one JSON document. Raises ValueError (JSONDecodeError for a syntax error) also
    for a value nested too deeply for the parser (`[[[[...` thousands deep), which would
    otherwise be a RecursionError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _parse_yaml(path: Path, text: str) -> Any:
    """YAML as plain data (PyYAML's safe loader): dates stay strings, a key given twice and
    anchors or aliases are refused (they make a file mean what it does not show)."""
    import yaml

    try:
        return yaml.load(text, Loader=_yaml_loader())  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise FileError(path, f"invalid YAML: {problem}", line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise FileError(path, f"invalid YAML: {exc}") from None


def _yaml_loader() -> type:
    import yaml

    class Loader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                what = (
                    f"alias *{event.anchor}"
                    if isinstance(event, yaml.AliasEvent)
                    else f"anchor &{event.anchor}"
                )
                raise yaml.MarkedYAMLError(
                    problem=f"{what}: anchors and aliases are not accepted; write each value out",
                    problem_mark=event.start_mark,
                )
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen = set()
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, str | int | float | bool) and key is not None:
                    raise yaml.MarkedYAMLError(
                        problem="a key must be a name, not a list or a mapping",
                        problem_mark=key_node.start_mark,
                    )
                if key in seen:
                    raise yaml.MarkedYAMLError(
                        problem=f"key {key!r} is given twice", problem_mark=key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    # Dates stay text (`deprecation_date: 2026-01-31` is the string an entry expects).
    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Loader


def load(path: Path) -> tuple[Any, str]:
    """Read and parse a file; return (data, text)."""
    text = read_text(path)
    return parse_text(path, text), text


def key_lines(text: str, key: str) -> dict[str, list[int]]:
    """Map each string value given to `key` in JSON, TOML or YAML text to the lines it is set on
    (in YAML a value may be bare: `- id: openai/gpt-5`)."""
    quoted = r'["\']?\b' + re.escape(key) + r'["\']?\s*[:=]\s*["\']([^"\'\n]*)["\']'
    bare = (
        r"^[ \t]*(?:-[ \t]+)?" + re.escape(key) + r"[ \t]*:[ \t]+([^\s\"'#][^#\n]*?)[ \t]*(?:#.*)?$"
    )  # YAML
    pattern = re.compile(f"{quoted}|{bare}", re.MULTILINE)
    found: dict[str, list[int]] = {}
    line, pos = 1, 0
    for match in pattern.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        found.setdefault(match.group(1) or match.group(2), []).append(line)
    return found


def line_of_key(text: str, key: str) -> int | None:
    """Return the 1-based line of `key = ...` (or the `[key]` table) in TOML text."""
    match = re.search(r"^[ \t]*(?:\[\s*)?" + re.escape(key) + r"\s*[=\].]", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def line_in_table(text: str, table: str, key: str | None) -> int | None:
    """Return the line of `key` inside the TOML table `[table]` (or of the header itself)."""
    header = re.search(r"^[ \t]*\[\s*" + re.escape(table) + r"\s*\]", text, re.MULTILINE)
    if not header:
        return line_of_key(text, key) if key else None
    start = header.start()
    if key:
        match = re.compile(r"^[ \t]*" + re.escape(key) + r"\s*=", re.MULTILINE).search(text, header.end())
        next_table = re.compile(r"^[ \t]*\[", re.MULTILINE).search(text, header.end())
        if match and (not next_table or match.start() < next_table.start()):
            start = match.start()
    return text.count("\n", 0, start) + 1


def table_line(text: str, loc: list[str]) -> int | None:
    """Return the line in TOML text of the value at the key path `loc` (`["jobs", "x",
    "vars", "pov", "required"]`): inside the deepest `[table]` written out, else None."""
    parts = [p for p in loc if not p.isdigit()]  # list positions have no line of their own
    for depth in range(len(parts), 0, -1):
        table = ".".join(parts[:depth])
        if re.search(r"^[ \t]*\[\s*" + re.escape(table) + r"\s*\]", text, re.MULTILINE):
            return line_in_table(text, table, parts[depth] if depth < len(parts) else None)
    return line_of_key(text, parts[0]) if parts else None


def dump_text(path: Path, data: Any) -> str:
    """Serialise `data` as TOML, YAML or JSON by the file's suffix."""
    if path.suffix.lower() in YAML_SUFFIXES:
        import yaml

        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    if path.suffix.lower() == ".toml":
        import tomli_w

        return tomli_w.dumps(data)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically: readers see the old or the new file, never half.
    A symlinked file (dotfiles) keeps its link: the link's target is replaced.
    Raises FileError naming the path when it cannot be written."""
    import tempfile

    path = real_path(path)
    if path.is_dir():
        raise FileError(path, "is a directory, not a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise FileError(path, f"cannot be written: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise FileError(path, f"cannot be written: {exc.strerror or exc}") from None
        raise


def real_path(path: Path) -> Path:
    """The file a path names, through any symlinks (a link that points nowhere yet included)."""
    if path.is_symlink():
        return Path(os.path.realpath(path))
    return path


def no_directory(path: Path) -> None:
    """Raise FileError (exit 3) when a directory stands where one of llmctl's files belongs."""
    if path.is_dir():
        raise FileError(path, "is a directory, not a file", hint="move it away; llmctl keeps a file here")


@contextlib.contextmanager
def locked(lock_path: Path, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold llmctl's write lock: every read-modify-write of a home file happens inside it."""
    from filelock import FileLock, Timeout

    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileError(lock_path.parent, f"cannot be created: {exc.strerror or exc}") from None
    lock = FileLock(str(lock_path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise LlmctlError(
            f"another llmctl has held the lock {lock_path} for over {timeout:.0f}s", hint="try again"
        ) from None
    except OSError as exc:
        raise FileError(lock_path, f"cannot be locked: {exc.strerror or exc}") from None
    try:
        yield
    finally:
        lock.release()


def append_line(path: Path, line: str) -> None:
    """Append one line with a single write (callers hold the lock), on a line of its own
    even when the file's last line was left partial. Raises FileError when it cannot."""
    try:
        no_directory(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+b") as handle:
            handle.seek(0, os.SEEK_END)
            fresh = b""
            if handle.tell():
                handle.seek(-1, os.SEEK_END)
                fresh = b"" if handle.read(1) == b"\n" else b"\n"
            handle.write(fresh + (line.rstrip("\n") + "\n").encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise FileError(path, f"cannot be written: {exc.strerror or exc}") from None


@contextlib.contextmanager
def sole_writer(path: Path) -> Iterator[IO[str]]:
    """Open `path` for appending (made if absent, nothing cut) and hold an exclusive OS lock
    on it while the block runs, so two runs never write one output. The lock goes with the
    process: a run killed with `kill -9` leaves no stale lock behind.
    Raises UsageError (exit 2) naming the file when another holder has it, FileError when
    it cannot be opened."""
    try:
        no_directory(path)
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise FileError(path, f"cannot be written: {exc.strerror or exc}") from None
    try:
        try:
            held = not _try_lock(handle.fileno())
        except OSError as exc:
            raise FileError(path, f"cannot be locked: {exc.strerror or exc}") from None
        if held:
            raise UsageError(
                f"{path} is being written by another run",
                hint="wait for it to finish (then --resume goes on from there), or give another -o",
            )
        yield handle
    finally:
        handle.close()  # closing the file releases the lock


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock on the open file without waiting; False when it is held."""
    if sys.platform == "win32":  # lock one byte far past any content (the file stays readable)
        import msvcrt

        os.lseek(fd, 1 << 40, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # per open file: two opens in one process conflict too
    except BlockingIOError:
        return False
    return True
