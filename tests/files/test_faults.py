"""llmctl's own files when things go wrong: a cache that cannot be written, directories
where files belong, symlinked dotfiles, a BOM, names with a trailing newline."""

from __future__ import annotations

import json
import os

import pytest

from llmctl.files.io import atomic_write, read_text


def test_a_cache_that_cannot_be_written_only_costs_speed(cli, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "cache").write_text("a file where the cache directory belongs")
    assert cli("list", "--json").exit_code == 0
    assert cli("show", "gpt4o").exit_code == 0
    assert cli("pick", "--job", "draft_chapter", "--assume-available").exit_code == 0


@pytest.mark.parametrize(
    "name, command", [("catalog.toml", ["list"]), ("config.toml", ["list"]), ("jobs.toml", ["job", "list"])]
)
def test_a_directory_where_a_file_belongs_is_an_error_naming_it(cli, home, name, command):
    (home / name).mkdir(parents=True)
    result = cli(*command)
    assert result.exit_code == 3 and f"{home / name}: is a directory, not a file" in result.stderr


def test_a_symlinked_file_keeps_its_link(cli, home, tmp_path):
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "catalog.toml"
    real.write_text('# mine\n[[llms]]\nid = "openai/gpt-4o"\npriority = 7\n')
    home.mkdir(parents=True, exist_ok=True)
    (home / "catalog.toml").symlink_to(real)
    (home / "config.toml").symlink_to(dotfiles / "config.toml")  # a link to a file not made yet
    assert cli("edit", "gpt4o", "--priority", "3").exit_code == 0
    assert cli("default", "set", "gpt4o").exit_code == 0
    assert (home / "catalog.toml").is_symlink() and "priority = 3" in real.read_text()
    assert "# mine" in real.read_text()
    assert (home / "config.toml").is_symlink() and "gpt-4o" in (dotfiles / "config.toml").read_text()


def test_atomic_write_refuses_a_directory(tmp_path):
    from llmctl.errors import FileError

    (tmp_path / "x.json").mkdir()
    with pytest.raises(FileError, match="is a directory"):
        atomic_write(tmp_path / "x.json", "{}")


def test_a_bom_is_no_content(tmp_path, cli, home):
    path = tmp_path / "bom.toml"
    path.write_bytes('\ufeff[[llms]]\nid = "openai/gpt-4o"\npriority = 2\n'.encode())
    assert read_text(path).startswith("[[llms]]")
    home.mkdir(parents=True, exist_ok=True)
    (home / "catalog.toml").write_bytes(path.read_bytes())
    assert json.loads(cli("show", "gpt4o", "--json").stdout)["priority"] == 2


@pytest.mark.parametrize("name", ["moby\n", "moby\r", "mo\nby"])
def test_book_names_with_a_newline_are_refused(cli, home, name):
    result = cli("book", "default", "set", name, "editor", "gpt4o")
    assert result.exit_code == 2 and "unsafe book name" in result.stderr
    assert not any((home / "books").glob("*")) if (home / "books").exists() else True


def test_scopes_with_a_newline_are_refused(cli):
    result = cli("default", "set", "gpt4o", "--scope", "ci\n")
    assert result.exit_code == 2 and "invalid scope" in result.stderr


def test_symlinked_books_dir_is_followed_but_names_stay_inside(cli, home, tmp_path):
    elsewhere = tmp_path / "shared-books"
    elsewhere.mkdir()
    home.mkdir(parents=True, exist_ok=True)
    os.symlink(elsewhere, home / "books")
    assert cli("book", "default", "set", "moby", "editor", "gpt4o").exit_code == 0
    assert (elsewhere / "moby.toml").is_file()
    assert cli("book", "default", "set", "../moby", "editor", "gpt4o").exit_code == 2
