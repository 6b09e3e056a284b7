"""Rewrite a TOML file the user wrote so that it holds new data, keeping its comments and layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmctl.files.io import dump_text, read_text


def dump_update(path: Path, data: Any) -> str:
    """The text that makes `path` hold `data`. An existing TOML file is edited in place, so
    the user's comments and layout survive; anything else is written fresh."""
    if path.suffix.lower() != ".toml" or not path.is_file():
        return dump_text(path, data)
    text = read_text(path)
    if "#" not in text:  # no comments to keep: the fast writer will do (tomlkit is slow on big files)
        return dump_text(path, data)
    import tomlkit

    try:
        doc = tomlkit.parse(text)
    except Exception:  # noqa: BLE001 - callers have parsed the file already; fall back to a fresh dump
        return dump_text(path, data)
    _sync_table(doc, data)
    return tomlkit.dumps(doc)


def _plain(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item


def _sync_table(table: Any, data: dict[str, Any]) -> None:
    """Make a tomlkit table hold `data`, touching only the keys whose values differ."""
    for key in [k for k in table if k not in data]:
        del table[key]
    for key, value in data.items():
        current = table.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _sync_table(current, value)
        elif _is_table_array(current, value):
            _sync_array(current, value)
        elif current is None or _plain(current) != value:
            table[key] = value


def _is_table_array(current: Any, value: Any) -> bool:
    from tomlkit.items import AoT

    return (
        isinstance(current, AoT)
        and isinstance(value, list)
        and all(isinstance(v, dict) and "id" in v for v in value)
    )


def _sync_array(array: Any, items: list[dict[str, Any]]) -> None:
    """An array of tables keyed by `id`: edit the tables kept, drop the others, append new ones."""
    wanted = {item["id"] for item in items}
    for index in reversed(range(len(array))):
        if array[index].get("id") not in wanted:
            del array[index]
    by_id = {table.get("id"): table for table in array}
    for item in items:
        if item["id"] in by_id:
            _sync_table(by_id[item["id"]], item)
        else:
            array.append(item)
