"""Books: safe names, locked writes, corrupt files."""

from __future__ import annotations

import pytest

from llmctl.catalog.load import load_catalog
from llmctl.errors import FileError, UnknownNameError, UsageError
from llmctl.prefs.books import change_book, check_book_name, list_books, load_book


@pytest.mark.parametrize(
    "name", ["../x", "a/b", "", "a\x00b", "tab\there", "x" * 101, "..", ".hidden", "a\\b"]
)
def test_unsafe_book_names_are_refused(h, name, tmp_path):
    with pytest.raises(UsageError):
        check_book_name(name)
    with pytest.raises(UsageError):
        change_book(h, load_catalog(h), name, "book default set", group="writer", llm="gpt4o")
    with pytest.raises(UsageError):
        load_book(h, name)
    assert not list(tmp_path.rglob("*.toml"))  # nothing written, inside books/ or outside


def test_safe_names_are_accepted():
    for name in ("moby", "moby-dick_2.vol1", "A1"):
        assert check_book_name(name) == name


def test_set_and_clear_defaults_and_override(h):
    catalog = load_catalog(h)
    change = change_book(h, catalog, "moby", "book default set", group="writer", llm="gpt4o")
    assert change.before == {"book": "moby", "override": None, "defaults": {}}
    assert change.after["defaults"] == {"writer": "openai/gpt-4o"}  # aliases stored as ids
    change_book(h, catalog, "moby", "book override set", override="opus")
    book = load_book(h, "moby")
    assert (book.override, book.defaults, book.exists) == (
        "anthropic/claude-opus-4.8",
        {"writer": "openai/gpt-4o"},
        True,
    )
    change_book(h, catalog, "moby", "book default clear", group="writer", clear=True)
    change_book(h, catalog, "moby", "book override clear", clear=True)
    assert load_book(h, "moby").to_dict() == {"book": "moby", "override": None, "defaults": {}}
    assert list_books(h) == ["moby"]


def test_book_llm_checks(h):
    catalog = load_catalog(h)
    with pytest.raises(UsageError, match="not valid for group 'writer'"):
        change_book(h, catalog, "moby", "x", group="writer", llm="openai/text-embedding-3-small")
    with pytest.raises(UsageError, match="not valid for group 'override'"):
        change_book(h, catalog, "moby", "x", override="gpt35")
    with pytest.raises(UsageError, match="disabled"):
        change_book(h, catalog, "moby", "x", group="writer", llm="anthropic/claude-3-opus")
    with pytest.raises(UnknownNameError):
        change_book(h, catalog, "moby", "x", group="writter", llm="gpt4o")
    with pytest.raises(UnknownNameError):
        change_book(h, catalog, "moby", "x", group="writer", llm="gpt-4oo")
    assert not (h.books_dir / "moby.toml").exists()


def test_corrupt_book_is_reported_left_alone_and_others_still_work(h):
    catalog = load_catalog(h)
    change_book(h, catalog, "good", "x", group="writer", llm="gpt4o")
    h.books_dir.mkdir(parents=True, exist_ok=True)
    bad = "[defaults]\nwriter = \n"
    (h.books_dir / "bad.toml").write_text(bad)
    with pytest.raises(FileError) as info:
        load_book(h, "bad")
    assert info.value.line == 2 and "bad.toml" in info.value.message
    with pytest.raises(FileError):
        change_book(h, catalog, "bad", "x", group="writer", llm="gpt4o")
    assert (h.books_dir / "bad.toml").read_text() == bad
    assert load_book(h, "good").defaults == {"writer": "openai/gpt-4o"}


def test_book_with_unknown_group_or_field(h):
    h.books_dir.mkdir(parents=True)
    (h.books_dir / "b.toml").write_text('override = "x"\n[defaults]\nwriter = "a"\npoet = "b"\n')
    with pytest.raises(FileError) as info:
        load_book(h, "b")
    assert "unknown group 'poet'" in info.value.message and info.value.line == 2
    (h.books_dir / "c.toml").write_text('overide = "x"\n')
    with pytest.raises(FileError, match="did you mean 'override'"):
        load_book(h, "c")
