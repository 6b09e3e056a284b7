"""`llmctl book list|show|default|override`: a book's preferences, set and cleared."""

from __future__ import annotations

import json

import pytest

from conftest import entry

pytestmark = pytest.mark.team(
    [
        entry("acme/a", valid_groups=["writer", "override"]),
        entry("acme/old", deprecated=True, deprecation_date="2031-06-30", replacement="acme/a"),
    ],
    keys={},
)


def test_default_set_prints_the_book_and_an_unchanged_set_says_so(cli, team):
    assert cli("book", "default", "set", "moby", "writer", "acme/a").stdout == (
        "book moby: override -; defaults writer=acme/a\n"
    )
    again = cli("book", "default", "set", "moby", "writer", "acme/a")
    assert again.stdout == "" and again.stderr == "llmctl: nothing changed\n"
    cleared = json.loads(cli("book", "default", "clear", "moby", "writer", "--json").stdout)
    assert cleared["defaults"] == {} and cleared["book"] == "moby"


def test_a_deprecated_llm_is_set_with_a_warning_naming_its_replacement(cli, team):
    result = cli("book", "default", "set", "moby", "writer", "acme/old")
    assert result.exit_code == 0
    assert (
        result.stderr
        == "llmctl: warning: acme/old is deprecated and retires on 2031-06-30; its replacement is acme/a\n"
    )


def test_override_set_and_clear(cli, team):
    assert (
        json.loads(cli("book", "override", "set", "moby", "acme/a", "--json").stdout)["override"] == "acme/a"
    )
    assert cli("book", "override", "clear", "moby").stdout == "book moby: override -; defaults -\n"


def test_list_shows_the_good_books_and_names_a_broken_one_with_exit_3(cli, team):
    cli("book", "default", "set", "moby", "writer", "acme/a")
    (team / "books" / "broken.toml").write_text("override = [\n")
    result = cli("book", "list", "--json")
    assert result.exit_code == 3
    assert [b["book"] for b in json.loads(result.stdout)] == ["moby"]
    assert result.stderr.startswith(f"llmctl: error: {team / 'books' / 'broken.toml'}")


def test_show_of_a_book_without_a_file_says_so(cli, team):
    shown = cli("book", "show", "ahab")
    assert shown.exit_code == 0 and "llmctl: book 'ahab' has no preferences yet" in shown.stderr
    assert shown.stdout.splitlines()[0].split() == ["book", "ahab"]
